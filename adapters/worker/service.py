"""The worker's schedule: projections, the ladder scan, mail, the digest and a heartbeat."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler

from adapters.bootstrap import Lastmile
from adapters.worker.lock import HeldLock, WorkerLockError
from adapters.worker.mail import MailJobs
from adapters.worker.scan import scan
from adapters.worker.status import HEARTBEAT_SECONDS
from domain.application import Clock
from domain.calendar import CHINA_TZ, local_date

log = logging.getLogger("lastmile.worker")
PROJECTION_RETRY_SECONDS = 5.0


class Job:
    """One scheduled job: its fixed id, its work, its trigger, and how late it may still run."""

    def __init__(
        self, id: str, work: Callable[[], None], trigger: str, grace: float, **when: Any
    ) -> None:
        self.id, self.work, self.trigger, self.grace, self.when = id, work, trigger, grace, when


class WorkerService:
    """Runs the jobs until `stop` is set; each job's failure is logged and kept in the heartbeat."""

    def __init__(self, lastmile: Lastmile, lock: HeldLock) -> None:
        self.lastmile = lastmile
        self.lock = lock
        self.mail: MailJobs | None = lastmile.mail
        self.clock: Clock = lastmile.app.clock
        self.status = lastmile.worker_status
        self.stop = threading.Event()
        self.lost_lock: WorkerLockError | None = None

    def run(self, stop: threading.Event) -> None:
        """Start the schedule, block until `stop` is set, then stop cleanly after running jobs."""
        self.stop = stop
        self.status.started(socket.gethostname(), os.getpid())
        projector = self._start_projector()
        scheduler = self.scheduler()
        scheduler.start()
        log.info("worker started", extra={"action": "worker_started", "holder": self.lock.holder})
        stop.wait()
        log.info("worker stopping", extra={"action": "worker_stopping"})
        scheduler.shutdown(wait=True)  # lets a running job finish; the scan checks `stop` too
        projector.join(timeout=30)
        _quietly(self.status.stopped)
        log.info("worker stopped", extra={"action": "worker_stopped"})

    def scheduler(self) -> BackgroundScheduler:
        """The jobs, registered idempotently under fixed ids; not started."""
        scheduler = BackgroundScheduler(timezone=CHINA_TZ)
        for job in self.jobs():
            scheduler.add_job(
                self._job(job.id, job.work),
                job.trigger,
                id=job.id,
                name=job.id,
                replace_existing=True,
                coalesce=True,  # after downtime, one run, not one per missed interval
                max_instances=1,
                misfire_grace_time=int(max(60, job.grace)),
                **job.when,
            )
        return scheduler

    def jobs(self) -> list[Job]:
        settings = self.lastmile.settings
        every = settings.scan_minutes * 60
        jobs = [
            # Once at start, then every interval.
            Job("ladder-scan", self._scan, "interval", every, seconds=every,
                next_run_time=datetime.now(CHINA_TZ)),
            Job("heartbeat", lambda: None, "interval", HEARTBEAT_SECONDS,
                seconds=HEARTBEAT_SECONDS),
        ]  # fmt: skip
        mail = self.mail
        if mail is None:
            return jobs
        derive, every = settings.mail_derive_seconds, settings.mail_send_seconds
        jobs.append(Job("mail-derive", lambda: _logged("mail_derive", mail.derive()),
                        "interval", derive, seconds=derive))  # fmt: skip
        if (send := mail.send) is not None:
            jobs.append(Job("mail-send", lambda: _logged("mail_send", send()), "interval",
                            every, seconds=every))  # fmt: skip
        at, digest = settings.digest_time, mail.digest
        if at is not None and digest is not None:
            work = lambda: _logged("mail_digest", digest(self._today()))  # noqa: E731
            jobs.append(Job("mail-digest", work, "cron", 3600, hour=at.hour, minute=at.minute))
        return jobs

    def _scan(self) -> None:
        report = scan(self.lastmile, self.clock(), self.stop)
        self.status.scanned(report.moment, report.seconds, report.events)

    def _today(self) -> date:
        return local_date(self.clock())

    def _job(self, name: str, work: Callable[[], None]) -> Callable[[], None]:
        """Run one job: check the lock, do the work, log any error, then beat the heartbeat."""

        def run() -> None:
            started = time.perf_counter()
            try:
                self.lock.check()
                work()
            except WorkerLockError as error:
                log.error("%s", error, extra={"action": "lock_lost", "job": name})
                self.lost_lock = error
                self.stop.set()
            except Exception as error:
                log.exception(
                    "job %s failed", name, extra={"action": "job_failed", "job": name,
                    "seconds": round(time.perf_counter() - started, 3)},
                )  # fmt: skip
                _quietly(self.status.failed, name, error)
            _quietly(self.status.beat)

        return run

    def _start_projector(self) -> threading.Thread:
        """Keep the read models current between scans (NOTIFY-driven on PostgreSQL)."""

        def project() -> None:
            while not self.stop.is_set():
                try:
                    self.lastmile.projections.run_forever(self.stop)
                except Exception as error:
                    log.exception("projecting events failed", extra={"action": "project_failed"})
                    _quietly(self.status.failed, "projections", error)
                    self.stop.wait(PROJECTION_RETRY_SECONDS)

        thread = threading.Thread(target=project, name="projections", daemon=True)
        thread.start()
        return thread


def _logged(action: str, result: Any) -> None:
    log.info("%s: %s", action, result, extra={"action": action, "result": _fields(result)})


def _fields(result: Any) -> Any:
    if hasattr(result, "__dataclass_fields__"):
        return {k: getattr(result, k) for k in result.__dataclass_fields__}
    return result


def _quietly(write: Callable[..., None], *args: Any) -> None:
    """Heartbeat writes must not take a job down with them."""
    try:
        write(*args)
    except Exception:
        log.warning("cannot write the worker heartbeat", exc_info=True)
