"""The supervisor's dashboard (监督看板): scorecards, charts, overdue list, budget linkage.

Everything is read as of the end of one China day, from the same read models the reports
use, so each figure here matches the report downloaded from the links at the bottom.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Response

from adapters.projections.linkage import Linkage, budget_linkage
from adapters.projections.moments import Moment
from adapters.projections.queries import LedgerFilter, ReadModels
from adapters.projections.scorecard import TOTAL
from adapters.reports.text import percent_text
from api.ui.charts import BarChart, Punctuation, Series, rate_chart, stacked_chart
from api.ui.pages import PageError, PageRoute, Ui, UiDep, lists_current, render
from api.ui.security import SignedIn
from domain.calendar import end_of_day, local_date
from domain.values import Role

router = APIRouter(route_class=PageRoute, include_in_schema=False)
VIEWERS = frozenset({Role.SUPERVISOR, Role.EVALUATOR, Role.ADMIN})
REPORTS = ("departments", "ledger", "accountability", "budget-linkage")
FORMATS = ("xlsx", "pdf")
OVERDUE_LIMIT = 500
AGEING = ("1-10", "11-30", ">30")
LEVELS = ("1", "2", "3")
EARLIEST = date(2000, 1, 1)


@dataclass(frozen=True)
class Choice:
    """The day the page is read as of, the budget year, and what was wrong with the query."""

    day: date
    budget_year: int
    today: date
    problem: str | None = None

    @property
    def past(self) -> bool:
        return self.day < self.today


@router.get("/dashboard")
def dashboard(ui: UiDep, who: SignedIn) -> Response:
    """Scorecards per department as of the end of a day, with charts and report downloads."""
    if who.user.role not in VIEWERS:
        raise PageError(403, "error.role")
    choice = _choice(ui)
    lists_current(ui)
    models = ui.lastmile.read_models
    moment = models.moment(end_of_day(choice.day))
    rows = models.scorecard(moment)
    departments = [r for r in rows if r["class"] is None and r["department"] != TOTAL]
    total = next((r for r in rows if r["department"] == TOTAL and r["class"] is None), None)
    linkage = budget_linkage(
        models, ui.lastmile.app, ui.lastmile.linkage_policy, choice.budget_year, moment
    )
    return render(
        ui,
        "dashboard.html.j2",
        visitor=who,
        section="dashboard",
        choice=choice,
        moment=moment,
        departments=departments,
        total=total,
        charts=_charts(ui, departments),
        overdue=_overdue(models, moment),
        linkage=[_linkage_row(item) for item in linkage],
        names=models.department_names(moment),
        downloads=_downloads(moment, choice.budget_year),
        percent=_percent,
    )


def _choice(ui: Ui) -> Choice:
    """`?as_of=YYYY-MM-DD` (default today, never later) and `?year=` (default as_of's + 1)."""
    query = ui.request.query_params
    today = local_date(ui.lastmile.app.clock())
    day, problem = today, None
    raw = query.get("as_of", "").strip()
    if raw:
        try:
            day = date.fromisoformat(raw)
        except ValueError:
            problem = "dashboard.bad_date"
        else:
            if day > today:
                day, problem = today, "dashboard.future_date"
            elif day < EARLIEST:
                day, problem = today, "dashboard.bad_date"
    year_text = query.get("year", "").strip()
    year = int(year_text) if year_text.isdigit() and len(year_text) == 4 else day.year + 1
    if not 2000 <= year <= 2100:
        year, problem = day.year + 1, problem or "dashboard.bad_year"
    return Choice(day, year, today, problem)


def _percent(rate: float | None) -> str:
    return "—" if rate is None else percent_text(rate)


def _charts(ui: Ui, departments: Sequence[Mapping[str, Any]]) -> list[BarChart]:
    t = ui.t
    names = [r["department_name"] for r in departments]
    p = Punctuation(*(t(f"dashboard.punct.{k}") for k in ("colon", "between", "stop", "comma")))
    rates = rate_chart(
        "chart-rate",
        t("dashboard.chart.rate"),
        names,
        [r["rectification_rate"] for r in departments],
        Series(t("dashboard.col.rectification_rate"), "#0b57a4"),
        _percent,
        t("dashboard.none_due"),
        p,
    )
    ageing = stacked_chart(
        "chart-ageing",
        t("dashboard.chart.ageing"),
        names,
        [
            Series(t("dashboard.ageing.1-10"), "#f2c14e", "#1b1f24"),
            Series(t("dashboard.ageing.11-30"), "#d9730d", "#1b1f24"),
            Series(t("dashboard.ageing.>30"), "#8a1c1c"),
        ],
        [[r["ageing"][b] for b in AGEING] for r in departments],
        lambda n: t("dashboard.chart.total", n=n),
        t("dashboard.chart.none_overdue"),
        p,
    )
    escalations = stacked_chart(
        "chart-escalations",
        t("dashboard.chart.escalations"),
        names,
        [
            Series(t("escalation.1"), "#f3b3b3", "#1b1f24"),
            Series(t("escalation.2"), "#c0392b"),
            Series(t("escalation.3"), "#5e0f0f"),
        ],
        [[r["escalations"][level] for level in LEVELS] for r in departments],
        lambda n: t("dashboard.chart.total", n=n),
        t("dashboard.chart.none_escalated"),
        p,
    )
    return [rates, ageing, escalations]


def _overdue(models: ReadModels, moment: Moment) -> dict[str, Any]:
    """Open findings past their deadline, the longest overdue first (逾期清单)."""
    page = models.ledger(moment, LedgerFilter(overdue=True), 1, OVERDUE_LIMIT)
    rows = sorted(
        page.rows,
        key=lambda r: (-r["overdue_days"], -r["escalation_level"], r["order_ref"], r["ref"]),
    )
    return {"rows": rows, "total": page.total}


def _linkage_row(item: Linkage) -> dict[str, Any]:
    s, decision = item.suggestion, item.decision
    return {
        "evaluation": s.evaluation_ref,
        "title": s.evaluation_title,
        "department": s.department,
        "grade": s.grade,
        "score": s.score,
        "budget_amount": s.budget_amount,
        "suggestion": s.text,
        "cut_amount": s.cut_amount,
        "unverified": s.unverified,
        "rule": s.rule_id,
        "policy_version": s.policy_version,
        "decision": "pending"
        if decision is None
        else ("accepted" if decision.accepted else "declined"),
        "confirmed_amount": decision.amount if decision else None,
    }


def _downloads(moment: Moment, budget_year: int) -> list[dict[str, Any]]:
    """Each report in each format, as of the page's moment, through the API's report routes."""
    found = []
    for kind in REPORTS:
        query: dict[str, str] = {"as_of": moment.at.isoformat()}
        if kind == "budget-linkage":
            query["year"] = str(budget_year)
        links = {
            fmt: f"/api/v1/reports/{kind}?{urlencode({**query, 'format': fmt})}" for fmt in FORMATS
        }
        found.append({"kind": kind, "links": links})
    return found
