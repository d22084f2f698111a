"""Working-day calendar: a hand-written table, then China's real 2025–2026 holidays."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import chinese_calendar
import pytest

from adapters.calendar_table import load_holiday_table
from domain.calendar import (
    CHINA_TZ,
    HolidayTable,
    WorkingCalendar,
    end_of_day,
    local_date,
)

D = date.fromisoformat

# A tiny made-up year 2030: a Wed–Fri holiday with the following Saturday worked.
SMALL = HolidayTable(
    version="test-table 1",
    rest_days=frozenset({D("2030-05-01"), D("2030-05-02"), D("2030-05-03")}),
    makeup_workdays=frozenset({D("2030-05-04")}),
    official_years=frozenset({2030}),
)


@pytest.fixture
def small() -> WorkingCalendar:
    return WorkingCalendar(SMALL)


@pytest.fixture(scope="module")
def china() -> WorkingCalendar:
    return WorkingCalendar(load_holiday_table(last_year=2031))


@pytest.mark.parametrize(
    ("day", "working"),
    [
        ("2030-04-30", True),  # Tuesday before the holiday
        ("2030-05-01", False),  # holiday weekday
        ("2030-05-03", False),
        ("2030-05-04", True),  # make-up Saturday
        ("2030-05-05", False),  # ordinary Sunday
        ("2030-05-06", True),
    ],
)
def test_small_table_decides_working_days(small: WorkingCalendar, day: str, working: bool) -> None:
    assert small.is_working_day(D(day)) is working


@pytest.mark.parametrize(
    ("start", "count", "expected"),
    [
        ("2030-04-29", 0, "2030-04-29"),
        ("2030-04-29", 1, "2030-04-30"),
        ("2030-04-29", 2, "2030-05-04"),  # skips the holiday, lands on the make-up Saturday
        ("2030-04-29", 3, "2030-05-06"),
        ("2030-05-01", 0, "2030-05-01"),  # count 0 is start, even on a rest day
    ],
)
def test_small_table_adds_working_days(
    small: WorkingCalendar, start: str, count: int, expected: str
) -> None:
    assert small.add_working_days(D(start), count) == D(expected)


def test_add_working_days_refuses_negative_count(small: WorkingCalendar) -> None:
    with pytest.raises(ValueError, match="count"):
        small.add_working_days(D("2030-04-29"), -1)


def test_small_table_reports_its_version_and_provisional_years(small: WorkingCalendar) -> None:
    assert small.version == "test-table 1"
    assert not small.is_provisional(D("2030-12-31"))
    assert small.is_provisional(D("2031-01-01"))


def test_table_refuses_a_day_both_rest_and_worked() -> None:
    with pytest.raises(ValueError, match="2030-05-04"):
        HolidayTable("bad", frozenset({D("2030-05-04")}), frozenset({D("2030-05-04")}), frozenset())


@pytest.mark.parametrize(
    "day",
    [
        # 2025 Spring Festival
        *[f"2025-01-{d}" for d in range(28, 32)],
        *[f"2025-02-0{d}" for d in range(1, 5)],
        # 2025 National Day + Mid-Autumn
        *[f"2025-10-0{d}" for d in range(1, 9)],
        # 2026 Spring Festival
        *[f"2026-02-{d}" for d in range(15, 24)],
        # 2026 National Day
        *[f"2026-10-0{d}" for d in range(1, 8)],
    ],
)
def test_china_holiday_periods_are_rest_days(china: WorkingCalendar, day: str) -> None:
    assert not china.is_working_day(D(day))


@pytest.mark.parametrize(
    "day",
    [
        "2025-01-26",  # Sunday before Spring Festival
        "2025-02-08",  # Saturday after
        "2025-09-28",  # Sunday before National Day
        "2025-10-11",  # Saturday after
        "2026-02-14",  # Saturday before Spring Festival
        "2026-02-28",  # Saturday after
        "2026-09-20",  # Sunday before National Day
        "2026-10-10",  # Saturday after
    ],
)
def test_china_makeup_weekends_are_working_days(china: WorkingCalendar, day: str) -> None:
    assert D(day).weekday() >= 5
    assert china.is_working_day(D(day))


@pytest.mark.parametrize(
    ("start", "count", "expected"),
    [
        ("2025-01-24", 1, "2025-01-26"),  # Fri → make-up Sunday
        ("2025-01-24", 3, "2025-02-05"),  # 01-26, 01-27, then after the holiday
        ("2025-01-27", 1, "2025-02-05"),
        ("2025-09-26", 1, "2025-09-28"),
        ("2025-09-30", 1, "2025-10-09"),
        ("2025-09-30", 3, "2025-10-11"),  # 10-09, 10-10, make-up Saturday 10-11
        ("2026-02-13", 1, "2026-02-14"),
        ("2026-02-13", 2, "2026-02-24"),
        ("2026-02-27", 1, "2026-02-28"),
        ("2026-09-30", 2, "2026-10-09"),  # 10-08, 10-09
        ("2026-09-30", 3, "2026-10-10"),
        ("2025-12-31", 1, "2026-01-04"),  # New Year 01-01..01-03 off, Sunday 01-04 worked
    ],
)
def test_china_adds_working_days_across_holidays(
    china: WorkingCalendar, start: str, count: int, expected: str
) -> None:
    assert china.add_working_days(D(start), count) == D(expected)


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        ("2025-09-30", "2025-10-08", 0),
        ("2025-09-30", "2025-10-11", 3),
        ("2025-09-27", "2025-09-28", 1),
        ("2026-02-13", "2026-02-28", 6),  # 02-14, 02-24..02-27, 02-28
        ("2025-10-11", "2025-09-30", 0),  # end before start
        ("2025-10-11", "2025-10-11", 0),
        ("2025-01-01", "2025-12-31", 248),  # 261 weekdays - 18 holiday weekdays + 5 make-up days
    ],
)
def test_china_counts_working_days_between(
    china: WorkingCalendar, start: str, end: str, expected: int
) -> None:
    assert china.working_days_between(D(start), D(end)) == expected


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        ("2025-10-01", "2025-10-09"),
        ("2025-10-09", "2025-10-09"),
        ("2025-10-05", "2025-10-09"),
        ("2026-02-15", "2026-02-24"),
        ("2026-02-08", "2026-02-09"),  # ordinary Sunday
    ],
)
def test_china_next_working_day(china: WorkingCalendar, day: str, expected: str) -> None:
    assert china.next_working_day(D(day)) == D(expected)


# The first year no State Council notice covers yet, read from the library so that a new
# chinese-calendar release (with next year's notice) does not break these tests.
FIRST_PROVISIONAL = max(chinese_calendar.constants.holidays).year + 1


@pytest.mark.parametrize(
    ("day", "provisional"),
    [
        ("2004-01-01", False),
        ("2026-12-31", False),
        (f"{FIRST_PROVISIONAL}-01-01", True),
        ("2031-06-01", True),
    ],
)
def test_china_flags_years_without_a_notice(
    china: WorkingCalendar, day: str, provisional: bool
) -> None:
    assert china.is_provisional(D(day)) is provisional


def test_china_table_names_libraries_and_provisional_years(china: WorkingCalendar) -> None:
    assert china.version.startswith("chinese-calendar ")
    assert " + holidays " in china.version
    assert china.version.endswith(f"(provisional {FIRST_PROVISIONAL}-2031)")


def test_china_estimates_the_statutory_national_day_of_a_provisional_year(
    china: WorkingCalendar,
) -> None:
    # Whatever the make-up arrangement turns out to be, 1-3 October are statutory holidays.
    assert not any(china.is_working_day(D(f"{FIRST_PROVISIONAL}-10-0{d}")) for d in (1, 2, 3))


@pytest.mark.parametrize("year", [1900, 2003, 2040, 2199, 9000])
def test_years_outside_the_table_fall_back_to_weekdays(china: WorkingCalendar, year: int) -> None:
    start = _first_monday_of_march(year)
    week = [start + timedelta(days=n) for n in range(7)]
    assert [china.is_working_day(d) for d in week] == [d.weekday() < 5 for d in week]
    assert china.is_provisional(start)
    assert china.add_working_days(start, 5) == start + timedelta(days=7)


def _first_monday_of_march(year: int) -> date:
    first = date(year, 3, 1)
    return first + timedelta(days=-first.weekday() % 7)


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (datetime(2025, 9, 30, 15, 59, tzinfo=UTC), "2025-09-30"),
        (datetime(2025, 9, 30, 16, 0, tzinfo=UTC), "2025-10-01"),  # midnight in Beijing
        (datetime(2025, 10, 1, 0, 30, tzinfo=timezone(timedelta(hours=9))), "2025-09-30"),
    ],
)
def test_local_date_reads_the_china_date(moment: datetime, expected: str) -> None:
    assert local_date(moment) == D(expected)


def test_local_date_refuses_naive_moments() -> None:
    with pytest.raises(ValueError, match="aware"):
        local_date(datetime(2025, 10, 1))  # noqa: DTZ001 - the naive value is the point


def test_end_of_day_is_the_last_moment_in_china() -> None:
    moment = end_of_day(D("2025-10-09"))
    assert moment == datetime(2025, 10, 9, 23, 59, 59, 999999, tzinfo=CHINA_TZ)
    assert moment.astimezone(UTC) == datetime(2025, 10, 9, 15, 59, 59, 999999, tzinfo=UTC)
    assert local_date(moment) == D("2025-10-09")
    assert local_date(moment + timedelta(microseconds=1)) == D("2025-10-10")


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("2025-09-26", "2025-10-13"),  # across National Day and the make-up Saturday
        ("2026-02-10", "2026-03-02"),  # across the 2026 Spring Festival
        ("1998-12-20", "2001-01-10"),  # across the epoch of the numbering
        ("2026-12-15", "2028-01-05"),  # into provisional years
        ("8999-12-25", "9000-01-08"),  # far outside the table
    ],
)
def test_working_day_numbers_differ_by_the_working_days_between(
    china: WorkingCalendar, start: str, end: str
) -> None:
    a, b = D(start), D(end)
    by_counting = sum(
        china.is_working_day(a + timedelta(days=n)) for n in range(1, (b - a).days + 1)
    )

    assert china.working_day_number(b) - china.working_day_number(a) == by_counting
    assert china.working_days_between(a, b) == by_counting
