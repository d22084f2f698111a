"""Working-day arithmetic for China over a project-owned holiday table."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

CHINA_TZ = ZoneInfo("Asia/Shanghai")
_ONE_DAY = timedelta(days=1)
_SATURDAY = 5
_EPOCH_YEAR = 2000


@dataclass(frozen=True)
class HolidayTable:
    """Project-owned table of China's rest days and 调休 make-up working days."""

    version: str
    rest_days: frozenset[date]
    makeup_workdays: frozenset[date]
    official_years: frozenset[int]
    provisional_years: frozenset[int] = frozenset()

    def __post_init__(self) -> None:
        # A day that is both rest and work would make the answer depend on check order.
        clash = self.rest_days & self.makeup_workdays
        if clash:
            raise ValueError(f"days both rest and make-up working: {_iso(clash)}")
        both = self.official_years & self.provisional_years
        if both:
            raise ValueError(f"years both official and provisional: {sorted(both)}")


def _iso(days: frozenset[date]) -> str:
    return ", ".join(day.isoformat() for day in sorted(days))


class WorkingCalendar:
    """Answers working-day questions; years outside the table fall back to Mon–Fri."""

    def __init__(self, table: HolidayTable) -> None:
        self._table = table
        self._running_totals: dict[int, list[int]] = {}  # per year: working days to date
        self._year_offsets: dict[int, int] = {_EPOCH_YEAR: 0}

    @property
    def version(self) -> str:
        return self._table.version

    def is_working_day(self, day: date) -> bool:
        """Tell whether people are at work on this day."""
        if day in self._table.makeup_workdays:
            return True
        return day.weekday() < _SATURDAY and day not in self._table.rest_days

    def is_provisional(self, day: date) -> bool:
        """Tell whether this day's year lacks a published State Council notice."""
        return day.year not in self._table.official_years

    def next_working_day(self, day: date) -> date:
        """Return the day itself if working, else the first working day after it."""
        while not self.is_working_day(day):
            day += _ONE_DAY
        return day

    def add_working_days(self, start: date, count: int) -> date:
        """Return the count-th working day after start; start itself is not counted."""
        if count < 0:
            raise ValueError(f"count must be >= 0, got {count}")
        day = start
        for _ in range(count):
            day = self.next_working_day(day + _ONE_DAY)
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Count working days d with start < d <= end."""
        if end <= start:
            return 0
        return self.working_day_number(end) - self.working_day_number(start)

    def working_day_number(self, day: date) -> int:
        """Working days from 2000-01-01 through day (negative before 2000).

        The difference of two numbers is the working days between them, which lets a
        database sum and bucket working-day ages with plain arithmetic.
        """
        return self._year_offset(day.year) + self._totals(day.year)[day.timetuple().tm_yday - 1]

    def _totals(self, year: int) -> list[int]:
        if year not in self._running_totals:
            day, total, totals = date(year, 1, 1), 0, []
            while day.year == year:
                total += self.is_working_day(day)
                totals.append(total)
                day += _ONE_DAY
            self._running_totals[year] = totals
        return self._running_totals[year]

    def _year_offset(self, year: int) -> int:
        """Working days from 2000-01-01 up to (not including) 1 January of year."""
        step = 1 if year > _EPOCH_YEAR else -1
        known = year
        while known not in self._year_offsets:
            known -= step
        while known != year:
            if step == 1:
                offset = self._year_offsets[known] + self._totals(known)[-1]
            else:
                offset = self._year_offsets[known] - self._totals(known - 1)[-1]
            known += step
            self._year_offsets[known] = offset
        return self._year_offsets[year]


def end_of_day(day: date) -> datetime:
    """Return the last moment of the day in China, when a deadline on that day expires."""
    return datetime.combine(day, time.max, tzinfo=CHINA_TZ)


def local_date(moment: datetime) -> date:
    """Return the China date of an aware moment."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        # A naive value would silently be read in the server's zone, not China's.
        raise ValueError(f"moment must be timezone-aware, got {moment!r}")
    return moment.astimezone(CHINA_TZ).date()
