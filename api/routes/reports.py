"""Reports as of any moment in every format, and the integrity check of the whole log."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response

from adapters.projections.linkage import budget_linkage
from adapters.projections.queries import LedgerFilter
from adapters.reports.builders import (
    accountability_report,
    ledger_report,
    linkage_report,
    scorecard_report,
)
from adapters.reports.model import Report
from adapters.reports.render import FORMATS, file_name, media_type, render
from api.authorization import Action
from api.deps import AsOf, CurrentUser, LastmileDep, permitted, read_after
from api.errors import Problem
from api.schemas import IntegrityOut
from domain.values import Actor, Role

router = APIRouter(prefix="/api/v1", tags=["reports"])
Format = Literal["json", "csv", "xlsx", "pdf", "html"]
ReportReader = Annotated[Actor, Depends(permitted(Action.READ_REPORTS))]
# Every report also waits for `?after=` (read your writes) through this dependency.
router.dependencies.append(Depends(read_after))
BINARY = {"schema": {"type": "string", "format": "binary"}}
REPORT: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The report in the format asked for; JSON has `as_of`, `digest` and `rows`.",
        "content": {media_type(f).split(";")[0]: {} if f == "json" else BINARY for f in FORMATS},
    }
}


def _send(report: Report, fmt: Format, lastmile: LastmileDep) -> Response:
    content = render(report, fmt, lastmile.settings.language)
    headers = {"X-Lastmile-Digest": report.digest, "X-Lastmile-Position": str(report.position)}
    if fmt != "json":
        headers["Content-Disposition"] = f'attachment; filename="{file_name(report, fmt)}"'
    return Response(content, media_type=media_type(fmt), headers=headers)


def _own_department(user: CurrentUser) -> str | None:
    """The one department whose rows a report may show this user; None: every department.

    Department users see their own department's findings only (PRODUCT.md §1), so every
    report is cut to their rows, whatever the query asks for.
    """
    return user.department if user.role is Role.DEPARTMENT else None


@router.get("/reports/ledger", responses=REPORT)
def ledger(
    lastmile: LastmileDep,
    user: CurrentUser,
    reader: ReportReader,
    as_of: AsOf,
    format: Format = "json",
    department: Annotated[str | None, Query(max_length=32)] = None,
    status: Annotated[str | None, Query(max_length=16)] = None,
    evaluation: Annotated[str | None, Query(max_length=100)] = None,
    overdue: bool | None = None,
) -> Response:
    """整改台账: one row per finding; a department user gets its own department's rows."""
    department = _own_department(user) or department
    moment = lastmile.read_models.moment(as_of or lastmile.app.clock())
    where = LedgerFilter(department, evaluation, status, overdue=overdue)
    return _send(ledger_report(lastmile.read_models, moment, where), format, lastmile)


@router.get("/reports/departments", responses=REPORT)
def departments(
    lastmile: LastmileDep,
    user: CurrentUser,
    reader: ReportReader,
    as_of: AsOf,
    format: Format = "json",
) -> Response:
    """Department scorecards (整改率, 按期整改率, 逾期, ageing, escalations …).

    A department user gets its own department's rows only (no county total).
    """
    moment = lastmile.read_models.moment(as_of or lastmile.app.clock())
    report = scorecard_report(lastmile.read_models, moment, _own_department(user))
    return _send(report, format, lastmile)


@router.get("/reports/accountability", responses=REPORT)
def accountability(
    lastmile: LastmileDep,
    user: CurrentUser,
    reader: ReportReader,
    as_of: AsOf,
    since: date | None = None,
    until: date | None = None,
    by_person: bool = False,
    format: Format = "json",
) -> Response:
    """Who was late, how often warned, escalations, interviews and decisions, over a period.

    A department user gets its own department's rows only.
    """
    moment = lastmile.read_models.moment(as_of or lastmile.app.clock())
    last = until or moment.day
    first = since or last.replace(day=1)
    if first > last:
        raise Problem(422, f"since ({first}) must not be after until ({last}).", "invalid")
    report = accountability_report(
        lastmile.read_models, moment, first, last, by_person, _own_department(user)
    )
    return _send(report, format, lastmile)


@router.get("/reports/budget-linkage", responses=REPORT)
def budget(
    lastmile: LastmileDep,
    user: CurrentUser,
    reader: ReportReader,
    as_of: AsOf,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    format: Format = "json",
) -> Response:
    """结果应用: a suggestion per evaluation for a budget year, from the versioned rule table.

    A department user gets its own department's evaluations only.
    """
    moment = lastmile.read_models.moment(as_of or lastmile.app.clock())
    budget_year = year or moment.day.year + 1
    found = budget_linkage(
        lastmile.read_models, lastmile.app, lastmile.linkage_policy, budget_year, moment
    )
    own = _own_department(user)
    found = [f for f in found if own is None or f.suggestion.department == own]
    return _send(linkage_report(found, budget_year, moment), format, lastmile)


@router.get("/integrity", response_model=IntegrityOut)
def integrity(
    lastmile: LastmileDep, actor: Annotated[Actor, Depends(permitted(Action.VERIFY_INTEGRITY))]
) -> IntegrityOut:
    """Walk the whole event log against its hash chain; report the head digest and problems."""
    report = lastmile.verify()
    return IntegrityOut(
        ok=report.ok,
        events_checked=report.events_checked,
        head_id=report.head_id,
        head_digest=report.head_digest,
        problems=[vars(p) for p in report.problems],
    )
