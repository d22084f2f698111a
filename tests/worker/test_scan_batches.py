"""The scan climbs due findings a batch per transaction: each step still once whoever else
writes the same findings meanwhile, the counts exact, and the integrity chain unbroken."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any
from uuid import UUID

import pytest

from adapters.bootstrap import Lastmile, bootstrap
from adapters.integrity import verify_log
from adapters.settings import Settings
from adapters.worker import scan as scanning
from adapters.worker.scan import ScanReport, scan
from tests.conftest import ManualClock
from tests.support.scenario import DEPARTMENT_USER, issue_order, register_basics
from tests.worker.test_scan import overdue_moment, recorded

LADDER = {"ack-3wd", "escalation-1", "escalation-2"}  # and one overdue notice, 20 days late


@pytest.fixture
def other(settings: Settings, clock: ManualClock) -> Iterator[Lastmile]:
    """A second process on the same store: another worker, or the API."""
    system = bootstrap(settings, clock)
    yield system
    system.close()


def record_saves(lastmile: Lastmile, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The number of aggregates in each save() the application makes from now on."""
    sizes: list[int] = []
    save = lastmile.app.save

    def counting(*objs: Any, **kwargs: Any) -> Any:
        sizes.append(len(objs))
        return save(*objs, **kwargs)

    monkeypatch.setattr(lastmile.app, "save", counting)
    return sizes


def before_first_batch_save(
    lastmile: Lastmile, monkeypatch: pytest.MonkeyPatch, meanwhile: Callable[[], None]
) -> None:
    """Run `meanwhile` after the first batch has read its findings, before it saves them."""
    save = lastmile.app.save
    pending = [meanwhile]

    def interrupted(*objs: Any, **kwargs: Any) -> Any:
        if len(objs) > 1 and pending:
            pending.pop()()
        return save(*objs, **kwargs)

    monkeypatch.setattr(lastmile.app, "save", interrupted)


def assert_each_step_once(lastmile: Lastmile, findings: list[UUID]) -> None:
    for finding in findings:
        steps = recorded(lastmile, finding)
        assert max(Counter(steps).values()) == 1, steps
        assert any(step.startswith("overdue-week-") for step in steps)


def assert_chain_verifies(lastmile: Lastmile) -> None:
    report = verify_log(lastmile.app.recorder)  # type: ignore[arg-type]
    assert report.problems == []
    # Every event, though not every id: a rolled-back batch leaves a gap on PostgreSQL.
    assert report.events_checked == len(lastmile.app.recorder.select_notifications(1, 10_000))


def test_a_scan_saves_a_batch_of_findings_per_transaction(
    lastmile: Lastmile, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given seven findings overdue, and batches of three
    register_basics(lastmile.app)
    findings = issue_order(lastmile.app, count=7)
    clock.now = overdue_moment(lastmile, findings[0])
    monkeypatch.setattr(scanning, "LADDER_BATCH", 3)
    saves = record_saves(lastmile, monkeypatch)

    # When the scan runs
    report = scan(lastmile, clock.now)

    # Then three transactions record every finding's steps, and the chain covers them
    assert saves == [3, 3, 1]
    assert (report.due, report.changed, report.failures) == (7, 7, ())
    assert report.events == sum(len(recorded(lastmile, f)) for f in findings) == 7 * 4
    assert_each_step_once(lastmile, findings)
    assert all(set(recorded(lastmile, f)) >= LADDER for f in findings)
    assert_chain_verifies(lastmile)


def test_a_batch_records_each_step_once_when_others_changed_its_findings_meanwhile(
    lastmile: Lastmile, other: Lastmile, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given four findings overdue and unacknowledged
    register_basics(lastmile.app)
    climbed, signed, *untouched = findings = issue_order(lastmile.app, count=4)
    clock.now = overdue_moment(lastmile, climbed)

    # and, while the scan's batch holds them as read, another worker climbs the first and
    # the department acknowledges the second through the API
    def meanwhile() -> None:
        other.app.climb_ladder(climbed)
        other.app.acknowledge(signed, DEPARTMENT_USER, "张建国")

    before_first_batch_save(lastmile, monkeypatch, meanwhile)

    # When the scan saves its batch, it collides, and climbs each finding again
    report = scan(lastmile, clock.now)

    # Then nothing is recorded twice; the acknowledged finding gets no signing reminder
    assert_each_step_once(lastmile, findings)
    assert all(set(recorded(lastmile, f)) >= LADDER for f in [climbed, *untouched])
    assert set(recorded(lastmile, signed)) >= LADDER - {"ack-3wd"}
    assert "ack-3wd" not in recorded(lastmile, signed)
    # and the report counts what this scan recorded, not the other writers' events
    assert (report.due, report.changed, report.failures) == (4, 3, ())
    assert report.events == sum(len(recorded(lastmile, f)) for f in [signed, *untouched])
    assert_chain_verifies(lastmile)


def test_two_scans_racing_record_each_step_once(
    lastmile: Lastmile, other: Lastmile, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given eight findings overdue, and two workers about to scan them in batches of three
    register_basics(lastmile.app)
    findings = issue_order(lastmile.app, count=8)
    clock.now = overdue_moment(lastmile, findings[0])
    monkeypatch.setattr(scanning, "LADDER_BATCH", 3)
    start = threading.Barrier(2)
    reports: list[ScanReport] = []

    def run(system: Lastmile) -> None:
        start.wait()
        reports.append(scan(system, clock.now))

    # When both scan at once
    threads = [threading.Thread(target=run, args=(s,)) for s in (lastmile, other)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # Then every step is recorded once, by one or the other, and counted once
    assert len(reports) == 2
    assert all(r.failures == () for r in reports)
    assert_each_step_once(lastmile, findings)
    assert all(set(recorded(lastmile, f)) >= LADDER for f in findings)
    assert sum(r.changed for r in reports) == len(findings)
    assert sum(r.events for r in reports) == sum(len(recorded(lastmile, f)) for f in findings)
    assert_chain_verifies(lastmile)


def test_a_stop_request_ends_the_scan_between_batches(
    lastmile: Lastmile, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given five findings overdue, batches of two, and a stop request during the first batch
    register_basics(lastmile.app)
    findings = issue_order(lastmile.app, count=5)
    clock.now = overdue_moment(lastmile, findings[0])
    monkeypatch.setattr(scanning, "LADDER_BATCH", 2)
    stop = threading.Event()
    climb_ladders = lastmile.app.climb_ladders

    def stopped_during(ids: list[UUID]) -> Any:
        stop.set()
        return climb_ladders(ids)

    monkeypatch.setattr(lastmile.app, "climb_ladders", stopped_during)

    # When the scan runs, it finishes that batch and stops
    report = scan(lastmile, clock.now, stop)

    assert (report.stopped, report.due, report.changed) == (True, 5, 2)
    assert sum(bool(recorded(lastmile, f)) for f in findings) == 2

    # and the next scan (not asked to stop) climbs the rest
    assert scan(lastmile, clock.now).changed == 3
    assert_each_step_once(lastmile, findings)
