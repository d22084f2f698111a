"""The reminder and escalation ladder (PRODUCT.md §5): pure decisions of what is due when.

The policy file's [reminders] and [escalation] sections say when each step falls due and
who hears of it (docs/worker.md); `due_steps` decides from a finding's state and a day.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any, TypeGuard

from domain.calendar import WorkingCalendar
from domain.policies import DeadlineRule, DeadlineUnit, PolicyError, deadline_for, parse_rule
from domain.values import Status

OPEN = frozenset({Status.ISSUED, Status.ACKNOWLEDGED, Status.RECTIFIED})
LEVEL_NAMES = {1: "督办", 2: "约谈", 3: "问责"}
_REMINDERS = ("unacknowledged", "deadline", "overdue", "unverified")
_REMINDER_KEYS = frozenset({"hold_on_rest_days", "basis", *_REMINDERS})
_LEVEL_KEYS = frozenset({"overdue_working_days", "rejections", "recipients", "basis"})


class Recipient(StrEnum):
    """Who hears of a step; notifications resolves each to e-mail addresses."""

    DEPARTMENT_CONTACT = "department_contact"  # Department.contact_email
    DEPARTMENT_HEAD = "department_head"  # Department.head_email
    RESPONSIBLE_PERSON = "responsible_person"  # a department user named at acknowledgement
    EVALUATOR = "evaluator"  # the user who issued the finding
    SUPERVISORS = "supervisors"  # every supervisor user with an e-mail


@dataclass(frozen=True)
class ClockState:
    """What the ladder needs to know about one finding at one moment."""

    status: Status
    acknowledge_due_on: date
    due_on: date
    department_holds_clock: bool
    overdue_days: int  # working days the department has missed this cycle, at the moment
    submitted_on: date | None  # China date of the current submission (status rectified)
    escalation_level: int
    rejections: int
    done_keys: frozenset[str]  # reminder keys already recorded this cycle


@dataclass(frozen=True)
class Step:
    """One due step: a reminder (level None) or an automatic escalation (level 1-3)."""

    key: str  # e.g. "due-5wd:2025-10-31"; "escalation-2" for levels
    kind: str  # unacknowledged | due_soon | due_today | overdue | verification | escalation
    recipients: tuple[Recipient, ...]
    reason: str  # plain Chinese, recorded on the event
    trigger: str  # the rule that fired, e.g. "overdue-10wd", "rejected-2"
    level: int | None = None


@dataclass(frozen=True)
class ReminderRule:
    """Who hears of a one-off reminder, and on what authority."""

    recipients: tuple[Recipient, ...]
    basis: str


@dataclass(frozen=True)
class DeadlineReminderRule:
    working_days_before: tuple[int, ...]  # highest first, e.g. (5, 1, 0); 0 is the day itself
    recipients: tuple[Recipient, ...]
    basis: str


@dataclass(frozen=True)
class OverdueReminderRule:
    every_working_days: int  # one notice on the first overdue working day, then this often
    recipients: tuple[Recipient, ...]
    basis: str


@dataclass(frozen=True)
class EscalationRule:
    level: int
    overdue_working_days: int
    rejections: int | None  # rejections this cycle that also raise the level; None: never
    recipients: tuple[Recipient, ...]
    basis: str


@dataclass(frozen=True)
class LadderPolicy:
    version: str
    hold_on_rest_days: bool  # reminders wait for a working day; escalations never wait
    rest_day_basis: str
    acknowledge: DeadlineRule  # [acknowledge]: names the unacknowledged reminder's key
    unacknowledged: ReminderRule
    deadline: DeadlineReminderRule
    overdue: OverdueReminderRule
    verification: DeadlineRule  # [verification]: the evaluator's clock after a submission
    unverified: ReminderRule
    escalation: tuple[EscalationRule, ...]  # levels 1, 2, 3 in order

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> LadderPolicy:
        """Parse the ladder from the policy file's mapping; errors name the bad key."""
        reminders = _table(data, "reminders", _REMINDER_KEYS)
        return cls(
            version=_text(data, "", "version"),
            hold_on_rest_days=_flag(reminders, "reminders", "hold_on_rest_days"),
            rest_day_basis=_text(reminders, "reminders", "basis"),
            acknowledge=parse_rule(data, "acknowledge"),
            unacknowledged=_reminder_rule(data, "unacknowledged"),
            deadline=_deadline_rule(data),
            overdue=_overdue_rule(data),
            verification=parse_rule(data, "verification"),
            unverified=_reminder_rule(data, "unverified"),
            escalation=_escalation_rules(data),
        )

    def escalation_recipients(self, level: int) -> tuple[Recipient, ...]:
        """Who hears of an escalation to level (1-3), automatic or manual."""
        for rule in self.escalation:
            if rule.level == level:
                return rule.recipients
        raise ValueError(f"no escalation level {level}; levels are 1, 2 and 3")


# -- deciding ---------------------------------------------------------------------------


def due_steps(
    state: ClockState, today: date, policy: LadderPolicy, calendar: WorkingCalendar
) -> list[Step]:
    """Steps due on `today` and not yet recorded, reminders first, escalations lowest first."""
    if state.status not in OPEN:
        return []
    reminding = calendar.is_working_day(today) or not policy.hold_on_rest_days
    steps = reminders_due(state, today, policy, calendar) if reminding else []
    steps += escalations_due(state, policy)
    return [step for step in steps if step.key not in state.done_keys]


def reminders_due(
    state: ClockState, today: date, policy: LadderPolicy, calendar: WorkingCalendar
) -> list[Step]:
    """The latest reminder of each series that today has reached, recorded or not."""
    found = (
        _unacknowledged(state, today, policy),
        _deadline(state, today, policy, calendar),
        _overdue(state, policy),
        _unverified(state, today, policy, calendar),
    )
    return [step for step in found if step is not None]


def escalations_due(state: ClockState, policy: LadderPolicy) -> list[Step]:
    """Every level above the current one whose trigger holds, lowest first."""
    steps = []
    for rule in policy.escalation:
        fired = _fired(state, rule)
        if rule.level > state.escalation_level and fired is not None:
            trigger, reason = fired
            key = f"escalation-{rule.level}"
            steps.append(Step(key, "escalation", rule.recipients, reason, trigger, rule.level))
    return steps


def _unacknowledged(state: ClockState, today: date, policy: LadderPolicy) -> Step | None:
    if state.status is not Status.ISSUED or today <= state.acknowledge_due_on:
        return None
    trigger = f"ack-{_span(policy.acknowledge)}"
    reason = f"签收期限为{_cn(state.acknowledge_due_on)}，已过期限仍未签收整改通知"
    return Step(trigger, "unacknowledged", policy.unacknowledged.recipients, reason, trigger)


def _deadline(
    state: ClockState, today: date, policy: LadderPolicy, calendar: WorkingCalendar
) -> Step | None:
    if not state.department_holds_clock or today > state.due_on:
        return None
    left = calendar.working_days_between(today, state.due_on)
    # Only the latest step reached is due: after downtime, no "5 days before" on day 1.
    reached = [n for n in policy.deadline.working_days_before if n >= left]
    if not reached:
        return None
    n, due = min(reached), state.due_on
    kind = "due_today" if n == 0 else "due_soon"
    reason = _deadline_reason(due, today, left)
    return Step(f"due-{n}wd:{due}", kind, policy.deadline.recipients, reason, f"due-{n}wd")


def _deadline_reason(due: date, today: date, left: int) -> str:
    if today == due:
        return f"整改期限为{_cn(due)}，今日到期"
    if left == 0:
        return f"整改期限为{_cn(due)}，今日为期限前最后一个工作日"
    return f"整改期限为{_cn(due)}，距期限还有{left}个工作日"


def _overdue(state: ClockState, policy: LadderPolicy) -> Step | None:
    if not state.department_holds_clock or state.overdue_days < 1:
        return None
    n = (state.overdue_days - 1) // policy.overdue.every_working_days
    trigger = f"overdue-week-{n}"
    reason = f"整改期限为{_cn(state.due_on)}，已逾期{state.overdue_days}个工作日"
    return Step(f"{trigger}:{state.due_on}", "overdue", policy.overdue.recipients, reason, trigger)


def _unverified(
    state: ClockState, today: date, policy: LadderPolicy, calendar: WorkingCalendar
) -> Step | None:
    submitted = state.submitted_on
    if state.status is not Status.RECTIFIED or submitted is None:
        return None
    due = deadline_for("verification", policy.verification, submitted, calendar).due_on
    if today <= due:
        return None
    trigger = f"verify-{_span(policy.verification)}"
    reason = f"整改报告于{_cn(submitted)}提交，核查期限为{_cn(due)}，已过期限仍未核查"
    recipients = policy.unverified.recipients
    return Step(f"{trigger}:{submitted}", "verification", recipients, reason, trigger)


def _fired(state: ClockState, rule: EscalationRule) -> tuple[str, str] | None:
    """The trigger and reason of an escalation rule that holds, else None."""
    name = LEVEL_NAMES[rule.level]
    if state.overdue_days >= rule.overdue_working_days:
        reason = f"已逾期{state.overdue_days}个工作日，未获批准延期，依策略升级为{name}"
        return f"overdue-{rule.overdue_working_days}wd", reason
    if rule.rejections is not None and state.rejections >= rule.rejections:
        reason = f"整改报告已被退回{state.rejections}次，依策略升级为{name}"
        return f"rejected-{rule.rejections}", reason
    return None


def _span(rule: DeadlineRule) -> str:
    return f"{rule.count}{'wd' if rule.unit is DeadlineUnit.WORKING_DAYS else 'd'}"


def _cn(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


# -- parsing ----------------------------------------------------------------------------


def _reminder_rule(data: Mapping[str, Any], name: str) -> ReminderRule:
    path = f"reminders.{name}"
    section = _table(data, path, frozenset({"recipients", "basis"}))
    return ReminderRule(_recipients(section, path), _text(section, path, "basis"))


def _deadline_rule(data: Mapping[str, Any]) -> DeadlineReminderRule:
    path = "reminders.deadline"
    section = _table(data, path, frozenset({"working_days_before", "recipients", "basis"}))
    days = section.get("working_days_before")
    if not isinstance(days, list) or not days or not all(_is_int(d, 0) for d in days):
        raise PolicyError(
            f"{path}.working_days_before: expected a non-empty list of whole numbers >= 0, "
            f"got {days!r}"
        )
    if len(set(days)) != len(days):
        raise PolicyError(f"{path}.working_days_before: a day is listed twice in {days!r}")
    before = tuple(sorted(days, reverse=True))
    return DeadlineReminderRule(before, _recipients(section, path), _text(section, path, "basis"))


def _overdue_rule(data: Mapping[str, Any]) -> OverdueReminderRule:
    path = "reminders.overdue"
    section = _table(data, path, frozenset({"every_working_days", "recipients", "basis"}))
    every = _count(section, path, "every_working_days")
    return OverdueReminderRule(every, _recipients(section, path), _text(section, path, "basis"))


def _escalation_rules(data: Mapping[str, Any]) -> tuple[EscalationRule, ...]:
    _table(data, "escalation", frozenset(f"level_{n}" for n in LEVEL_NAMES))
    rules: list[EscalationRule] = []
    for level in LEVEL_NAMES:
        path = f"escalation.level_{level}"
        section = _table(data, path, _LEVEL_KEYS)
        overdue = _count(section, path, "overdue_working_days")
        if rules and overdue < rules[-1].overdue_working_days:
            # The level only rises, so a higher level must not come due sooner.
            raise PolicyError(
                f"{path}.overdue_working_days: {overdue} is less than level {level - 1}'s "
                f"{rules[-1].overdue_working_days}"
            )
        rejections = _count(section, path, "rejections") if "rejections" in section else None
        recipients, basis = _recipients(section, path), _text(section, path, "basis")
        rules.append(EscalationRule(level, overdue, rejections, recipients, basis))
    return tuple(rules)


def _table(data: Mapping[str, Any], path: str, allowed: frozenset[str]) -> Mapping[str, Any]:
    node: Any = data
    for part in path.split("."):
        node = node.get(part) if isinstance(node, Mapping) else None
    if not isinstance(node, Mapping):
        raise PolicyError(f"{path}: expected a section (table), got {node!r}")
    # Unknown keys are refused so a misspelt key is reported, not silently ignored.
    unknown = set(node) - allowed
    if unknown:
        raise PolicyError(f"{path}.{sorted(unknown)[0]}: unknown key")
    return node


def _recipients(section: Mapping[str, Any], path: str) -> tuple[Recipient, ...]:
    value = section.get("recipients")
    names = [r.value for r in Recipient]
    if not isinstance(value, list) or not value or any(v not in names for v in value):
        raise PolicyError(
            f"{path}.recipients: expected a non-empty list drawn from {names}, got {value!r}"
        )
    if len(set(value)) != len(value):
        raise PolicyError(f"{path}.recipients: a recipient is listed twice in {value!r}")
    return tuple(Recipient(v) for v in value)


def _count(section: Mapping[str, Any], path: str, key: str) -> int:
    value = section.get(key)
    if not _is_int(value, 1):
        raise PolicyError(f"{path}.{key}: expected a positive integer, got {value!r}")
    return value


def _is_int(value: Any, minimum: int) -> TypeGuard[int]:
    # bool is an int subclass; `count = true` is a typo, not 1.
    return isinstance(value, int) and not isinstance(value, bool) and value >= minimum


def _flag(section: Mapping[str, Any], path: str, key: str) -> bool:
    value = section.get(key)
    if not isinstance(value, bool):
        raise PolicyError(f"{path}.{key}: expected true or false, got {value!r}")
    return value


def _text(section: Mapping[str, Any], path: str, key: str) -> str:
    value = section.get(key)
    if not isinstance(value, str) or not value.strip():
        name = f"{path}.{key}" if path else key
        raise PolicyError(f"{name}: expected a non-empty string, got {value!r}")
    return value
