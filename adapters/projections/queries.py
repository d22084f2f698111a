"""What API processes and reports read: the ledger, scorecards, trails, as of any moment."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, and_, case, func, or_, select

from adapters.eventstore import ChainedApplicationRecorder
from adapters.projections.moments import Moment, findings_at, moment_at
from adapters.projections.scorecard import OPEN, scorecard_rows
from adapters.projections.tables import departments, evaluations, trail
from domain.calendar import CHINA_TZ, WorkingCalendar

MAX_PAGE_SIZE = 500


@dataclass(frozen=True)
class LedgerFilter:
    department: str | None = None
    evaluation: str | None = None
    status: str | None = None
    rectification_class: str | None = None
    overdue: bool | None = None
    text: str | None = None  # 文号, title, description or category contains it


@dataclass(frozen=True)
class Page:
    rows: list[dict[str, Any]]
    total: int
    page: int
    size: int


class ReadModels:
    """Queries over the projected tables; every one takes its moment."""

    def __init__(
        self, engine: Engine, calendar: WorkingCalendar, recorder: ChainedApplicationRecorder
    ) -> None:
        self.engine = engine
        self.calendar = calendar
        self.recorder = recorder

    def moment(self, at: datetime) -> Moment:
        with self.engine.connect() as connection:
            return moment_at(connection, at, self.calendar, self.recorder)

    def department_names(self, moment: Moment) -> dict[str, str]:
        query = select(departments.c.code, departments.c.name).where(
            departments.c.registered_at <= moment.at
        )
        with self.engine.connect() as connection:
            return {row.code: row.name for row in connection.execute(query)}

    def scorecard(self, moment: Moment) -> list[dict[str, Any]]:
        names = self.department_names(moment)
        with self.engine.connect() as connection:
            return scorecard_rows(connection, moment, names)

    def ledger(
        self, moment: Moment, where: LedgerFilter = LedgerFilter(), page: int = 1, size: int = 50
    ) -> Page:
        """Ledger rows in 文号 order, filtered, one page at a time."""
        size = max(1, min(size, MAX_PAGE_SIZE))
        rows = findings_at(moment)
        f = rows.c
        conditions = _ledger_conditions(f, where, moment)
        overdue_days = _overdue_days(f, moment)
        query = (
            select(
                rows,
                evaluations.c.title.label("evaluation_title"),
                evaluations.c.grade.label("evaluation_grade"),
                departments.c.name.label("department_name"),
                and_(f.status.in_(OPEN), f.due_on < moment.day).label("overdue"),
                overdue_days.label("overdue_days"),
            )
            .join(evaluations, evaluations.c.ref == f.evaluation, isouter=True)
            .join(departments, departments.c.code == f.department, isouter=True)
            .where(*conditions)
            .order_by(f.department, f.order_ref, f.ref_sort, f.ref)
            .limit(size)
            .offset((page - 1) * size)
        )
        count = select(func.count()).select_from(rows).where(*conditions)
        with self.engine.connect() as connection:
            total = connection.execute(count).scalar_one()
            found = [_ledger_row(dict(r._mapping)) for r in connection.execute(query)]
        return Page(found, total, page, size)

    def trail(self, aggregate_id: str, moment: Moment) -> list[dict[str, Any]]:
        """Every event of one finding up to the moment, with actor, role, time and reason."""
        query = (
            select(trail)
            .where(trail.c.aggregate_id == aggregate_id, trail.c.at <= moment.at)
            .order_by(trail.c.version)
        )
        with self.engine.connect() as connection:
            return [dict(r._mapping) for r in connection.execute(query)]

    def accountability(
        self, moment: Moment, since: date, until: date, by_person: bool = False
    ) -> list[dict[str, Any]]:
        """Per department (or responsible person): who was late, warned, escalated, and when."""
        return _accountability(self.engine, moment, since, until, by_person)


def _ledger_conditions(f: Any, where: LedgerFilter, moment: Moment) -> list[Any]:
    conditions = []
    if where.department:
        conditions.append(f.department == where.department.upper())
    if where.evaluation:
        conditions.append(f.evaluation == where.evaluation)
    if where.status:
        conditions.append(f.status == where.status)
    if where.rectification_class:
        conditions.append(f.rectification_class == where.rectification_class)
    if where.overdue is not None:
        late = and_(f.status.in_(OPEN), f.due_on < moment.day)
        conditions.append(late if where.overdue else ~late)
    if where.text:
        pattern = (
            "%" + where.text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        )
        conditions.append(
            or_(
                *(
                    c.like(pattern, escape="\\")
                    for c in (f.order_ref, f.title, f.description, f.category)
                )
            )
        )
    return conditions


def _overdue_days(f: Any, moment: Moment) -> Any:
    """Working days the department has missed this cycle, as the finding itself reports."""
    later = case((f.due_wdn > f.held_since_wdn, f.due_wdn), else_=f.held_since_wdn)
    ongoing = case(
        (and_(f.holder == "department", moment.day_number > later), moment.day_number - later),
        else_=0,
    )
    late = and_(f.status.in_(OPEN), f.due_on < moment.day)
    return case((late, f.department_overdue_days + ongoing), else_=0)


_INTERNAL = frozenset(
    {"department_periods", "held_since_wdn", "due_wdn", "verify_due_wdn", "ref_sort"}
)


def _ledger_row(row: Mapping[str, Any]) -> dict[str, Any]:
    plain = {
        k: v for k, v in row.items() if k not in _INTERNAL and k not in ("valid_from", "valid_to")
    }
    plain["overdue"] = bool(plain["overdue"])
    return plain


def _accountability(
    engine: Engine, moment: Moment, since: date, until: date, by_person: bool
) -> list[dict[str, Any]]:
    start = datetime.combine(since, datetime.min.time(), CHINA_TZ)
    end = min(datetime.combine(until + timedelta(days=1), datetime.min.time(), CHINA_TZ), moment.at)
    rows = findings_at(moment)
    f = rows.c
    key = [f.department, f.responsible_person] if by_person else [f.department]
    in_period = and_(trail.c.at >= start, trail.c.at < end)

    def events(kind: str, level: int | None = None) -> Any:
        condition = and_(in_period, trail.c.type == kind)
        if level is not None:
            condition = and_(condition, trail.c.level == level)
        return func.sum(case((condition, 1), else_=0))

    late = and_(
        f.due_on >= since, f.due_on <= until, or_(f.verified_on.is_(None), f.verified_on > f.due_on)
    )
    per_finding = (
        select(
            *key,
            f.id,
            case((late, 1), else_=0).label("late"),
            events("ReminderSent").label("reminders"),
            events("Escalated", 1).label("escalations_1"),
            events("Escalated", 2).label("escalations_2"),
            events("Escalated", 3).label("escalations_3"),
            events("Rejected").label("rejections"),
            events("InterviewRecorded").label("interviews"),
            events("AccountabilityDecided").label("decisions"),
        )
        .join(trail, trail.c.aggregate_id == f.id, isouter=True)
        .where(f.status != "withdrawn")
        .group_by(*key, f.id, f.due_on, f.verified_on)
        .subquery()
    )
    p = per_finding.c
    grouping = [p.department, p.responsible_person] if by_person else [p.department]
    counted = [c for c in p if c.name not in {"department", "responsible_person", "id"}]
    summary = (
        select(
            *grouping, func.count().label("findings"), *(func.sum(c).label(c.name) for c in counted)
        )
        .group_by(*grouping)
        .order_by(*grouping)
    )
    with engine.connect() as connection:
        return [_accountability_row(dict(r._mapping)) for r in connection.execute(summary)]


def _accountability_row(row: dict[str, Any]) -> dict[str, Any]:
    escalations = {str(n): int(row.pop(f"escalations_{n}") or 0) for n in (1, 2, 3)}
    counts = {
        k: int(v or 0) for k, v in row.items() if k not in ("department", "responsible_person")
    }
    return {**row, **counts, "escalations": escalations}
