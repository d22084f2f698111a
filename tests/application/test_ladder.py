"""climb_ladder: the scheduler records what the ladder says is due, once, on the finding's trail.

The `finding` fixture is issued on Thu 25 Sep 2025: acknowledge by Mon 29 Sep, rectify by
Mon 27 Oct (30 days, rolled from Saturday 25 Oct).
"""

from __future__ import annotations

from datetime import date
from uuid import UUID

import pytest

from domain.application import LADDER_ACTOR, LastmileApplication
from tests.application.builders import (
    CLERK,
    EVALUATOR,
    SHA_A,
    SHA_B,
    VERIFIER,
    Clock,
    attach,
)

D = date.fromisoformat


def ladder_trail(app: LastmileApplication, finding: UUID) -> list[str]:
    """The ladder's entries on the trail, oldest first: reminder keys and escalation levels."""
    trail = []
    for entry in app.history(finding):
        if entry.type == "ReminderSent":
            trail.append(entry.fields["key"])
        elif entry.type == "Escalated":
            trail.append(f"escalation-{entry.fields['level']}")
    return trail


def climb(app: LastmileApplication, finding: UUID, clock: Clock, moment: str) -> int | None:
    clock.set(moment)
    return app.climb_ladder(finding).position


def submit(app: LastmileApplication, finding: UUID, sha256: str = SHA_A) -> None:
    attach(app, finding, sha256)
    app.submit_rectification(finding, CLERK, "收回闲置资金", [sha256])


def test_climb_ladder_reminds_an_unacknowledged_department(
    registered: LastmileApplication, finding: UUID, clock: Clock
) -> None:
    # When the scheduler runs the day after the acknowledgement deadline
    position = climb(registered, finding, clock, "2025-09-30 08:00")

    # Then the department contact is reminded, by the scheduler, on the trail
    assert position is not None
    last = registered.history(finding)[-1]
    assert (last.type, last.actor, last.role) == ("ReminderSent", "system:scheduler", "system")
    assert last.fields["kind"] == "unacknowledged"
    assert list(last.fields["recipients"]) == ["department_contact"]
    assert last.fields["key"] == "ack-3wd"
    assert LADDER_ACTOR.user_id == "system:scheduler"


def test_climbing_again_at_the_same_moment_records_nothing_more(
    registered: LastmileApplication, finding: UUID, clock: Clock
) -> None:
    # Given an overdue, unacknowledged finding the scheduler has already handled
    climb(registered, finding, clock, "2025-10-28 08:00")
    version = registered.finding(finding).version

    # When the scheduler fires five more times at the same moment
    results = [registered.climb_ladder(finding) for _ in range(5)]

    # Then nothing more is recorded
    assert [r.position for r in results] == [None] * 5
    assert registered.finding(finding).version == version
    assert ladder_trail(registered, finding) == [
        "ack-3wd",
        "overdue-week-0:2025-10-27",
        "escalation-1",
    ]


def test_an_overdue_finding_gets_a_notice_and_supervision(
    registered: LastmileApplication, finding: UUID, clock: Clock
) -> None:
    registered.acknowledge(finding, CLERK, "张三")

    climb(registered, finding, clock, "2025-10-28 08:00")

    notice, escalation = registered.history(finding)[-2:]
    assert notice.fields["key"] == "overdue-week-0:2025-10-27"
    assert list(notice.fields["recipients"]) == ["department_contact", "evaluator"]
    assert escalation.type == "Escalated"
    assert (escalation.fields["level"], escalation.fields["trigger"]) == (1, "overdue-1wd")
    assert escalation.fields["reason"] == "已逾期1个工作日，未获批准延期，依策略升级为督办"
    assert registered.finding(finding).escalation_level == 1


def test_after_downtime_the_scheduler_catches_up_once(
    registered: LastmileApplication, finding: UUID, clock: Clock
) -> None:
    # Given a finding last handled five working days before its deadline
    registered.acknowledge(finding, CLERK, "张三")
    climb(registered, finding, clock, "2025-10-20 08:00")

    # When the scheduler is next run ten working days after the deadline
    climb(registered, finding, clock, "2025-11-10 08:00")

    # Then one overdue notice and both levels whose triggers hold, lowest first
    assert ladder_trail(registered, finding) == [
        "due-5wd:2025-10-27",
        "overdue-week-1:2025-10-27",
        "escalation-1",
        "escalation-2",
    ]


def test_no_acknowledgement_reminder_once_acknowledged(
    registered: LastmileApplication, finding: UUID, clock: Clock
) -> None:
    registered.acknowledge(finding, CLERK, "张三")

    assert climb(registered, finding, clock, "2025-09-30 08:00") is None
    assert ladder_trail(registered, finding) == []


def test_an_extension_ends_the_old_series_and_starts_a_new_one(
    registered: LastmileApplication, finding: UUID, clock: Clock
) -> None:
    # Given a reminder for the original deadline, then an extension to Fri 28 Nov
    registered.acknowledge(finding, CLERK, "张三")
    climb(registered, finding, clock, "2025-10-20 08:00")
    registered.request_extension(finding, CLERK, D("2025-11-28"), "汛期无法施工")
    registered.decide_extension(finding, EVALUATOR, 1, approved=True)

    # Then nothing is due on or after the old deadline
    assert climb(registered, finding, clock, "2025-10-27 08:00") is None
    assert climb(registered, finding, clock, "2025-10-28 08:00") is None

    # And the new deadline gets its own reminders
    climb(registered, finding, clock, "2025-11-21 08:00")
    assert ladder_trail(registered, finding) == ["due-5wd:2025-10-27", "due-5wd:2025-11-28"]


@pytest.mark.parametrize("closing", ["verified", "withdrawn"])
def test_nothing_is_due_for_a_closed_finding(
    registered: LastmileApplication, finding: UUID, clock: Clock, closing: str
) -> None:
    if closing == "verified":
        registered.acknowledge(finding, CLERK, "张三")
        submit(registered, finding)
        registered.verify(finding, VERIFIER, "材料齐全")
    else:
        registered.withdraw(finding, EVALUATOR, "问题已由审计整改覆盖")

    assert climb(registered, finding, clock, "2025-12-31 08:00") is None
    assert ladder_trail(registered, finding) == []


def test_a_submitted_finding_only_reminds_the_evaluator(
    registered: LastmileApplication, finding: UUID, clock: Clock
) -> None:
    # Given a report submitted on Thu 9 Oct; its 15th working day after is Wed 29 Oct
    registered.acknowledge(finding, CLERK, "张三")
    clock.set("2025-10-09 10:00")
    submit(registered, finding)

    # Then nothing on the 29th, though the department's deadline (27 Oct) has passed
    assert climb(registered, finding, clock, "2025-10-29 18:00") is None

    # And on the 30th the evaluator is reminded, and the department is not
    climb(registered, finding, clock, "2025-10-30 08:00")
    last = registered.history(finding)[-1]
    assert last.fields["key"] == "verify-15wd:2025-10-09"
    assert list(last.fields["recipients"]) == ["evaluator"]
    assert ladder_trail(registered, finding) == ["verify-15wd:2025-10-09"]


def test_a_reopened_finding_starts_a_fresh_ladder(
    registered: LastmileApplication, finding: UUID, clock: Clock
) -> None:
    # Given a first cycle that went overdue and was supervised, then verified and reopened
    registered.acknowledge(finding, CLERK, "张三")
    climb(registered, finding, clock, "2025-10-28 08:00")
    submit(registered, finding)
    registered.verify(finding, VERIFIER, "材料齐全")
    clock.set("2025-10-31 10:00")
    registered.reopen(finding, EVALUATOR, "回头看发现问题反弹", due_on=D("2025-11-14"))

    # When the new deadline is missed
    climb(registered, finding, clock, "2025-11-17 08:00")

    # Then the new cycle gets its own notice and its own level 1
    assert ladder_trail(registered, finding) == [
        "overdue-week-0:2025-10-27",
        "escalation-1",
        "overdue-week-0:2025-11-14",
        "escalation-1",
    ]
    assert registered.finding(finding).escalation_level == 1


def test_two_rejections_call_for_an_interview(
    registered: LastmileApplication, finding: UUID, clock: Clock
) -> None:
    # Given a report sent back twice well before the deadline
    registered.acknowledge(finding, CLERK, "张三")
    submit(registered, finding, SHA_A)
    registered.reject(finding, VERIFIER, "佐证材料不全")
    submit(registered, finding, SHA_B)
    registered.reject(finding, VERIFIER, "仍不全")

    climb(registered, finding, clock, "2025-09-30 08:00")

    last = registered.history(finding)[-1]
    assert (last.type, last.fields["level"], last.fields["trigger"]) == (
        "Escalated",
        2,
        "rejected-2",
    )
    assert ladder_trail(registered, finding) == ["escalation-2"]
