"""The reminder and escalation ladder over China's calendar, around the 2025 National Day holiday.

2025: 27 Sep (Sat) is a rest day, 28 Sep (Sun) a make-up working day; 1-8 Oct are rest
days; 11 Oct (Sat) is a make-up working day, 12 Oct (Sun) a rest day. Every expected date
below was counted by hand on that calendar.
"""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

import pytest

from adapters.calendar_table import load_holiday_table
from adapters.policy import load_deadline_policy
from domain.calendar import WorkingCalendar
from domain.findings import Finding
from domain.ladder import (
    ClockState,
    LadderPolicy,
    Recipient,
    Step,
    due_steps,
)
from domain.policies import PolicyError
from domain.readers import clock_state
from domain.values import Status
from tests.domain.builders import (
    EVALUATOR,
    SCHEDULER,
    VERIFIER,
    acknowledged,
    at,
    events,
    issued,
    rectified,
    submit,
)
from tests.domain.test_policies import VALID

D = date.fromisoformat
HOLDS = (Status.ISSUED, Status.ACKNOWLEDGED)


@pytest.fixture(scope="module")
def china() -> WorkingCalendar:
    return WorkingCalendar(load_holiday_table(last_year=2031))


@pytest.fixture(scope="module")
def policy() -> LadderPolicy:
    return load_deadline_policy().ladder


def state(
    calendar: WorkingCalendar,
    today: str,
    due_on: str,
    *,
    status: Status = Status.ACKNOWLEDGED,
    ack_due: str = "2025-09-19",
    submitted: str | None = None,
    level: int = 0,
    rejections: int = 0,
    done: tuple[str, ...] = (),
) -> ClockState:
    """A finding's clock as the reader builds it (no time spent waiting for the evaluator)."""
    holds = status in HOLDS
    return ClockState(
        status=status,
        acknowledge_due_on=D(ack_due),
        due_on=D(due_on),
        department_holds_clock=holds,
        overdue_days=calendar.working_days_between(D(due_on), D(today)) if holds else 0,
        submitted_on=D(submitted) if submitted else None,
        escalation_level=level,
        rejections=rejections,
        done_keys=frozenset(done),
    )


def keys(steps: list[Step], kind: str | None = None) -> list[str]:
    return [s.key for s in steps if kind is None or s.kind == kind]


def due(
    calendar: WorkingCalendar, policy: LadderPolicy, today: str, due_on: str, **fields: Any
) -> list[Step]:
    return due_steps(state(calendar, today, due_on, **fields), D(today), policy, calendar)


# -- deadline reminders -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("due_on", "today", "expected"),
    [
        pytest.param("2025-10-09", "2025-09-24", [], id="six-days-left-nothing-yet"),
        pytest.param("2025-10-09", "2025-09-25", ["due-5wd:2025-10-09"], id="5wd-thursday"),
        pytest.param("2025-10-09", "2025-09-29", ["due-5wd:2025-10-09"], id="2-left-still-5wd"),
        pytest.param("2025-10-09", "2025-09-30", ["due-1wd:2025-10-09"], id="1wd-before-holiday"),
        pytest.param("2025-10-09", "2025-10-03", [], id="held-during-holiday"),
        pytest.param("2025-10-09", "2025-10-09", ["due-0wd:2025-10-09"], id="0wd-after-holiday"),
        pytest.param("2025-10-11", "2025-09-27", [], id="rest-saturday-6-left"),
        pytest.param("2025-10-11", "2025-09-28", ["due-5wd:2025-10-11"], id="5wd-makeup-sunday"),
        pytest.param("2025-10-11", "2025-10-10", ["due-1wd:2025-10-11"], id="1wd-friday"),
        pytest.param("2025-10-11", "2025-10-11", ["due-0wd:2025-10-11"], id="0wd-makeup-saturday"),
        pytest.param("2025-10-13", "2025-10-11", ["due-1wd:2025-10-13"], id="1wd-makeup-saturday"),
        pytest.param("2025-10-13", "2025-10-12", [], id="held-on-sunday"),
        # An explicit deadline may fall on a rest day: its last working day is "the day".
        pytest.param("2025-10-05", "2025-09-30", ["due-0wd:2025-10-05"], id="rest-day-deadline"),
    ],
)
def test_deadline_reminders_count_working_days_left(
    china: WorkingCalendar, policy: LadderPolicy, due_on: str, today: str, expected: list[str]
) -> None:
    assert keys(due(china, policy, today, due_on)) == expected


def test_a_deadline_reminder_names_the_date_and_the_days_left(
    china: WorkingCalendar, policy: LadderPolicy
) -> None:
    (step,) = due(china, policy, "2025-10-24", "2025-10-31")

    assert step == Step(
        key="due-5wd:2025-10-31",
        kind="due_soon",
        recipients=(Recipient.DEPARTMENT_CONTACT, Recipient.RESPONSIBLE_PERSON),
        reason="整改期限为2025年10月31日，距期限还有5个工作日",
        trigger="due-5wd",
    )


def test_on_the_deadline_day_the_reminder_is_due_today(
    china: WorkingCalendar, policy: LadderPolicy
) -> None:
    (step,) = due(china, policy, "2025-10-09", "2025-10-09")

    assert (step.kind, step.reason) == ("due_today", "整改期限为2025年10月9日，今日到期")


def test_after_downtime_only_the_latest_deadline_reminder_is_due(
    china: WorkingCalendar, policy: LadderPolicy
) -> None:
    # The scheduler last ran before 25 Sep: no "5 days before" once only 1 day is left.
    assert keys(due(china, policy, "2025-09-30", "2025-10-09")) == ["due-1wd:2025-10-09"]


def test_a_deadline_reminder_already_sent_is_not_due_again(
    china: WorkingCalendar, policy: LadderPolicy
) -> None:
    steps = due(china, policy, "2025-09-29", "2025-10-09", done=("due-5wd:2025-10-09",))

    assert steps == []


def test_an_extension_starts_a_fresh_series(china: WorkingCalendar, policy: LadderPolicy) -> None:
    old_series = ("due-5wd:2025-10-09", "due-1wd:2025-10-09", "due-0wd:2025-10-09")

    steps = due(china, policy, "2025-10-24", "2025-10-31", done=old_series, level=1)

    assert keys(steps) == ["due-5wd:2025-10-31"]


# -- the acknowledgement reminder -----------------------------------------------------------


@pytest.mark.parametrize(
    ("ack_due", "today", "expected"),
    [
        # Issued Thu 25 Sep: 26, 28 (make-up Sunday) and 29 Sep are its 3 working days.
        pytest.param("2025-09-29", "2025-09-29", [], id="on-the-last-day"),
        pytest.param("2025-09-29", "2025-09-30", ["ack-3wd"], id="the-day-after"),
        # Issued Fri 26 Sep: due 30 Sep; the holiday holds the reminder until 9 Oct.
        pytest.param("2025-09-30", "2025-10-01", [], id="held-on-national-day"),
        pytest.param("2025-09-30", "2025-10-08", [], id="held-on-last-holiday"),
        pytest.param("2025-09-30", "2025-10-09", ["ack-3wd"], id="first-working-day"),
    ],
)
def test_unacknowledged_reminder_after_the_acknowledgement_deadline(
    china: WorkingCalendar, policy: LadderPolicy, ack_due: str, today: str, expected: list[str]
) -> None:
    steps = due(china, policy, today, "2025-10-27", status=Status.ISSUED, ack_due=ack_due)

    assert keys(steps) == expected
    assert all(s.recipients == (Recipient.DEPARTMENT_CONTACT,) for s in steps)


@pytest.mark.parametrize(
    ("status", "done"),
    [
        pytest.param(Status.ACKNOWLEDGED, (), id="acknowledged"),
        pytest.param(Status.ISSUED, ("ack-3wd",), id="already-reminded"),
    ],
)
def test_no_unacknowledged_reminder(
    china: WorkingCalendar, policy: LadderPolicy, status: Status, done: tuple[str, ...]
) -> None:
    clock = state(china, "2025-09-30", "2025-10-27", status=status, ack_due="2025-09-29", done=done)

    assert due_steps(clock, D("2025-09-30"), policy, china) == []


# -- overdue notices --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("due_on", "today", "expected"),
    [
        # Due Tue 30 Sep: the holiday is not counted as overdue.
        pytest.param("2025-09-30", "2025-10-01", [], id="holiday-is-not-overdue"),
        pytest.param("2025-09-30", "2025-10-09", ["overdue-week-0:2025-09-30"], id="1wd"),
        pytest.param("2025-09-30", "2025-10-12", [], id="3wd-held-on-sunday"),
        pytest.param("2025-09-30", "2025-10-14", ["overdue-week-0:2025-09-30"], id="5wd"),
        pytest.param("2025-09-30", "2025-10-15", ["overdue-week-1:2025-09-30"], id="6wd"),
        pytest.param("2025-09-30", "2025-10-21", ["overdue-week-1:2025-09-30"], id="10wd"),
        pytest.param("2025-09-30", "2025-10-22", ["overdue-week-2:2025-09-30"], id="11wd"),
        pytest.param("2025-09-30", "2025-11-18", ["overdue-week-5:2025-09-30"], id="30wd"),
        # Due on the make-up Saturday: Sunday is a rest day, Monday the first overdue day.
        pytest.param("2025-10-11", "2025-10-12", [], id="sunday-after-saturday-deadline"),
        pytest.param("2025-10-11", "2025-10-13", ["overdue-week-0:2025-10-11"], id="monday"),
    ],
)
def test_overdue_notice_on_the_first_overdue_day_then_every_5_working_days(
    china: WorkingCalendar, policy: LadderPolicy, due_on: str, today: str, expected: list[str]
) -> None:
    steps = due(china, policy, today, due_on, level=3)

    assert keys(steps) == expected
    assert all(s.recipients == (Recipient.DEPARTMENT_CONTACT, Recipient.EVALUATOR) for s in steps)


def test_an_overdue_notice_names_the_days_missed(
    china: WorkingCalendar, policy: LadderPolicy
) -> None:
    (step,) = due(china, policy, "2025-10-23", "2025-09-30", level=3)

    assert (step.kind, step.trigger) == ("overdue", "overdue-week-2")
    assert step.reason == "整改期限为2025年9月30日，已逾期12个工作日"


# -- escalation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "level", "rejections", "expected"),
    [
        pytest.param("2025-10-05", 0, 0, [], id="holiday-before-first-overdue-day"),
        pytest.param("2025-10-09", 0, 0, [(1, "overdue-1wd")], id="level-1-first-overdue-day"),
        pytest.param("2025-10-20", 1, 0, [], id="9wd-not-yet-level-2"),
        pytest.param("2025-10-21", 1, 0, [(2, "overdue-10wd")], id="level-2-at-10wd"),
        pytest.param("2025-11-17", 2, 0, [], id="29wd-not-yet-level-3"),
        pytest.param("2025-11-18", 2, 0, [(3, "overdue-30wd")], id="level-3-at-30wd"),
        pytest.param("2025-09-29", 0, 1, [], id="one-rejection"),
        pytest.param("2025-09-29", 0, 2, [(2, "rejected-2")], id="level-2-after-2-rejections"),
        pytest.param("2025-10-09", 0, 2, [(1, "overdue-1wd"), (2, "rejected-2")], id="both"),
        pytest.param(
            "2025-11-18",
            0,
            0,
            [(1, "overdue-1wd"), (2, "overdue-10wd"), (3, "overdue-30wd")],
            id="catch-up-every-level-lowest-first",
        ),
        pytest.param("2025-11-18", 3, 5, [], id="already-at-level-3"),
    ],
)
def test_escalation_levels(
    china: WorkingCalendar,
    policy: LadderPolicy,
    today: str,
    level: int,
    rejections: int,
    expected: list[tuple[int, str]],
) -> None:
    steps = due(china, policy, today, "2025-09-30", level=level, rejections=rejections)
    escalations = [s for s in steps if s.kind == "escalation"]

    assert [(s.level, s.trigger) for s in escalations] == expected
    assert [s.key for s in escalations] == [f"escalation-{n}" for n, _ in expected]
    for step in escalations:
        assert step.level is not None
        assert step.recipients == policy.escalation_recipients(step.level)


def test_escalation_reasons_say_why(china: WorkingCalendar, policy: LadderPolicy) -> None:
    (overdue,) = due(china, policy, "2025-10-23", "2025-09-30", level=1, done=_weeks(2))
    reminded = ("due-1wd:2025-09-30",)
    (rejected,) = due(china, policy, "2025-09-29", "2025-09-30", rejections=2, done=reminded)

    assert overdue.reason == "已逾期12个工作日，未获批准延期，依策略升级为约谈"
    assert rejected.reason == "整改报告已被退回2次，依策略升级为约谈"


def test_escalation_is_not_held_on_a_rest_day(china: WorkingCalendar, policy: LadderPolicy) -> None:
    # Due Fri 10 Oct; the make-up Saturday was missed, so Sunday is 1 working day overdue.
    steps = due(china, policy, "2025-10-12", "2025-10-10")

    assert keys(steps) == ["escalation-1"]


def test_escalation_recipients_per_level(policy: LadderPolicy) -> None:
    assert policy.escalation_recipients(1) == (
        Recipient.DEPARTMENT_HEAD,
        Recipient.EVALUATOR,
        Recipient.SUPERVISORS,
    )
    assert policy.escalation_recipients(2) == (Recipient.SUPERVISORS,)
    assert policy.escalation_recipients(3) == (Recipient.SUPERVISORS,)
    with pytest.raises(ValueError, match="level 4"):
        policy.escalation_recipients(4)


# -- catching up, and closed or submitted findings --------------------------------------------


def test_after_a_week_of_downtime_one_overdue_notice_and_every_due_level(
    china: WorkingCalendar, policy: LadderPolicy
) -> None:
    # Last run on 30 Sep (the 1-day reminder); next run on 22 Oct, 11 working days late.
    steps = due(china, policy, "2025-10-22", "2025-09-30", done=("due-0wd:2025-09-30",))

    assert keys(steps) == ["overdue-week-2:2025-09-30", "escalation-1", "escalation-2"]


@pytest.mark.parametrize("status", [Status.VERIFIED, Status.WITHDRAWN], ids=str)
def test_nothing_is_due_for_a_closed_finding(
    china: WorkingCalendar, policy: LadderPolicy, status: Status
) -> None:
    closed = state(china, "2025-11-18", "2025-09-30", status=status, rejections=3)
    # Even a clock that (wrongly) still counted overdue days must not remind anyone.
    late = ClockState(**{**vars(closed), "overdue_days": 30, "department_holds_clock": True})

    assert due_steps(closed, D("2025-11-18"), policy, china) == []
    assert due_steps(late, D("2025-11-18"), policy, china) == []


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        # Submitted Tue 30 Sep: the 15th working day after it is Tue 28 Oct.
        pytest.param("2025-10-28", [], id="on-the-15th-working-day"),
        pytest.param("2025-10-29", ["verify-15wd:2025-09-30"], id="the-day-after"),
        pytest.param("2025-11-01", [], id="held-on-saturday"),
    ],
)
def test_a_submitted_finding_only_reminds_the_evaluator(
    china: WorkingCalendar, policy: LadderPolicy, today: str, expected: list[str]
) -> None:
    # The deadline (10 Oct) has passed, but the clock is the evaluator's now.
    steps = due(china, policy, today, "2025-10-10", status=Status.RECTIFIED, submitted="2025-09-30")

    assert keys(steps) == expected
    assert all(s.recipients == (Recipient.EVALUATOR,) for s in steps)
    assert all(s.kind == "verification" for s in steps)


def test_verification_reminder_names_the_submission(
    china: WorkingCalendar, policy: LadderPolicy
) -> None:
    (step,) = due(
        china, policy, "2025-10-29", "2025-10-10", status=Status.RECTIFIED, submitted="2025-09-30"
    )

    assert step.reason == "整改报告于2025年9月30日提交，核查期限为2025年10月28日，已过期限仍未核查"
    assert step.trigger == "verify-15wd"


def _weeks(n: int) -> tuple[str, ...]:
    return tuple(f"overdue-week-{k}:2025-09-30" for k in range(n + 1))


# -- the clock read from a finding, and recording steps on it -----------------------------


def test_clock_state_of_an_overdue_finding(china: WorkingCalendar) -> None:
    finding = acknowledged()  # due Mon 27 Oct 2025
    finding.record_reminder(SCHEDULER, at("2025-10-20 09:00"), "due_soon", ["x"], "due-5wd:x")

    clock = clock_state(finding, at("2025-10-29 09:00"), china)

    assert clock == ClockState(
        status=Status.ACKNOWLEDGED,
        acknowledge_due_on=D("2025-09-29"),
        due_on=D("2025-10-27"),
        department_holds_clock=True,
        overdue_days=2,
        submitted_on=None,
        escalation_level=0,
        rejections=0,
        done_keys=frozenset({"due-5wd:x"}),
    )


def test_clock_state_of_a_submitted_finding(china: WorkingCalendar) -> None:
    finding = rectified()  # submitted Fri 10 Oct 2025

    clock = clock_state(finding, at("2025-10-29 09:00"), china)

    assert (clock.status, clock.department_holds_clock) == (Status.RECTIFIED, False)
    assert (clock.submitted_on, clock.overdue_days) == (D("2025-10-10"), 0)


def test_clock_state_counts_rejections_of_this_cycle_only(china: WorkingCalendar) -> None:
    finding = rectified()
    finding.reject(VERIFIER, at("2025-10-11 10:00"), "材料不全")
    assert clock_state(finding, at("2025-10-13 09:00"), china).rejections == 1

    submit(finding, when="2025-10-13")
    finding.verify(VERIFIER, at("2025-10-14 10:00"), "通过")
    finding.reopen(EVALUATOR, at("2025-10-15 10:00"), "回头看", finding.deadline)
    assert clock_state(finding, at("2025-10-16 09:00"), china).rejections == 0


def test_record_steps_records_reminders_and_escalations() -> None:
    finding = issued()
    moment = at("2025-10-28 09:00")
    steps = [
        Step("overdue-week-0:2025-10-27", "overdue", (Recipient.EVALUATOR,), "逾期", "w0"),
        Step("escalation-1", "escalation", (Recipient.SUPERVISORS,), "已逾期", "overdue-1wd", 1),
    ]

    finding.record_steps(SCHEDULER, moment, steps)
    finding.record_steps(SCHEDULER, moment, steps)  # a second run changes nothing

    reminder, escalation = events(finding)
    assert isinstance(reminder, Finding.ReminderSent)
    assert (reminder.kind, list(reminder.recipients), reminder.key) == (
        "overdue",
        ["evaluator"],
        "overdue-week-0:2025-10-27",
    )
    assert isinstance(escalation, Finding.Escalated)
    assert (escalation.level, escalation.reason, escalation.trigger) == (1, "已逾期", "overdue-1wd")
    assert (escalation.actor, escalation.role) == (SCHEDULER.user_id, SCHEDULER.role)


# -- the policy ---------------------------------------------------------------------------------


def test_reminders_on_rest_days_when_the_policy_does_not_hold_them(
    china: WorkingCalendar,
) -> None:
    data = copy.deepcopy(VALID)
    data["reminders"]["hold_on_rest_days"] = False
    policy = LadderPolicy.from_mapping(data)

    assert keys(due(china, policy, "2025-10-03", "2025-10-09")) == ["due-1wd:2025-10-09"]


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("reminders",), None, "reminders"),
        (("reminders", "hold_on_rest_days"), None, "reminders.hold_on_rest_days"),
        (("reminders", "hold_on_rest_days"), "yes", "reminders.hold_on_rest_days"),
        (("reminders", "basis"), " ", "reminders.basis"),
        (("reminders", "holdon"), True, "reminders.holdon"),
        (("reminders", "unacknowledged"), None, "reminders.unacknowledged"),
        (("reminders", "unacknowledged", "basis"), None, "reminders.unacknowledged.basis"),
        (("reminders", "unacknowledged", "recipients"), [], "reminders.unacknowledged.recipients"),
        (("reminders", "unverified", "recipients"), "evaluator", "reminders.unverified.recipients"),
        (("reminders", "overdue", "recipients"), ["evaluator"] * 2, "reminders.overdue.recipients"),
        (("reminders", "deadline", "working_days_before"), [], "deadline.working_days_before"),
        (("reminders", "deadline", "working_days_before"), [5, -1], "deadline.working_days_before"),
        (("reminders", "deadline", "working_days_before"), [1, 1], "deadline.working_days_before"),
        (("reminders", "deadline", "working_days_before"), [True], "deadline.working_days_before"),
        (("reminders", "deadline", "days"), [5], "reminders.deadline.days"),
        (("reminders", "overdue", "every_working_days"), 0, "overdue.every_working_days"),
        (("reminders", "overdue", "every_working_days"), 7.5, "overdue.every_working_days"),
        (("escalation",), None, "escalation"),
        (("escalation", "level_4"), {}, "escalation.level_4"),
        (("escalation", "level_3"), None, "escalation.level_3"),
        (("escalation", "level_1", "overdue_working_days"), 0, "level_1.overdue_working_days"),
        (("escalation", "level_2", "overdue_working_days"), None, "level_2.overdue_working_days"),
        (("escalation", "level_3", "overdue_working_days"), 5, "level_3.overdue_working_days"),
        (("escalation", "level_2", "rejections"), "2", "escalation.level_2.rejections"),
        (("escalation", "level_2", "recipients"), ["boss"], "escalation.level_2.recipients"),
        (("escalation", "level_3", "basis"), "", "escalation.level_3.basis"),
        (("escalation", "level_1", "name"), "督办", "escalation.level_1.name"),
        (("verification",), None, "verification"),
    ],
)
def test_from_mapping_names_the_bad_key(path: tuple[str, ...], value: Any, message: str) -> None:
    changed = copy.deepcopy(VALID)
    target = changed
    for key in path[:-1]:
        target = target[key]
    if value is None:
        del target[path[-1]]
    else:
        target[path[-1]] = value

    with pytest.raises(PolicyError, match=message.replace(".", r"\.")):
        LadderPolicy.from_mapping(changed)
