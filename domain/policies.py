"""Pure deadline rules: how long each step may take and the date it is due."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from domain.calendar import WorkingCalendar

if TYPE_CHECKING:
    from domain.ladder import LadderPolicy

CLASS_NAMES = ("immediate", "phased", "long_term")
_RULE_KEYS = frozenset({"unit", "count", "basis"})
_PROGRESS_KEY = "progress_every_months"
_EXTRA_KEYS = {"long_term": frozenset({_PROGRESS_KEY})}
EXPLICIT_BASIS = "整改通知书载明的期限"


class PolicyError(ValueError):
    """A policy file or mapping holds a missing or invalid value."""


class DeadlineUnit(StrEnum):
    CALENDAR_DAYS = "calendar_days"
    WORKING_DAYS = "working_days"
    EXPLICIT = "explicit"


@dataclass(frozen=True)
class DeadlineRule:
    unit: DeadlineUnit
    count: int
    basis: str


@dataclass(frozen=True)
class DeadlineCalculation:
    """How a deadline date was computed; stored inside Issued / ExtensionGranted events."""

    rule: str
    start: date
    unit: str
    count: int
    basis: str
    calendar_version: str
    provisional: bool
    due_on: date
    rolled_from: date | None = None


@dataclass(frozen=True)
class DeadlinePolicy:
    version: str
    acknowledge: DeadlineRule
    classes: Mapping[str, DeadlineRule]
    verification: DeadlineRule
    long_term_progress_every_months: int
    ladder: LadderPolicy  # [reminders] and [escalation]: PRODUCT.md §5

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> DeadlinePolicy:
        """Parse the mapping loaded from the policy file; other top-level sections are ignored."""
        # The ladder builds on the rules of this module, so it can only be imported here.
        from domain.ladder import LadderPolicy

        version = data.get("version")
        if not isinstance(version, str) or not version.strip():
            raise PolicyError(f"version: expected a non-empty string, got {version!r}")
        long_term = _section(data, "long_term")
        return cls(
            version=version,
            acknowledge=parse_rule(data, "acknowledge"),
            classes={name: parse_rule(data, name) for name in CLASS_NAMES},
            verification=parse_rule(data, "verification"),
            long_term_progress_every_months=_positive_int(long_term, "long_term", _PROGRESS_KEY),
            ladder=LadderPolicy.from_mapping(data),
        )


def _section(data: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    section = data.get(name)
    if not isinstance(section, Mapping):
        raise PolicyError(f"{name}: expected a section (table), got {section!r}")
    return section


def parse_rule(data: Mapping[str, Any], name: str) -> DeadlineRule:
    """Parse the [name] section of the policy file as a deadline rule."""
    section = _section(data, name)
    # Unknown keys are refused so a misspelt "cuont" is reported, not silently ignored.
    unknown = set(section) - _RULE_KEYS - _EXTRA_KEYS.get(name, frozenset())
    if unknown:
        raise PolicyError(f"{name}.{sorted(unknown)[0]}: unknown key")
    return DeadlineRule(
        unit=_unit(section, name),
        count=_positive_int(section, name, "count"),
        basis=_basis(section, name),
    )


def _unit(section: Mapping[str, Any], name: str) -> DeadlineUnit:
    value = section.get("unit")
    allowed = (DeadlineUnit.CALENDAR_DAYS, DeadlineUnit.WORKING_DAYS)
    # An explicit date belongs to one order, never to a policy-wide rule.
    if value not in allowed:
        raise PolicyError(
            f"{name}.unit: expected one of {[str(u) for u in allowed]}, got {value!r}"
        )
    return DeadlineUnit(value)


def _positive_int(section: Mapping[str, Any], name: str, key: str) -> int:
    value = section.get(key)
    # bool is an int subclass; `count = true` is a typo, not 1.
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise PolicyError(f"{name}.{key}: expected a positive integer, got {value!r}")
    return value


def _basis(section: Mapping[str, Any], name: str) -> str:
    value = section.get("basis")
    if not isinstance(value, str) or not value.strip():
        raise PolicyError(f"{name}.basis: expected a non-empty citation, got {value!r}")
    return value


def deadline_for(
    rule_name: str, rule: DeadlineRule, start: date, calendar: WorkingCalendar
) -> DeadlineCalculation:
    """Compute the due date of a policy rule counted from start (start itself not counted)."""
    if rule.unit is DeadlineUnit.WORKING_DAYS:
        due_on, rolled_from = calendar.add_working_days(start, rule.count), None
    elif rule.unit is DeadlineUnit.CALENDAR_DAYS:
        due_on, rolled_from = _calendar_days(start, rule.count, calendar)
    else:
        raise ValueError(f"rule {rule_name!r}: an explicit rule has no date; use explicit_deadline")
    return DeadlineCalculation(
        rule=rule_name,
        start=start,
        unit=rule.unit.value,
        count=rule.count,
        basis=rule.basis,
        calendar_version=calendar.version,
        provisional=_touches_provisional(start, due_on, calendar),
        due_on=due_on,
        rolled_from=rolled_from,
    )


def explicit_deadline(
    due_on: date,
    start: date,
    calendar: WorkingCalendar,
    rule_name: str = "explicit",
    basis: str = EXPLICIT_BASIS,
) -> DeadlineCalculation:
    """Record a date set on the order (or by an extension) as given, without rolling it."""
    if due_on < start:
        raise ValueError(f"due date {due_on} is before start {start}")
    return DeadlineCalculation(
        rule=rule_name,
        start=start,
        unit=DeadlineUnit.EXPLICIT.value,
        count=(due_on - start).days,
        basis=basis,
        calendar_version=calendar.version,
        provisional=_touches_provisional(start, due_on, calendar),
        due_on=due_on,
    )


def _calendar_days(start: date, count: int, calendar: WorkingCalendar) -> tuple[date, date | None]:
    # 民法典第二百零三条: a period ending on a rest day ends on the next working day instead.
    nominal = start + timedelta(days=count)
    due_on = calendar.next_working_day(nominal)
    return due_on, (nominal if due_on != nominal else None)


def _touches_provisional(start: date, due_on: date, calendar: WorkingCalendar) -> bool:
    # Any counted day (start excluded) in an estimated year makes the due date an estimate too.
    first = min(start + timedelta(days=1), due_on)
    return any(calendar.is_provisional(date(y, 1, 1)) for y in range(first.year, due_on.year + 1))
