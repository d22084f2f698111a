"""The worker on each store: one ladder scan over many open findings, and mail delivery.

Per store: seed the read model (bench.worker_seed: N open findings, 1 % of them real
findings due a ladder step at the scan's moment, the rest rows with nothing due); time the
first scan at that moment (it climbs the due findings' ladders), then scans at the same
moment once those steps are recorded (the steady state of a worker scanning every 15
minutes), alternating with the baseline: a plain SELECT of the scan's columns for every open
row. Then mail (bench.worker_mail): the outbox rows of the first scan's reminders and
escalations, sent by MailSender to a loopback SMTP server, against raw aiosmtplib sends.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field

from sqlalchemy import Engine

from adapters.bootstrap import Lastmile
from adapters.projections.tables import findings
from adapters.worker import scan as scanning
from adapters.worker.scan import ScanReport, scan
from bench.commands import STORES, Skipped
from bench.history import SimulatedClock
from bench.projections import database_facts, system
from bench.stores import Store, StoreUnavailableError
from bench.worker_mail import MailPlan, MailRun, measure_mail
from bench.worker_seed import MOMENT, Seeded, seed

SCAN_GOAL_S = 1.0
OPEN = ("issued", "acknowledged", "rectified")
Say = Callable[[str], None]


@dataclass(frozen=True)
class WorkerPlan:
    """How many open findings, the share due a step, timed steady scans, and mail."""

    findings: int = 100_000
    due_share: float = 0.01
    scan_runs: int = 7
    mail: MailPlan = field(default_factory=MailPlan)


@dataclass(frozen=True)
class ScanRun:
    """The first scan (with steps due) and the steady scans, with their baseline."""

    first: ScanReport
    steady: tuple[ScanReport, ...]
    steady_cpu: tuple[float, ...]  # this process's CPU seconds in each steady scan
    select_seconds: tuple[float, ...]  # the plain SELECT, one per steady scan
    open_rows: int  # rows the plain SELECT returned

    @property
    def steady_median(self) -> float:
        return statistics.median(r.seconds for r in self.steady)

    @property
    def steady_cpu_median(self) -> float:
        return statistics.median(self.steady_cpu)

    @property
    def select_median(self) -> float:
        return statistics.median(self.select_seconds)

    @property
    def ratio(self) -> float:
        """Steady scan seconds per plain-SELECT second (lower is faster)."""
        return self.steady_median / self.select_median

    @property
    def climb_rate(self) -> float:
        """Findings climbed per second in the first scan, its steady part taken away."""
        climbing = self.first.seconds - self.steady_median
        return self.first.due / climbing if climbing > 0 else 0.0


@dataclass(frozen=True)
class WorkerMeasured:
    store: str
    version: str
    seeded: Seeded
    scan: ScanRun
    mail: MailRun
    database: dict[str, str]
    seconds: float
    load: tuple[float, float]


WorkerOutcome = WorkerMeasured | Skipped


def measure_all(plan: WorkerPlan, stores: list[str], say: Say) -> list[WorkerOutcome]:
    return [measure_store(name, STORES[name], plan, say) for name in stores]


def measure_store(
    name: str, open_store: Callable[[], AbstractContextManager[Store]], plan: WorkerPlan, say: Say
) -> WorkerOutcome:
    try:
        with open_store() as store:
            return measure(store, plan, lambda line: say(f"[{name}] {line}"))
    except StoreUnavailableError as error:
        say(f"[{name}] skipped: {error}")
        return Skipped(name, str(error))


def measure(store: Store, plan: WorkerPlan, say: Say) -> WorkerMeasured:
    started, load = time.perf_counter(), os.getloadavg()[0]
    clock = SimulatedClock()
    with system(store.settings, clock) as lastmile:
        seeded = seed(lastmile, clock, plan.findings, plan.due_share, say)
        clock.now = MOMENT
        before = lastmile.app.recorder.max_notification_id() or 0
        run = measure_scans(lastmile_scan(lastmile), lastmile.records, plan.scan_runs)
        say(
            f"first scan {run.first.seconds:.2f} s ({run.first.due:,} due, "
            f"{run.first.events:,} events); steady {run.steady_median:.3f} s over "
            f"{run.steady[0].candidates:,} candidates; plain SELECT {run.select_median:.3f} s"
        )
        mail = measure_mail(lastmile, before, plan.mail, say)
        database = database_facts(lastmile.records)
    return WorkerMeasured(
        store=store.name,
        version=store.version,
        seeded=seeded,
        scan=run,
        mail=mail,
        database=database,
        seconds=time.perf_counter() - started,
        load=(load, os.getloadavg()[0]),
    )


def lastmile_scan(lastmile: Lastmile) -> Callable[[], ScanReport]:
    def one() -> ScanReport:
        return scan(lastmile, MOMENT)

    def first_then_caught_up() -> ScanReport:
        report = one()
        lastmile.projections.catch_up()  # the steady scans then find the steps recorded
        return report

    return first_then_caught_up


def measure_scans(run_scan: Callable[[], ScanReport], engine: Engine, runs: int) -> ScanRun:
    """The first scan, then `runs` steady scans alternating with the plain SELECT."""
    first = _check(run_scan())
    steady: list[ScanReport] = []
    cpu: list[float] = []
    selects: list[float] = []
    open_rows = 0

    def steady_scan() -> None:
        started = time.process_time()
        steady.append(_check(run_scan(), steady=True))
        cpu.append(time.process_time() - started)

    for n in range(runs):
        if n % 2:
            steady_scan()
        open_rows, seconds = plain_select(engine)
        selects.append(seconds)
        if not n % 2:
            steady_scan()
    return ScanRun(first, tuple(steady), tuple(cpu), tuple(selects), open_rows)


def plain_select(engine: Engine) -> tuple[int, float]:
    """SELECT the scan's columns of every open row, fetched through the driver; (rows, s)."""
    columns = ", ".join(scanning._COLUMNS)  # the scan's own columns
    where = ", ".join(f"'{status}'" for status in OPEN)
    sql = f"SELECT {columns} FROM {findings.name} WHERE status IN ({where})"
    started = time.perf_counter()
    with engine.connect() as connection:
        rows = connection.exec_driver_sql(sql).fetchall()
    return len(rows), time.perf_counter() - started


def _check(report: ScanReport, *, steady: bool = False) -> ScanReport:
    if report.failures:
        raise RuntimeError(
            f"the scan failed on {len(report.failures)} findings: {report.failures[0]}"
        )
    if steady and report.due:
        raise RuntimeError(f"a steady scan found {report.due} findings due; the seed is wrong")
    return report
