"""climb_ladders: many findings' ladders in one save, each decided on its own stored state.

Findings are issued on Thu 25 Sep 2025: acknowledge by Mon 29 Sep, rectify by Mon 27 Oct.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any
from uuid import UUID, uuid4

import pytest

from domain.application import LastmileApplication
from domain.calendar import WorkingCalendar
from domain.errors import DomainError, NotFoundError
from domain.findings import Finding
from domain.policies import DeadlinePolicy
from tests.application.builders import CLERK, EVALUATOR, VERIFIER, Clock, at, draft, order
from tests.application.conftest import register_slj
from tests.application.test_ladder import ladder_trail, submit

MOMENTS = ["2025-09-30 08:00", "2025-10-21 08:00", "2025-10-28 08:00", "2025-11-12 08:00"]


def issue_five(app: LastmileApplication, clock: Clock) -> list[UUID]:
    """Unsigned; signed; submitted; sent back twice; verified (closed)."""
    clock.set("2025-09-25 09:00")
    findings = app.issue_order(EVALUATOR, order(*(draft(str(n)) for n in range(1, 6))))
    _, signed, submitted, rejected, closed = findings
    for finding in (signed, submitted, rejected, closed):
        app.acknowledge(finding, CLERK, "张三")
    submit(app, submitted)
    for reason in ("佐证不足", "仍未整改到位"):
        submit(app, rejected)
        app.reject(rejected, VERIFIER, reason)
    submit(app, closed)
    app.verify(closed, VERIFIER)
    return findings


def interrupt_first_batch_save(
    app: LastmileApplication, monkeypatch: pytest.MonkeyPatch, meanwhile: Callable[[], None]
) -> None:
    """Run `meanwhile` once, after a batch has read its findings and before it saves them."""
    save = app.save
    pending = [meanwhile]

    def interrupted(*objs: Any, **kwargs: Any) -> Any:
        if len(objs) > 1 and pending:
            pending.pop()()
        return save(*objs, **kwargs)

    monkeypatch.setattr(app, "save", interrupted)


def test_climbing_many_at_once_records_what_climbing_each_records(
    registered: LastmileApplication,
    calendar: WorkingCalendar,
    policy: DeadlinePolicy,
    clock: Clock,
) -> None:
    # Given the same five findings in two stores, one climbed one by one, one all at once
    alone = registered
    together = LastmileApplication(
        env={"PERSISTENCE_MODULE": "eventsourcing.popo"},
        calendar=calendar,
        policy=policy,
        clock=clock,
    )
    register_slj(together)
    findings = issue_five(alone, clock)
    assert issue_five(together, clock) == findings

    for moment in MOMENTS:
        # When the scheduler runs at each moment
        clock.set(moment)
        one_by_one = [alone.climb_ladder(f) for f in findings]
        climbs = together.climb_ladders(findings)

        # Then both record the same steps, and the batch counts them
        assert [c.finding for c in climbs] == findings
        assert [c.version for c in climbs] == [r.version for r in one_by_one]
        assert [c.position is None for c in climbs] == [r.position is None for r in one_by_one]
    for finding in findings:
        assert ladder_trail(together, finding) == ladder_trail(alone, finding)
    assert ladder_trail(together, findings[3])[0] == "escalation-2"  # sent back twice
    assert ladder_trail(together, findings[4]) == []  # closed: nothing is ever due


def test_climbs_count_the_events_each_finding_recorded(
    registered: LastmileApplication, clock: Clock
) -> None:
    findings = issue_five(registered, clock)
    clock.set("2025-10-28 08:00")

    climbs = registered.climb_ladders(findings)

    assert [c.events for c in climbs] == [len(ladder_trail(registered, f)) for f in findings]
    assert [c.events for c in climbs] == [3, 2, 1, 3, 0]
    assert [c.position is not None for c in climbs] == [True, True, True, True, False]


def test_a_batch_records_each_step_once_when_its_findings_changed_meanwhile(
    registered: LastmileApplication, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given three overdue, unsigned findings
    findings = registered.issue_order(EVALUATOR, order(draft("1"), draft("2"), draft("3")))
    climbed, signed, untouched = findings
    clock.set("2025-10-28 08:00")

    # and, after the batch has read them, one is climbed and one signed by other commands
    def meanwhile() -> None:
        registered.climb_ladder(climbed)
        registered.acknowledge(signed, CLERK, "张三")

    interrupt_first_batch_save(registered, monkeypatch, meanwhile)

    # When the batch saves, it collides and climbs each finding afresh
    climbs = registered.climb_ladders(findings)

    # Then nothing is recorded twice, and the signed finding gets no signing reminder
    trails = {f: ladder_trail(registered, f) for f in findings}
    assert all(max(Counter(trail).values()) == 1 for trail in trails.values())
    assert (
        trails[climbed]
        == trails[untouched]
        == [
            "ack-3wd",
            "overdue-week-0:2025-10-27",
            "escalation-1",
        ]
    )
    assert trails[signed] == ["overdue-week-0:2025-10-27", "escalation-1"]
    # and the climbs count only what the batch recorded
    assert [c.events for c in climbs] == [0, 2, 3]
    assert [c.version for c in climbs] == [registered.finding(f).version for f in findings]


def test_a_batch_with_an_unknown_finding_records_nothing(
    registered: LastmileApplication, finding: UUID, clock: Clock
) -> None:
    clock.set("2025-10-28 08:00")

    with pytest.raises(NotFoundError):
        registered.climb_ladders([finding, uuid4()])

    assert ladder_trail(registered, finding) == []


def test_after_a_batch_a_stale_copy_costs_a_retry_never_a_wrong_write(
    registered: LastmileApplication, finding: UUID, clock: Clock
) -> None:
    # Given a batch that kept its copy of the finding for the next command
    clock.set("2025-09-30 08:00")
    (climb,) = registered.climb_ladders([finding])
    assert climb.events == 1

    # and another process that then signs for it, unseen by that copy
    stored: Finding = registered.repository.get(finding)
    stored.acknowledge(CLERK, at("2025-09-30 09:00"), "李四", "")
    registered.save(stored)

    # When this process is asked to sign for it too, then it refuses on the stored state
    with pytest.raises(DomainError):
        registered.acknowledge(finding, CLERK, "张三")
    signed = [e for e in registered.history(finding) if e.type == "Acknowledged"]
    assert [e.fields["responsible_person"] for e in signed] == ["李四"]

    # and the next command acts on the latest version
    result = registered.request_extension(finding, CLERK, at("2025-11-28 00:00").date(), "汛期")
    assert result.version == climb.version + 2
