"""Deadline policy: parsing the policy mapping and computing due dates over China's calendar."""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

import pytest

from adapters.calendar_table import load_holiday_table
from domain.calendar import HolidayTable, WorkingCalendar
from domain.policies import (
    DeadlineCalculation,
    DeadlinePolicy,
    DeadlineRule,
    DeadlineUnit,
    PolicyError,
    deadline_for,
    explicit_deadline,
)

D = date.fromisoformat
CAL = DeadlineUnit.CALENDAR_DAYS
WORK = DeadlineUnit.WORKING_DAYS

VALID: dict[str, Any] = {
    "version": "test.1",
    "acknowledge": {"unit": "working_days", "count": 3, "basis": "ack basis"},
    "immediate": {"unit": "calendar_days", "count": 30, "basis": "immediate basis"},
    "phased": {"unit": "calendar_days", "count": 90, "basis": "phased basis"},
    "long_term": {
        "unit": "calendar_days",
        "count": 365,
        "basis": "long-term basis",
        "progress_every_months": 3,
    },
    "verification": {"unit": "working_days", "count": 15, "basis": "verification basis"},
    "reminders": {
        "hold_on_rest_days": True,
        "basis": "rest-day basis",
        "unacknowledged": {"recipients": ["department_contact"], "basis": "ack basis"},
        "deadline": {
            "working_days_before": [1, 5, 0],
            "recipients": ["department_contact", "responsible_person"],
            "basis": "deadline basis",
        },
        "overdue": {
            "every_working_days": 5,
            "recipients": ["department_contact", "evaluator"],
            "basis": "overdue basis",
        },
        "unverified": {"recipients": ["evaluator"], "basis": "verify basis"},
    },
    "escalation": {
        "level_1": {
            "overdue_working_days": 1,
            "recipients": ["department_head", "evaluator", "supervisors"],
            "basis": "督办 basis",
        },
        "level_2": {
            "overdue_working_days": 10,
            "rejections": 2,
            "recipients": ["supervisors"],
            "basis": "约谈 basis",
        },
        "level_3": {
            "overdue_working_days": 30,
            "recipients": ["supervisors"],
            "basis": "问责 basis",
        },
    },
    "budget_linkage": {"anything": "is parsed by its own policy"},
}


@pytest.fixture(scope="module")
def china() -> WorkingCalendar:
    return WorkingCalendar(load_holiday_table(last_year=2031))


@pytest.mark.parametrize(
    ("unit", "count", "start", "due_on", "rolled_from"),
    [
        # immediate: 2025-10-05 falls in the National Day holiday (民法典第二百零三条)
        (CAL, 30, "2025-09-05", "2025-10-09", "2025-10-05"),
        (CAL, 30, "2025-09-10", "2025-10-10", None),
        # phased: 2025-10-02 rolls past the holiday; 2025-10-09 is a working Thursday
        (CAL, 90, "2025-07-04", "2025-10-09", "2025-10-02"),
        (CAL, 90, "2025-07-11", "2025-10-09", None),
        # long_term: 2026-02-17 is Spring Festival; an ordinary Saturday rolls to Monday
        (CAL, 365, "2025-02-17", "2026-02-24", "2026-02-17"),
        (CAL, 365, "2025-02-04", "2026-02-04", None),
        (CAL, 365, "2025-03-07", "2026-03-09", "2026-03-07"),
        # acknowledge: the make-up Saturday 2025-10-11 counts as a working day
        (WORK, 3, "2025-09-29", "2025-10-10", None),
        (WORK, 3, "2025-09-30", "2025-10-11", None),
        # verification: 2026 Spring Festival, with both make-up Saturdays counted
        (WORK, 15, "2026-02-09", "2026-03-06", None),
    ],
)
def test_deadline_for_counts_across_holidays(
    china: WorkingCalendar,
    unit: DeadlineUnit,
    count: int,
    start: str,
    due_on: str,
    rolled_from: str | None,
) -> None:
    rule = DeadlineRule(unit, count, "basis text")
    calculation = deadline_for("class:x", rule, D(start), china)
    assert calculation == DeadlineCalculation(
        rule="class:x",
        start=D(start),
        unit=unit.value,
        count=count,
        basis="basis text",
        calendar_version=china.version,
        provisional=False,
        due_on=D(due_on),
        rolled_from=D(rolled_from) if rolled_from else None,
    )


@pytest.fixture
def notices_to_2026() -> WorkingCalendar:
    """Official notices up to 2026 only, whatever the installed library already knows."""
    years = frozenset(range(2004, 2027))
    return WorkingCalendar(HolidayTable("test", frozenset(), frozenset(), years))


@pytest.mark.parametrize(
    ("unit", "count", "start", "provisional"),
    [
        (CAL, 30, "2026-11-30", False),  # due 2026-12-30
        (CAL, 30, "2026-12-15", True),  # due in 2027, a year without a notice yet
        (CAL, 365, "2026-06-01", True),
        (WORK, 15, "2026-12-01", False),
        (WORK, 15, "2026-12-25", True),
        (CAL, 30, "2027-03-01", True),
    ],
)
def test_deadline_for_flags_provisional_years(
    notices_to_2026: WorkingCalendar,
    unit: DeadlineUnit,
    count: int,
    start: str,
    provisional: bool,
) -> None:
    rule = DeadlineRule(unit, count, "basis")
    assert deadline_for("r", rule, D(start), notices_to_2026).provisional is provisional


def test_deadline_for_refuses_an_explicit_rule(china: WorkingCalendar) -> None:
    with pytest.raises(ValueError, match="explicit_deadline"):
        deadline_for("r", DeadlineRule(DeadlineUnit.EXPLICIT, 0, "b"), D("2025-01-06"), china)


def test_explicit_deadline_keeps_a_rest_day_as_given(china: WorkingCalendar) -> None:
    calculation = explicit_deadline(D("2025-10-05"), D("2025-09-05"), china)
    assert calculation.due_on == D("2025-10-05")
    assert calculation.rolled_from is None
    assert (calculation.rule, calculation.unit, calculation.count) == ("explicit", "explicit", 30)
    assert calculation.calendar_version == china.version
    assert not calculation.provisional
    assert calculation.basis


def test_explicit_deadline_records_an_extension(notices_to_2026: WorkingCalendar) -> None:
    calculation = explicit_deadline(
        D("2027-01-15"), D("2026-12-01"), notices_to_2026, rule_name="extension", basis="延期批复"
    )
    assert (calculation.rule, calculation.basis, calculation.count) == ("extension", "延期批复", 45)
    assert calculation.provisional


def test_explicit_deadline_refuses_a_date_before_start(china: WorkingCalendar) -> None:
    with pytest.raises(ValueError, match="before start"):
        explicit_deadline(D("2025-09-04"), D("2025-09-05"), china)


def test_from_mapping_reads_every_rule() -> None:
    policy = DeadlinePolicy.from_mapping(VALID)
    assert policy.version == "test.1"
    assert policy.acknowledge == DeadlineRule(WORK, 3, "ack basis")
    assert policy.classes == {
        "immediate": DeadlineRule(CAL, 30, "immediate basis"),
        "phased": DeadlineRule(CAL, 90, "phased basis"),
        "long_term": DeadlineRule(CAL, 365, "long-term basis"),
    }
    assert policy.verification == DeadlineRule(WORK, 15, "verification basis")
    assert policy.long_term_progress_every_months == 3
    # The ladder reads its sections from the same mapping and reuses [verification].
    assert policy.ladder.verification == policy.verification
    assert policy.ladder.deadline.working_days_before == (5, 1, 0)


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("version",), None, "version"),
        (("version",), "  ", "version"),
        (("acknowledge",), None, "acknowledge"),
        (("phased",), 90, "phased"),
        (("immediate", "count"), 0, "immediate.count"),
        (("immediate", "count"), -30, "immediate.count"),
        (("immediate", "count"), True, "immediate.count"),
        (("immediate", "count"), "30", "immediate.count"),
        (("immediate", "count"), None, "immediate.count"),
        (("acknowledge", "unit"), "explicit", "acknowledge.unit"),
        (("acknowledge", "unit"), "weeks", "acknowledge.unit"),
        (("verification", "basis"), "", "verification.basis"),
        (("verification", "basis"), None, "verification.basis"),
        (("phased", "cuont"), 90, "phased.cuont"),
        (("phased", "progress_every_months"), 3, "phased.progress_every_months"),
        (("long_term", "progress_every_months"), 0, "long_term.progress_every_months"),
        (("long_term", "progress_every_months"), None, "long_term.progress_every_months"),
        (("reminders",), None, "reminders"),
        (("escalation", "level_2", "rejections"), 0, "escalation.level_2.rejections"),
        (("reminders", "overdue", "recipients"), ["boss"], "reminders.overdue.recipients"),
    ],
)
def test_from_mapping_names_the_bad_key(path: tuple[str, ...], value: Any, message: str) -> None:
    data = _with(VALID, path, value)
    with pytest.raises(PolicyError, match=message.replace(".", r"\.")):
        DeadlinePolicy.from_mapping(data)


def _with(data: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    # None means "remove the key", so missing and invalid values share one table.
    changed = copy.deepcopy(data)
    target = changed
    for key in path[:-1]:
        target = target[key]
    if value is None:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return changed
