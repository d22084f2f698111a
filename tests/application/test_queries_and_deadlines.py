"""LastmileApplication: the finding as of past moments, its history, overdue days, deadlines."""

from __future__ import annotations

from datetime import date
from uuid import UUID

import pytest

from domain.application import LastmileApplication
from domain.calendar import WorkingCalendar
from domain.errors import NotFoundError, TransitionError, ValidationError
from domain.policies import DeadlineCalculation
from tests.application.builders import (
    CLERK,
    EVALUATOR,
    SCHEDULER,
    SHA_A,
    SUPERVISOR,
    VERIFIER,
    Clock,
    at,
    attach,
    draft,
    order,
)

D = date.fromisoformat


def stored(app: LastmileApplication) -> int:
    return app.recorder.max_notification_id() or 0


def submit(app: LastmileApplication, finding: UUID) -> None:
    attach(app, finding)
    app.submit_rectification(finding, CLERK, "收回资金", [SHA_A])


@pytest.fixture
def late_finding(registered: LastmileApplication, clock: Clock) -> UUID:
    """Acknowledged 26 Sep, submitted late on 29 Oct (due 27 Oct), verified 31 Oct 2025."""
    (finding,) = registered.issue_order(EVALUATOR, order())
    clock.set("2025-09-26 10:00")
    registered.acknowledge(finding, CLERK, "张三", "按月报送")
    clock.set("2025-10-29 10:00")
    submit(registered, finding)
    clock.set("2025-10-31 10:00")
    registered.verify(finding, VERIFIER, "通过")
    clock.set("2025-11-05 10:00")
    return finding


# -- as of a past moment ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "status", "overdue", "overdue_days", "version"),
    [
        ("2025-09-25 09:00", "issued", False, 0, 1),
        ("2025-09-26 09:59", "issued", False, 0, 1),
        ("2025-09-26 10:00", "acknowledged", False, 0, 2),
        ("2025-10-27 23:59", "acknowledged", False, 0, 2),  # due on Monday 27 Oct
        ("2025-10-28 09:00", "acknowledged", True, 1, 2),
        ("2025-10-29 09:59", "acknowledged", True, 2, 2),
        ("2025-10-29 10:00", "rectified", False, 0, 4),  # evidence + report
        ("2025-10-31 10:00", "verified", False, 0, 5),
    ],
)
def test_finding_as_of_a_past_moment_shows_what_was_true_then(
    registered: LastmileApplication,
    late_finding: UUID,
    moment: str,
    status: str,
    overdue: bool,
    overdue_days: int,
    version: int,
) -> None:
    view = registered.finding(late_finding, as_of=at(moment))

    assert (view.status, view.overdue, view.overdue_days) == (status, overdue, overdue_days)
    assert (view.version, view.as_of) == (version, at(moment))


def test_finding_without_as_of_is_as_of_now(
    registered: LastmileApplication, late_finding: UUID
) -> None:
    view = registered.finding(late_finding)

    assert (view.status, view.version, view.as_of) == ("verified", 5, at("2025-11-05 10:00"))


def test_finding_as_of_before_it_was_issued_is_not_found(
    registered: LastmileApplication, late_finding: UUID
) -> None:
    with pytest.raises(NotFoundError, match="does not exist as of 2025-09-25T08:59:00"):
        registered.finding(late_finding, as_of=at("2025-09-25 08:59"))


# -- history ------------------------------------------------------------------------------


def test_history_lists_every_event_with_actor_role_and_time(
    registered: LastmileApplication, late_finding: UUID
) -> None:
    history = registered.history(late_finding)

    assert [(e.version, e.type, e.actor, e.role, e.at) for e in history] == [
        (1, "Issued", "eva.li", "evaluator", at("2025-09-25 09:00")),
        (2, "Acknowledged", "wang.clerk", "department", at("2025-09-26 10:00")),
        (3, "EvidenceAttached", "wang.clerk", "department", at("2025-10-29 10:00")),
        (4, "Rectified", "wang.clerk", "department", at("2025-10-29 10:00")),
        (5, "Verified", "zhou.verifier", "evaluator", at("2025-10-31 10:00")),
    ]
    assert history[1].fields == {"responsible_person": "张三", "plan": "按月报送"}
    assert history[0].fields["deadline"].due_on == D("2025-10-27")
    assert history[3].fields["evidence"] == [SHA_A]


def test_history_as_of_a_moment_stops_there(
    registered: LastmileApplication, late_finding: UUID
) -> None:
    history = registered.history(late_finding, as_of=at("2025-10-29 10:00"))

    assert [e.type for e in history] == ["Issued", "Acknowledged", "EvidenceAttached", "Rectified"]
    with pytest.raises(NotFoundError, match="as of 2025-09-25T08:00:00"):
        registered.history(late_finding, as_of=at("2025-09-25 08:00"))


# -- overdue days -------------------------------------------------------------------------


@pytest.fixture
def due_before_national_day(registered: LastmileApplication, clock: Clock) -> UUID:
    """Acknowledged, explicitly due Tuesday 30 Sep 2025, the day before the holiday."""
    (finding,) = registered.issue_order(
        EVALUATOR, order(draft(due_on=D("2025-09-30")), ref="泸财绩〔2025〕13号")
    )
    clock.set("2025-09-26 10:00")
    registered.acknowledge(finding, CLERK, "张三")
    return finding


@pytest.mark.parametrize(
    ("moment", "overdue", "overdue_days"),
    [
        ("2025-09-30 23:59", False, 0),
        ("2025-10-01 00:00", True, 0),  # late, but 1-8 Oct are holidays: no working day missed
        ("2025-10-08 12:00", True, 0),
        ("2025-10-09 12:00", True, 1),
        ("2025-10-10 12:00", True, 2),
        ("2025-10-11 12:00", True, 3),  # make-up Saturday (调休上班) counts
        ("2025-10-12 12:00", True, 3),  # an ordinary Sunday does not
        ("2025-10-13 12:00", True, 4),
    ],
)
def test_overdue_days_count_working_days_across_the_holiday(
    registered: LastmileApplication,
    due_before_national_day: UUID,
    clock: Clock,
    moment: str,
    overdue: bool,
    overdue_days: int,
) -> None:
    clock.set(moment)

    view = registered.finding(due_before_national_day)

    assert (view.overdue, view.overdue_days) == (overdue, overdue_days)


def test_overdue_days_are_zero_while_the_report_waits_for_the_evaluator(
    registered: LastmileApplication, due_before_national_day: UUID, clock: Clock
) -> None:
    finding = due_before_national_day

    # Submitted late: while rectified, the clock is the evaluator's.
    clock.set("2025-10-10 10:00")
    submit(registered, finding)
    clock.set("2025-10-13 10:00")
    assert (registered.finding(finding).overdue, registered.finding(finding).overdue_days) == (
        False,
        0,
    )

    # Sent back: the department is late again, counted from the same deadline, but the
    # working days the report waited for the evaluator (11, 13, 14 Oct) are not its own:
    # it has missed 9 and 10 Oct only.
    clock.set("2025-10-14 10:00")
    registered.reject(finding, VERIFIER, "材料不全")
    view = registered.finding(finding)
    assert (view.status, view.overdue, view.overdue_days) == ("acknowledged", True, 2)


# -- extensions ---------------------------------------------------------------------------


def test_granted_extension_records_its_deadline_calculation(
    registered: LastmileApplication, finding: UUID, clock: Clock, calendar: WorkingCalendar
) -> None:
    clock.set("2025-10-09 10:00")
    request = registered.request_extension(finding, CLERK, D("2025-11-30"), "汛期无法施工")
    clock.set("2025-10-10 09:00")

    registered.decide_extension(finding, EVALUATOR, 1, approved=True, note="同意延期")

    granted = registered.history(finding)[-1]
    assert (granted.type, granted.actor, granted.fields["n"]) == ("ExtensionGranted", "eva.li", 1)
    assert granted.fields["deadline"] == DeadlineCalculation(
        rule="extension",
        start=D("2025-10-10"),
        unit="explicit",
        count=51,
        basis="同意延期",
        calendar_version=calendar.version,
        provisional=False,
        due_on=D("2025-11-30"),
    )
    view = registered.finding(finding)
    assert (view.due_on, view.original_due_on) == (D("2025-11-30"), D("2025-10-27"))
    assert [(x.n, x.decision) for x in view.extensions] == [(1, "granted")]
    assert view.version == request.version + 1
    # The old deadline passing no longer makes it overdue.
    assert not registered.finding(finding, as_of=at("2025-10-28 10:00")).overdue


def test_granted_extension_without_a_note_cites_the_evaluator_approval(
    registered: LastmileApplication, finding: UUID, clock: Clock
) -> None:
    registered.request_extension(finding, CLERK, D("2025-11-30"), "汛期")

    registered.decide_extension(finding, EVALUATOR, 1, approved=True)

    assert registered.finding(finding).deadline.basis == "延期申请经评价人员批准"


def test_denied_extension_keeps_the_deadline(
    registered: LastmileApplication, finding: UUID
) -> None:
    registered.request_extension(finding, CLERK, D("2025-11-30"), "汛期")

    with pytest.raises(ValidationError, match="reason for denying the extension is required"):
        registered.decide_extension(finding, EVALUATOR, 1, approved=False)
    registered.decide_extension(finding, EVALUATOR, 1, approved=False, note="理由不充分")

    view = registered.finding(finding)
    assert (view.due_on, [x.decision for x in view.extensions]) == (D("2025-10-27"), ["denied"])
    assert registered.history(finding)[-1].fields == {"n": 1, "note": "理由不充分"}


def test_granting_a_date_that_has_passed_is_refused(
    registered: LastmileApplication, finding: UUID, clock: Clock
) -> None:
    registered.request_extension(finding, CLERK, D("2025-11-30"), "汛期")
    clock.set("2025-12-01 09:00")
    before = stored(registered)

    with pytest.raises(ValidationError, match="asked for 2025-11-30, which has passed"):
        registered.decide_extension(finding, EVALUATOR, 1, approved=True)

    assert stored(registered) == before


@pytest.mark.parametrize("approved", [True, False])
def test_deciding_a_request_that_is_not_pending_is_refused(
    registered: LastmileApplication, finding: UUID, approved: bool
) -> None:
    with pytest.raises(TransitionError, match="Extension request 1 is not waiting for a decision"):
        registered.decide_extension(finding, EVALUATOR, 1, approved=approved, note="不同意")


# -- reopening ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("due_on", "rule", "unit", "count", "expected"),
    [
        (None, "class:immediate", "calendar_days", 30, "2025-12-31"),  # policy, from today
        ("2026-01-15", "explicit", "explicit", 45, "2026-01-15"),
    ],
)
def test_reopen_sets_a_new_deadline_for_the_new_cycle(
    registered: LastmileApplication,
    late_finding: UUID,
    clock: Clock,
    due_on: str | None,
    rule: str,
    unit: str,
    count: int,
    expected: str,
) -> None:
    clock.set("2025-12-01 10:00")

    registered.reopen(late_finding, EVALUATOR, "回头看", due_on=D(due_on) if due_on else None)

    view = registered.finding(late_finding)
    assert (view.status, view.cycle) == ("acknowledged", 2)
    assert (view.deadline.rule, view.deadline.unit, view.deadline.count) == (rule, unit, count)
    assert (view.deadline.start, view.due_on) == (D("2025-12-01"), D(expected))
    assert view.original_due_on == D(expected)  # a new cycle is measured on its own
    # The earlier cycle still reads as it was.
    assert registered.finding(late_finding, as_of=at("2025-11-30 10:00")).status == "verified"


@pytest.mark.parametrize("due_on", ["2025-12-01", "2025-11-30"])
def test_reopen_refuses_an_explicit_date_that_is_not_after_today(
    registered: LastmileApplication, late_finding: UUID, clock: Clock, due_on: str
) -> None:
    clock.set("2025-12-01 10:00")
    before = stored(registered)

    with pytest.raises(ValidationError, match=f"new deadline {due_on} must be after today"):
        registered.reopen(late_finding, EVALUATOR, "回头看", due_on=D(due_on))

    assert stored(registered) == before


# -- escalation ---------------------------------------------------------------------------


def test_escalation_interview_and_decision_through_the_application(
    registered: LastmileApplication, finding: UUID
) -> None:
    # The scheduler escalates; firing again changes nothing.
    first = registered.escalate(finding, SCHEDULER, 2, "逾期 10 个工作日", "overdue-10wd")
    again = registered.escalate(finding, SCHEDULER, 2, "逾期 10 个工作日", "overdue-10wd")
    assert (again.version, again.position) == (first.version, None)

    # A supervisor interviews, raises the level by hand, and records the decision.
    registered.record_interview(finding, SUPERVISOR, D("2025-11-10"), "约谈局长")
    with pytest.raises(TransitionError, match="the level only rises"):
        registered.escalate(finding, SUPERVISOR, 2, "再次约谈")
    registered.escalate(finding, SUPERVISOR, 3, "约谈后仍未整改")
    registered.decide_accountability(finding, SUPERVISOR, "通报批评", "移送纪检")

    assert registered.finding(finding).escalation_level == 3
    assert [e.type for e in registered.history(finding)][1:] == [
        "Escalated",
        "InterviewRecorded",
        "Escalated",
        "AccountabilityDecided",
    ]
