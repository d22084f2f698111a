"""Builds the project's holiday table from chinese-calendar (official) and holidays (estimates)."""

from __future__ import annotations

import functools
import itertools
from datetime import UTC, date, datetime, timedelta
from importlib.metadata import version

import holidays
from chinese_calendar import constants

from domain.calendar import HolidayTable, local_date

# Years past today's that still get an estimate, so long_term deadlines can be computed.
_YEARS_AHEAD = 5
_SATURDAY = 5


@functools.cache
def load_holiday_table(first_year: int = 2004, last_year: int | None = None) -> HolidayTable:
    """Return the holiday table for first_year..last_year (default: five years after today)."""
    if last_year is None:
        last_year = local_date(datetime.now(UTC)).year + _YEARS_AHEAD
    years = range(first_year, last_year + 1)
    official = frozenset(_official_years() & set(years))
    provisional = frozenset(set(years) - official)
    rest, work = _official_days(official)
    estimated_rest, estimated_work = _estimated_days(provisional)
    return HolidayTable(
        version=_version(provisional),
        rest_days=frozenset(rest | estimated_rest),
        makeup_workdays=frozenset(work | estimated_work),
        official_years=official,
        provisional_years=provisional,
    )


def _official_years() -> set[int]:
    # chinese-calendar only lists years whose State Council notice it has transcribed.
    return {day.year for day in constants.holidays}


def _official_days(years: frozenset[int]) -> tuple[set[date], set[date]]:
    # The constants dicts are read directly: get_holidays() raises outside its years.
    rest: set[date] = {day for day in constants.holidays if day.year in years}
    work: set[date] = {day for day in constants.workdays if day.year in years}
    return rest, work


def _estimated_days(years: frozenset[int]) -> tuple[set[date], set[date]]:
    if not years:
        return set(), set()
    table = holidays.country_holidays("CN", years=sorted(years))
    # weekend_workdays keeps every year the library knows, whatever years were asked for.
    work = {day for day in table.weekend_workdays if day.year in years}
    rest = _bridge_weekends({day for day in table if day.year in years}) - work
    return rest, work


def _bridge_weekends(rest: set[date]) -> set[date]:
    # holidays omits weekend days inside a holiday period; the table's rest_days includes them.
    bridged = set(rest)
    ordered = sorted(rest)
    for before, after in itertools.pairwise(ordered):
        gap = [before + timedelta(days=n) for n in range(1, (after - before).days)]
        if gap and all(day.weekday() >= _SATURDAY for day in gap):
            bridged.update(gap)
    return bridged


def _version(provisional: frozenset[int]) -> str:
    libraries = f"chinese-calendar {version('chinese-calendar')} + holidays {version('holidays')}"
    if not provisional:
        return libraries
    return f"{libraries} (provisional {_year_ranges(provisional)})"


def _year_ranges(years: frozenset[int]) -> str:
    ranges: list[list[int]] = []
    for year in sorted(years):
        if ranges and ranges[-1][-1] == year - 1:
            ranges[-1][-1] = year
        else:
            ranges.append([year, year])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in ranges)
