"""The ladder scan: each step once however often it runs, chosen by the read model, decided by
the aggregate, one finding's failure isolated."""

from __future__ import annotations

import logging
from collections import Counter
from datetime import date, datetime, time, timedelta
from typing import Any
from uuid import UUID

import pytest

from adapters.bootstrap import Lastmile
from adapters.worker.scan import candidate_rows, scan
from domain.calendar import CHINA_TZ, local_date
from domain.findings import Finding
from tests.conftest import ManualClock
from tests.support.scenario import (
    DEPARTMENT_USER,
    EVALUATOR,
    issue_order,
    register_basics,
    submit,
)


def recorded(lastmile: Lastmile, finding: UUID) -> list[str]:
    """The ladder's steps on a finding's trail: reminder keys and escalation levels."""
    steps = []
    for entry in lastmile.app.history(finding):
        if entry.type == "ReminderSent":
            steps.append(entry.fields["key"])
        elif entry.type == "Escalated":
            steps.append(f"escalation-{entry.fields['level']}")
    return steps


def working_moment(lastmile: Lastmile, day: date) -> datetime:
    """10:00 on the first working day from `day` on (reminders wait out rest days)."""
    return datetime.combine(lastmile.app.calendar.next_working_day(day), time(10), CHINA_TZ)


def overdue_moment(lastmile: Lastmile, finding: UUID, days: int = 20) -> datetime:
    return working_moment(lastmile, lastmile.app.finding(finding).due_on + timedelta(days=days))


def test_five_scans_at_one_moment_record_each_step_once(
    lastmile: Lastmile, clock: ManualClock
) -> None:
    register_basics(lastmile.app)
    findings = issue_order(lastmile.app)
    clock.now = overdue_moment(lastmile, findings[0])

    reports = [scan(lastmile, clock.now) for _ in range(5)]

    first, *again = reports
    assert (first.candidates, first.changed, first.failures) == (3, 3, ())
    assert all((r.changed, r.events) == (0, 0) for r in again)
    for finding in findings:
        steps = recorded(lastmile, finding)
        assert Counter(steps).most_common(1)[0][1] == 1  # nothing twice
        assert {"ack-3wd", "escalation-1", "escalation-2"} <= set(steps)
        assert any(step.startswith("overdue-week-") for step in steps)
    assert first.events == sum(len(recorded(lastmile, f)) for f in findings)


def test_a_stale_read_model_cannot_cause_a_wrong_reminder(
    lastmile: Lastmile, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a finding the read model still shows unacknowledged after its acknowledgement
    # deadline, though the department has signed for it
    register_basics(lastmile.app)
    (finding,) = issue_order(lastmile.app, count=1)
    lastmile.projections.catch_up()
    lastmile.app.acknowledge(finding, DEPARTMENT_USER, "张建国")
    monkeypatch.setattr(lastmile.projections, "catch_up", lambda *a, **k: 0)
    ack_due = lastmile.app.finding(finding).acknowledge_due_on
    clock.now = working_moment(lastmile, ack_due + timedelta(days=1))

    # When the scan runs on that stale row
    report = scan(lastmile, clock.now)

    # Then the aggregate, asked again, records no "not acknowledged" reminder
    assert (report.candidates, report.due, report.events) == (1, 1, 0)
    assert recorded(lastmile, finding) == []


def test_one_finding_failing_does_not_stop_the_others(
    lastmile: Lastmile,
    clock: ManualClock,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    register_basics(lastmile.app)
    broken, *fine = issue_order(lastmile.app)
    clock.now = overdue_moment(lastmile, broken)
    record_steps = Finding.record_steps

    def failing(finding: Finding, *args: Any) -> None:
        if finding.id == broken:
            raise RuntimeError("disk on fire")
        record_steps(finding, *args)

    # The batch the findings share fails with it; the scan then climbs them one by one.
    monkeypatch.setattr(Finding, "record_steps", failing)

    with caplog.at_level(logging.ERROR, "lastmile.worker"):
        report = scan(lastmile, clock.now)

    assert [f.finding for f in report.failures] == [broken]
    assert "disk on fire" in report.failures[0].error
    assert report.changed == 2
    assert recorded(lastmile, broken) == []
    assert all(recorded(lastmile, finding) for finding in fine)
    assert any(getattr(r, "finding", None) == str(broken) for r in caplog.records)


def test_findings_with_nothing_possibly_due_are_not_read(
    lastmile: Lastmile, clock: ManualClock
) -> None:
    register_basics(lastmile.app)
    signed, closed, waiting = issue_order(lastmile.app)
    for finding in (signed, closed):
        lastmile.app.acknowledge(finding, DEPARTMENT_USER, "张建国")
    submit(lastmile.app, closed)
    lastmile.app.verify(closed, EVALUATOR, "属实")
    clock.advance(days=1)

    report = scan(lastmile, clock.now)  # the next day: acknowledged early, nothing due yet

    assert (report.candidates, report.due, report.events) == (0, 0, 0)

    clock.now = overdue_moment(lastmile, signed)
    due = {c.id for c in candidates(lastmile, clock.now)}
    assert due == {signed, waiting}  # the verified finding is never a candidate


def test_the_row_counts_overdue_days_as_the_finding_does(
    lastmile: Lastmile, clock: ManualClock
) -> None:
    # Given a finding overdue, then with the evaluator for a while, then sent back
    register_basics(lastmile.app)
    (finding,) = issue_order(lastmile.app, count=1)
    lastmile.app.acknowledge(finding, DEPARTMENT_USER, "张建国")
    clock.now = overdue_moment(lastmile, finding, days=3)
    submit(lastmile.app, finding)
    clock.advance(days=8)
    lastmile.app.reject(finding, EVALUATOR, "佐证不足")

    for days in (0, 1, 9, 40):
        at = clock.now + timedelta(days=days)
        lastmile.projections.catch_up()
        (row,) = candidates(lastmile, at)
        assert row.state.overdue_days == lastmile.app.finding(finding, at).overdue_days > 0


def candidates(lastmile: Lastmile, at: datetime) -> list:  # type: ignore[type-arg]
    lastmile.projections.catch_up()
    today = local_date(at)
    wdn = lastmile.app.calendar.working_day_number(today)
    return candidate_rows(lastmile.records, today, wdn, lastmile.app.policy.ladder)
