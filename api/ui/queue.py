"""The verification queue (待核查): submitted findings, on the evaluator's own clock.

Once a department submits, the clock is the evaluator's: the policy's [verification] rule
(15 working days by default) gives each finding a verification due date, and the queue puts
the latest first, then the fewest working days left.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Response

from adapters.projections.moments import Moment
from adapters.projections.queries import LedgerFilter, ReadModels
from api.ui.pages import PageError, PageRoute, UiDep, lists_current, render
from api.ui.security import SignedIn
from domain.calendar import WorkingCalendar, local_date
from domain.values import Role

router = APIRouter(route_class=PageRoute, include_in_schema=False)
PAGE_SIZE = 500
MOST = 5000  # past that the page asks for a department filter


@router.get("/verification")
def verification_queue(ui: UiDep, who: SignedIn) -> Response:
    """Findings waiting for verification, the most urgent first."""
    if who.user.role is Role.DEPARTMENT:
        raise PageError(403, "error.role")
    lists_current(ui)
    models = ui.lastmile.read_models
    moment = models.moment(ui.lastmile.app.clock())
    names = models.department_names(moment)
    department = ui.request.query_params.get("department", "")
    department = department if department in names else ""
    rows, total = _submitted(models, moment, department)
    today = local_date(moment.at)
    shown = sorted((_on_clock(row, models.calendar, today) for row in rows), key=_urgency)
    return render(
        ui,
        "queue.html.j2",
        visitor=who,
        section="verification",
        rows=shown,
        total=total,
        late=sum(1 for row in shown if row["late"]),
        departments=names,
        department=department,
        verify_days=ui.lastmile.app.policy.verification.count,
    )


def _submitted(
    models: ReadModels, moment: Moment, department: str
) -> tuple[list[dict[str, Any]], int]:
    where = LedgerFilter(department=department or None, status="rectified")
    rows: list[dict[str, Any]] = []
    page = models.ledger(moment, where, 1, PAGE_SIZE)
    rows += page.rows
    while len(rows) < min(page.total, MOST):
        page = models.ledger(moment, where, page.page + 1, PAGE_SIZE)
        rows += page.rows
    return rows, page.total


def _on_clock(row: dict[str, Any], calendar: WorkingCalendar, today: date) -> dict[str, Any]:
    """The row with its verification due date, and the working days left or late."""
    due: date | None = row.get("verify_due_on")
    late = past = False
    days = 0
    if due is not None and due < today:
        late, days = True, calendar.working_days_between(due, today)
        past = days == 0  # past the date over a weekend: late from the next working day
    elif due is not None:
        days = calendar.working_days_between(today, due)
    return {**row, "verify_due": due, "late": late, "past": past, "days": days}


def _urgency(row: dict[str, Any]) -> tuple[Any, ...]:
    return (
        not row["late"],
        -row["days"] if row["late"] else row["days"],
        row["verify_due"] or date.max,
        row["submitted_at"],
        row["order_ref"],
        row["ref"],
    )
