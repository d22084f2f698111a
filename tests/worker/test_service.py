"""The worker's schedule: fixed job ids and options, a scan at start, heartbeat, clean stop."""

from __future__ import annotations

import threading
import time
from datetime import time as clock_time
from typing import Any

import pytest

from adapters.bootstrap import Lastmile
from adapters.settings import Settings, SettingsError, load_settings
from adapters.worker.lock import worker_lock
from adapters.worker.mail import MailJobs
from adapters.worker.service import WorkerService
from tests.conftest import ManualClock
from tests.support.scenario import issue_order, register_basics
from tests.worker.test_scan import overdue_moment, recorded


def test_jobs_are_registered_under_fixed_ids_with_safe_options(lastmile: Lastmile) -> None:
    lastmile.mail = MailJobs(derive=lambda: 0, send=lambda: 0, digest=lambda day: 0)

    with worker_lock(lastmile.settings) as held:
        scheduler = WorkerService(lastmile, held).scheduler()
        jobs = {job.id: job for job in scheduler.get_jobs()}

    assert set(jobs) == {"ladder-scan", "heartbeat", "mail-derive", "mail-send", "mail-digest"}
    for job in jobs.values():
        assert (job.coalesce, job.max_instances) == (True, 1)
        assert job.misfire_grace_time >= 60
    assert jobs["ladder-scan"].trigger.interval.total_seconds() == 15 * 60
    assert "hour='8', minute='30'" in str(jobs["mail-digest"].trigger)
    assert str(jobs["mail-digest"].trigger.timezone) == "Asia/Shanghai"


def test_no_digest_job_when_the_digest_time_is_empty_nor_send_without_smtp(
    lastmile: Lastmile,
) -> None:
    lastmile.settings = lastmile.settings.model_copy(update={"digest_time": None})
    lastmile.mail = MailJobs(derive=lambda: 0, send=None, digest=lambda day: 0)

    with worker_lock(lastmile.settings) as held:
        ids = {job.id for job in WorkerService(lastmile, held).scheduler().get_jobs()}

    assert ids == {"ladder-scan", "heartbeat", "mail-derive"}


def test_the_worker_scans_at_start_writes_its_heartbeat_and_stops_cleanly(
    lastmile: Lastmile, clock: ManualClock
) -> None:
    register_basics(lastmile.app)
    findings = issue_order(lastmile.app, count=2)
    clock.now = overdue_moment(lastmile, findings[0])
    failing = MailJobs(derive=_boom, send=lambda: {"sent": 0})
    lastmile.settings = lastmile.settings.model_copy(update={"mail_derive_seconds": 0.2})
    lastmile.mail = failing
    stop = threading.Event()

    with worker_lock(lastmile.settings) as held:
        service = WorkerService(lastmile, held)
        runner = threading.Thread(target=service.run, args=(stop,))
        runner.start()
        row = _wait_for(lambda: _scanned(lastmile))
        _wait_for(lambda: (lastmile.worker_status.read() or {}).get("last_error"))
        stop.set()
        runner.join(30)

    assert not runner.is_alive()
    assert all(recorded(lastmile, finding) for finding in findings)
    assert row["last_scan_events"] == sum(len(recorded(lastmile, f)) for f in findings)
    final = lastmile.worker_status.read()
    assert final is not None
    assert final["stopped_at"] is not None
    assert final["last_error"].startswith("mail-derive: RuntimeError: outbox unavailable")


def _boom() -> None:
    raise RuntimeError("outbox unavailable")


def _scanned(lastmile: Lastmile) -> dict[str, Any] | None:
    row = lastmile.worker_status.read()
    return row if row and row["last_scan_at"] else None


def _wait_for(probe: Any, timeout: float = 20) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := probe():
            return found
        time.sleep(0.05)
    raise AssertionError("timed out")


@pytest.mark.parametrize(
    ("value", "expected"),
    [("08:30", clock_time(8, 30)), ("7:05", clock_time(7, 5)), ("", None), (" ", None)],
)
def test_the_digest_time_is_a_china_time_of_day_or_empty(
    monkeypatch: pytest.MonkeyPatch, value: str, expected: clock_time | None
) -> None:
    monkeypatch.setenv("LASTMILE_DIGEST_TIME", value)

    assert Settings(_env_file=None).digest_time == expected  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("variable", "value", "complaint"),
    [
        ("LASTMILE_DIGEST_TIME", "8.30", "LASTMILE_DIGEST_TIME"),
        ("LASTMILE_DIGEST_TIME", "25:00", "is not a time of day"),
        ("LASTMILE_SCAN_MINUTES", "0", "LASTMILE_SCAN_MINUTES"),
        ("LASTMILE_MAIL_SEND_SECONDS", "soon", "LASTMILE_MAIL_SEND_SECONDS"),
    ],
)
def test_a_bad_worker_setting_is_named(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, complaint: str
) -> None:
    monkeypatch.setenv(variable, value)

    with pytest.raises(SettingsError, match=complaint):
        load_settings()


def test_worker_settings_need_no_configuration() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]

    assert (settings.scan_minutes, settings.digest_time) == (15, clock_time(8, 30))
    assert (settings.mail_derive_seconds, settings.mail_send_seconds) == (15, 30)
