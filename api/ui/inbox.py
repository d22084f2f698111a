"""The landing page: a department's own findings (我的整改), or every finding for the others."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from fastapi import APIRouter, Response

from adapters.projections.queries import LedgerFilter, ReadModels
from api.ui.pages import PageRoute, UiDep, lists_current, render
from api.ui.security import SignedIn
from domain.calendar import local_date
from domain.values import Role

router = APIRouter(route_class=PageRoute, include_in_schema=False)
OPEN = ("issued", "acknowledged", "rectified")
STATUSES = ("open", *OPEN, "verified", "withdrawn", "all")
PER_STATUS = 500  # rows read per status; past that the page asks for a narrower filter


@dataclass(frozen=True)
class Filters:
    status: str = "open"
    overdue: str = ""  # "", "yes" or "no"
    department: str = ""
    q: str = ""

    @property
    def ledger(self) -> LedgerFilter:
        late = {"yes": True, "no": False}.get(self.overdue)
        return LedgerFilter(self.department or None, None, None, None, late, self.q or None)


@router.get("/")
def inbox(ui: UiDep, who: SignedIn) -> Response:
    """Findings sorted by urgency: overdue first, then the fewest working days left."""
    user, lastmile = who.user, ui.lastmile
    filters = _filters(ui, user.role)
    if user.role is Role.DEPARTMENT:
        filters = Filters(filters.status, filters.overdue, user.department or "", filters.q)
    lists_current(ui)
    models = lastmile.read_models
    moment = models.moment(lastmile.app.clock())
    statuses = OPEN if filters.status == "open" else (filters.status,)
    rows, total = [], 0
    for status in statuses if filters.status != "all" else (None,):
        where = LedgerFilter(**{**filters.ledger.__dict__, "status": status})
        page = models.ledger(moment, where, 1, PER_STATUS)
        rows += page.rows
        total += page.total
    today = local_date(moment.at)
    waiting_on_others = user.role is Role.DEPARTMENT
    shown = sorted((_with_clock(r, models, today, waiting_on_others) for r in rows), key=_urgency)
    return render(
        ui,
        "inbox.html.j2",
        visitor=who,
        rows=shown,
        total=total,
        filters=filters,
        statuses=STATUSES,
        departments=models.department_names(moment) if user.role is not Role.DEPARTMENT else {},
        today=today,
        mine=user.role is Role.DEPARTMENT,
    )


def _filters(ui: UiDep, role: Role) -> Filters:
    query = ui.request.query_params
    status = query.get("status", "open")
    overdue = query.get("overdue", "")
    return Filters(
        status if status in STATUSES else "open",
        overdue if overdue in ("yes", "no") else "",
        query.get("department", "")[:32] if role is not Role.DEPARTMENT else "",
        query.get("q", "")[:200].replace("\x00", ""),
    )


def _with_clock(
    row: dict[str, Any], models: ReadModels, today: date, waiting_on_others: bool
) -> dict[str, Any]:
    """The row with the date its holder works against, and the working days left or late.

    A submitted finding's clock is the evaluator's (verification), not the department's.
    """
    clock: date | None = None
    if row["status"] in ("issued", "acknowledged"):
        clock = row["due_on"]
    elif row["status"] == "rectified" and not waiting_on_others:
        clock = row.get("verify_due_on")
    left = late = None
    if clock is not None:
        left = models.calendar.working_days_between(today, clock)
        late = models.calendar.working_days_between(clock, today) if clock < today else 0
    verifying = row["status"] == "rectified"
    return {
        **row,
        "clock": clock,
        "days_left": left,
        "waiting": verifying and waiting_on_others,
        "verifying": verifying and clock is not None,
        "late_days": row["overdue_days"] or (late if verifying else 0) or 0,
    }


def _urgency(row: dict[str, Any]) -> tuple[Any, ...]:
    closed = row["status"] not in OPEN
    no_clock = row["days_left"] is None
    return (
        closed,
        not row["late_days"],
        -row["late_days"],
        no_clock,
        row["days_left"] or 0,
        row["order_ref"],
        row["ref"],
    )
