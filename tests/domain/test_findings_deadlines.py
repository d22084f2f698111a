"""Finding: extension requests, escalation, reminders, interviews and accountability decisions."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from domain.errors import TransitionError, ValidationError
from domain.findings import Finding
from domain.values import Status
from tests.domain.builders import (
    CLERK,
    DEADLINE,
    EVALUATOR,
    SCHEDULER,
    STATES,
    SUPERVISOR,
    acknowledged,
    assert_refused,
    at,
    calculation,
    escalated_to,
    events,
    issued,
    recorded,
)

LATER = date(2025, 11, 30)
EXTENDED = calculation(
    "2025-11-30", rule="extension", start="2025-10-10", unit="explicit", count=51
)


def with_pending_request() -> Finding:
    finding = acknowledged()
    finding.request_extension(CLERK, at("2025-10-09 10:00"), LATER, "汛期无法施工")
    finding.collect_events()
    return finding


# -- extension requests -------------------------------------------------------------------


@pytest.mark.parametrize("state", ["issued", "acknowledged"])
def test_request_extension_records_a_numbered_request(state: str) -> None:
    finding = STATES[state]()

    n = finding.request_extension(CLERK, at("2025-10-09 10:00"), LATER, " 汛期无法施工 ")

    event = recorded(finding, Finding.ExtensionRequested, CLERK, at("2025-10-09 10:00"))
    assert (n, event.n, event.new_due_on, event.reason) == (1, 1, LATER, "汛期无法施工")
    assert finding.pending_extension is not None
    assert finding.pending_extension.requested_by == CLERK.user_id
    assert finding.deadline == DEADLINE  # nothing moves until an evaluator decides


def test_request_extension_needs_a_reason() -> None:
    assert_refused(
        acknowledged(),
        lambda f: f.request_extension(CLERK, at("2025-10-09 10:00"), LATER, "   "),
        ValidationError,
        "reason for the extension is required",
    )


@pytest.mark.parametrize(
    "new_due_on", [DEADLINE.due_on, date(2025, 10, 20)], ids=["same", "earlier"]
)
def test_request_extension_needs_a_later_date(new_due_on: date) -> None:
    assert_refused(
        acknowledged(),
        lambda f: f.request_extension(CLERK, at("2025-10-09 10:00"), new_due_on, "理由"),
        ValidationError,
        f"new deadline {new_due_on} must be later than the current one \\(2025-10-27\\)",
    )


def test_request_extension_is_refused_while_another_is_pending() -> None:
    assert_refused(
        with_pending_request(),
        lambda f: f.request_extension(CLERK, at("2025-10-10 10:00"), date(2025, 12, 31), "再延"),
        TransitionError,
        "Extension request 1 is still waiting for a decision",
    )


@pytest.mark.parametrize("state", ["rectified", "verified", "withdrawn"])
def test_request_extension_is_refused_when_not_open_for_work(state: str) -> None:
    assert_refused(
        STATES[state](),
        lambda f: f.request_extension(CLERK, at("2025-10-20 10:00"), LATER, "理由"),
        TransitionError,
        f"Cannot request an extension: the finding is {state}",
    )


def test_grant_extension_moves_the_current_deadline_and_keeps_the_original() -> None:
    finding = with_pending_request()

    finding.grant_extension(EVALUATOR, at("2025-10-10 09:00"), 1, " 同意 ", EXTENDED)

    event = recorded(finding, Finding.ExtensionGranted, EVALUATOR, at("2025-10-10 09:00"))
    assert (event.n, event.note, event.deadline) == (1, "同意", EXTENDED)
    assert finding.deadline == EXTENDED
    assert finding.original_deadline == DEADLINE
    assert finding.pending_extension is None
    assert [r.decision for r in finding.extensions] == ["granted"]


def test_a_new_request_after_a_grant_must_go_beyond_the_extended_date() -> None:
    finding = with_pending_request()
    finding.grant_extension(EVALUATOR, at("2025-10-10 09:00"), 1, "", EXTENDED)
    events(finding)

    # The granted date is now the current one.
    assert_refused(
        finding,
        lambda f: f.request_extension(CLERK, at("2025-11-01 10:00"), LATER, "再延"),
        ValidationError,
        "must be later than the current one \\(2025-11-30\\)",
    )

    # A later date opens request number 2.
    assert finding.request_extension(CLERK, at("2025-11-01 10:00"), date(2025, 12, 31), "再延") == 2


def test_deny_extension_records_the_note_and_keeps_the_deadline() -> None:
    finding = with_pending_request()

    finding.deny_extension(EVALUATOR, at("2025-10-10 09:00"), 1, "理由不充分")

    event = recorded(finding, Finding.ExtensionDenied, EVALUATOR, at("2025-10-10 09:00"))
    assert (event.n, event.note) == (1, "理由不充分")
    assert finding.deadline == DEADLINE
    assert [r.decision for r in finding.extensions] == ["denied"]
    # The department may ask again.
    assert finding.request_extension(CLERK, at("2025-10-11 10:00"), LATER, "补充理由") == 2


def test_deny_extension_needs_a_note() -> None:
    assert_refused(
        with_pending_request(),
        lambda f: f.deny_extension(EVALUATOR, at("2025-10-10 09:00"), 1, ""),
        ValidationError,
        "reason for denying the extension is required",
    )


@pytest.mark.parametrize("granted", [True, False], ids=["grant", "deny"])
@pytest.mark.parametrize(
    ("setup", "n", "message"),
    [
        (
            "none",
            1,
            "Extension request 1 is not waiting for a decision \\(no request is pending\\)",
        ),
        (
            "pending",
            2,
            "Extension request 2 is not waiting for a decision \\(request 1 is pending\\)",
        ),
        (
            "decided",
            1,
            "Extension request 1 is not waiting for a decision \\(no request is pending\\)",
        ),
    ],
)
def test_deciding_a_request_that_is_not_pending_is_refused(
    setup: str, n: int, message: str, granted: bool
) -> None:
    finding = acknowledged() if setup == "none" else with_pending_request()
    if setup == "decided":
        finding.deny_extension(EVALUATOR, at("2025-10-10 09:00"), 1, "不同意")
        events(finding)

    assert_refused(
        finding,
        (lambda f: f.grant_extension(EVALUATOR, at("2025-10-11"), n, "", EXTENDED))
        if granted
        else (lambda f: f.deny_extension(EVALUATOR, at("2025-10-11"), n, "不同意")),
        TransitionError,
        message,
    )


@pytest.mark.parametrize("granted", [True, False])
def test_a_pending_request_cannot_be_decided_once_the_finding_is_withdrawn(granted: bool) -> None:
    # A deadline moved after the fact would rewrite whether the finding was on time.
    finding = with_pending_request()
    finding.withdraw(EVALUATOR, at("2025-10-10 09:00"), "问题不成立")
    events(finding)

    assert_refused(
        finding,
        (lambda f: f.grant_extension(EVALUATOR, at("2025-10-11"), 1, "", EXTENDED))
        if granted
        else (lambda f: f.deny_extension(EVALUATOR, at("2025-10-11"), 1, "不同意")),
        TransitionError,
        "Cannot decide an extension: the finding is withdrawn",
    )


# -- escalation ---------------------------------------------------------------------------


@pytest.mark.parametrize("level", [1, 2, 3])
def test_escalate_records_the_level_reason_and_trigger(level: int) -> None:
    finding = acknowledged()

    finding.escalate(SCHEDULER, at("2025-10-28 09:00"), level, " 逾期 ", f"overdue-{level}")

    event = recorded(finding, Finding.Escalated, SCHEDULER, at("2025-10-28 09:00"))
    assert (event.level, event.reason, event.trigger) == (level, "逾期", f"overdue-{level}")
    assert finding.escalation_level == level


def test_escalation_only_rises() -> None:
    finding = escalated_to(1)

    finding.escalate(SUPERVISOR, at("2025-11-10 09:00"), 3, "约谈后仍未整改", "manual")

    assert recorded(finding, Finding.Escalated, SUPERVISOR, at("2025-11-10 09:00")).level == 3
    assert finding.escalation_level == 3


@pytest.mark.parametrize("level", [0, 4, -1])
def test_escalate_refuses_a_level_outside_1_to_3(level: int) -> None:
    assert_refused(
        acknowledged(),
        lambda f: f.escalate(SUPERVISOR, at("2025-10-28"), level, "督办", "manual"),
        ValidationError,
        f"Escalation level must be 1, 2 or 3, not {level}",
    )


@pytest.mark.parametrize("level", [1, 2])
def test_a_manual_escalation_to_the_same_or_a_lower_level_is_refused(level: int) -> None:
    assert_refused(
        escalated_to(2),
        lambda f: f.escalate(SUPERVISOR, at("2025-11-10"), level, "再次督办", "manual"),
        TransitionError,
        f"already at escalation level 2; the level only rises, so level {level} cannot",
    )


@pytest.mark.parametrize("level", [1, 2])
def test_an_automatic_repeat_escalation_is_a_silent_no_op(level: int) -> None:
    finding = escalated_to(2)
    version = finding.version

    finding.escalate(SCHEDULER, at("2025-11-10 09:00"), level, "逾期", "overdue-10wd")

    assert finding.pending_events == []
    assert (finding.version, finding.escalation_level) == (version, 2)


def test_escalate_needs_a_reason() -> None:
    assert_refused(
        acknowledged(),
        lambda f: f.escalate(SUPERVISOR, at("2025-10-28"), 1, "", "manual"),
        ValidationError,
        "reason for escalating is required",
    )


@pytest.mark.parametrize("state", ["verified", "withdrawn"])
@pytest.mark.parametrize("trigger", ["manual", "overdue-1wd"])
def test_escalate_is_refused_when_closed(state: str, trigger: str) -> None:
    assert_refused(
        STATES[state](),
        lambda f: f.escalate(SUPERVISOR, at("2025-10-28"), 1, "督办", trigger),
        TransitionError,
        f"Cannot escalate: the finding is {state}",
    )


# -- reminders ----------------------------------------------------------------------------


def test_record_reminder_records_kind_recipients_and_key() -> None:
    finding = issued()

    finding.record_reminder(SCHEDULER, at("2025-09-30 08:00"), "ack", ["slj@x.cn"], "ack-3wd")

    event = recorded(finding, Finding.ReminderSent, SCHEDULER, at("2025-09-30 08:00"))
    assert (event.kind, tuple(event.recipients), event.key) == ("ack", ("slj@x.cn",), "ack-3wd")
    assert finding.reminder_keys == {"ack-3wd"}


@pytest.mark.parametrize("again", ["due-5wd", " due-5wd "])
def test_record_reminder_is_idempotent_per_key(again: str) -> None:
    finding = acknowledged()
    finding.record_reminder(SCHEDULER, at("2025-10-20 08:00"), "due", ["a@x.cn"], "due-5wd")
    events(finding)
    version = finding.version

    # The scheduler fires again (or restarts) with the same key.
    finding.record_reminder(SCHEDULER, at("2025-10-20 08:05"), "due", ["a@x.cn"], again)

    assert finding.pending_events == []
    assert finding.version == version

    # A different key is a different reminder.
    finding.record_reminder(SCHEDULER, at("2025-10-26 08:00"), "due", ["a@x.cn"], "due-1wd")
    assert [e.key for e in events(finding) if isinstance(e, Finding.ReminderSent)] == ["due-1wd"]


@pytest.mark.parametrize("state", ["verified", "withdrawn"])
def test_record_reminder_is_refused_when_closed(state: str) -> None:
    assert_refused(
        STATES[state](),
        lambda f: f.record_reminder(SCHEDULER, at("2025-10-26"), "due", [], "due-1wd"),
        TransitionError,
        f"Cannot remind: the finding is {state}",
    )


def test_record_reminder_needs_a_key() -> None:
    assert_refused(
        acknowledged(),
        lambda f: f.record_reminder(SCHEDULER, at("2025-10-26"), "due", [], " "),
        ValidationError,
        "reminder key is required",
    )


# -- interviews and accountability decisions ----------------------------------------------


@pytest.mark.parametrize("level", [2, 3])
def test_record_interview_at_escalation_level_2_or_more(level: int) -> None:
    finding = escalated_to(level)

    finding.record_interview(SUPERVISOR, at("2025-11-05 15:00"), date(2025, 11, 5), "约谈局长")

    event = recorded(finding, Finding.InterviewRecorded, SUPERVISOR, at("2025-11-05 15:00"))
    assert (event.held_on, event.note) == (date(2025, 11, 5), "约谈局长")
    assert finding.interviews == 1


@pytest.mark.parametrize("level", [0, 1])
def test_record_interview_is_refused_below_level_2(level: int) -> None:
    finding = escalated_to(level) if level else acknowledged()

    assert_refused(
        finding,
        lambda f: f.record_interview(SUPERVISOR, at("2025-11-05"), date(2025, 11, 5), "约谈"),
        TransitionError,
        f"Cannot record an interview: the finding is at escalation level {level}, "
        "it must be at least 2",
    )


def test_decide_accountability_at_escalation_level_3() -> None:
    finding = escalated_to(3)

    finding.decide_accountability(SUPERVISOR, at("2025-12-01 10:00"), "通报批评", " 移送纪检 ")

    event = recorded(finding, Finding.AccountabilityDecided, SUPERVISOR, at("2025-12-01 10:00"))
    assert (event.decision, event.note) == ("通报批评", "移送纪检")
    assert finding.decisions == 1


@pytest.mark.parametrize("level", [0, 1, 2])
def test_decide_accountability_is_refused_below_level_3(level: int) -> None:
    finding = escalated_to(level) if level else acknowledged()

    assert_refused(
        finding,
        lambda f: f.decide_accountability(SUPERVISOR, at("2025-12-01"), "通报批评", ""),
        TransitionError,
        f"escalation level {level}, it must be at least 3",
    )


def test_decide_accountability_needs_a_decision() -> None:
    assert_refused(
        escalated_to(3),
        lambda f: f.decide_accountability(SUPERVISOR, at("2025-12-01"), "", "备注"),
        ValidationError,
        "decision is required",
    )


def test_interview_and_decision_remain_possible_after_verification() -> None:
    # Accountability can follow even when the finding was eventually put right.
    finding = escalated_to(3)
    finding.attach_evidence(CLERK, at("2025-11-01"), "d" * 64, "d.pdf", 1, "a/pdf")
    finding.submit_rectification(CLERK, at("2025-11-02"), "措施", ["d" * 64], Decimal(0), 0)
    finding.verify(EVALUATOR, at("2025-11-03"), "")
    assert finding.status is Status.VERIFIED

    finding.record_interview(SUPERVISOR, at("2025-11-05"), date(2025, 11, 5), "约谈")
    finding.decide_accountability(SUPERVISOR, at("2025-11-06"), "诫勉谈话", "")

    kinds = [type(e) for e in events(finding)]
    assert kinds[-2:] == [Finding.InterviewRecorded, Finding.AccountabilityDecided]
