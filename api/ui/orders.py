"""The evaluator's order form (下达整改通知): one notice, many findings, issued at once.

It runs the same application method as POST /api/v1/orders, with the same permission.
Without JavaScript, more finding rows come from a second submit button that re-renders the
form with everything typed so far; rows left empty are not part of the order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Response
from sqlalchemy import select

from adapters.projections.tables import evaluations
from api.authorization import Action, may
from api.errors import status_for
from api.ui.forms import Fields
from api.ui.pages import PageError, PageRoute, Ui, UiDep, redirect, render
from api.ui.security import CheckedForm, SignedIn, Visitor
from domain.calendar import local_date
from domain.errors import AlreadyExistsError, DomainError
from domain.values import Actor
from domain.views import FindingDraft, OrderDraft

router = APIRouter(route_class=PageRoute, include_in_schema=False)
START_ROWS = 3
MORE_ROWS = 3
MAX_ROWS = 60  # 7 fields a row; the form parser reads at most 1,000 fields
ORDER_FIELDS = ("ref", "evaluation", "department", "issued_on")
ROW_FIELDS = (
    "ref",
    "class",
    "category",
    "due_on",
    "title",
    "description",
    "requirement",
)  # as shown
CLASSES = ("immediate", "phased", "long_term")
# Offered as suggestions (a datalist); the category stays free text, as in the API.
CATEGORIES = (
    "决策/绩效目标设置不合理",
    "决策/项目立项不规范",
    "过程/预算执行率低",
    "过程/资金闲置沉淀",
    "过程/资金使用不规范",
    "过程/管理制度不健全",
    "产出/产出未达标",
    "产出/产出时效滞后",
    "效益/效益不明显",
    "效益/满意度低",
)


@dataclass(frozen=True)
class Choices:
    """What the selects offer: recorded evaluations and registered departments."""

    evaluations: dict[str, str]  # ref → option text
    departments: dict[str, str]  # code → option text


@dataclass
class OrderForm:
    """The form as shown: typed values, errors by field, how many finding rows."""

    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    rows: int = START_ROWS
    problem: str | None = None  # a refusal of the order as a whole, in the reader's words
    detail: str = ""  # the rule's own words


@router.get("/orders/new")
def order_form(ui: UiDep, who: SignedIn) -> Response:
    """An empty order, dated today, with a few finding rows."""
    _check_may_issue(who)
    picked = ui.request.query_params.get("evaluation", "")[:100]
    today = local_date(ui.lastmile.app.clock()).isoformat()
    return _page(ui, who, OrderForm({"evaluation": picked, "issued_on": today}))


@router.post("/orders/new")
def issue_order(ui: UiDep, who: SignedIn, form: CheckedForm) -> Response:
    """Add rows (keeping what was typed), or check the order and issue all its findings."""
    _check_may_issue(who)
    rows = _row_count(form.get("rows"))
    fields = Fields(form, ui.t)
    today = local_date(ui.lastmile.app.clock())
    choices = _choices(ui)
    draft = _read_order(fields, rows, choices, today)
    if form.get("do") == "add":
        more = OrderForm(fields.values, {}, min(rows + MORE_ROWS, MAX_ROWS))
        return _page(ui, who, more, choices=choices)
    attempt = OrderForm(fields.values, fields.errors, rows)
    if not fields.errors:
        try:
            ui.lastmile.app.issue_order(Actor(who.user.name, who.user.role), draft)
        except AlreadyExistsError:
            attempt.errors["ref"] = ui.t("evaluator.order.already_issued", ref=draft.ref)
        except DomainError as error:
            _, code = status_for(error)
            attempt.problem = ui.t.get(f"refused.{code}") or ui.t("refused.invalid")
            attempt.detail = str(error)
        else:
            return _issued(ui, draft.ref)
    return _page(ui, who, attempt, choices=choices, status=422 if attempt.errors else 409)


def _issued(ui: Ui, ref: str) -> Response:
    """To the inbox filtered by the order (the inbox waits until its lists include it)."""
    return redirect(f"/?{urlencode({'status': 'all', 'q': ref})}", flash="done_order")


def _check_may_issue(who: Visitor) -> None:
    if not may(who.user.role, Action.ISSUE):
        raise PageError(403, "error.role")


def _row_count(raw: object) -> int:
    count = int(raw) if isinstance(raw, str) and raw.isdigit() else START_ROWS
    return max(1, min(count, MAX_ROWS))


def _read_order(fields: Fields, rows: int, choices: Choices, today: date) -> OrderDraft:
    """The order as typed; each problem is recorded against its field in `fields.errors`."""
    t = fields.t
    ref = fields.text("ref", max_length=100)
    evaluation = _pick(fields, "evaluation", choices.evaluations)
    department = _pick(fields, "department", choices.departments)
    issued_on = fields.day("issued_on", required=False)
    if issued_on and issued_on > today:
        fields.errors["issued_on"] = t("evaluator.order.future", today=today.isoformat())
    seen: dict[str, int] = {}
    drafts = [
        draft
        for n in range(1, rows + 1)
        if (draft := _read_row(fields, n, issued_on or today, seen)) is not None
    ]
    if not drafts:
        fields.errors["f1-description"] = t("evaluator.order.no_findings")
    return OrderDraft(ref, evaluation, department, drafts, issued_on)


def _read_row(fields: Fields, n: int, start: date, seen: dict[str, int]) -> FindingDraft | None:
    """Finding row n, or None when every cell of it was left empty."""

    def name(cell: str) -> str:
        return f"f{n}-{cell}"

    typed = [fields.form.get(name(cell)) for cell in ROW_FIELDS]
    if not any(isinstance(value, str) and value.strip() for value in typed):
        return None
    t = fields.t
    ref = fields.text(name("ref"), max_length=50)
    title = fields.text(name("title"), required=False, max_length=500)
    description = fields.text(name("description"))
    category = fields.text(name("category"), max_length=100)
    kind = _pick(fields, name("class"), dict.fromkeys(CLASSES, ""))
    requirement = fields.text(name("requirement"), required=False)
    due_on = fields.day(name("due_on"), required=False)
    if due_on and due_on <= start:
        fields.errors[name("due_on")] = t("evaluator.order.due_after", day=start.isoformat())
    if ref and ref in seen:
        fields.errors[name("ref")] = t("evaluator.order.ref_repeated", n=seen[ref])
    seen.setdefault(ref, n)
    return FindingDraft(ref, title, description, category, kind, requirement, due_on)


def _pick(fields: Fields, name: str, options: dict[str, str]) -> str:
    value = fields.text(name, max_length=100)
    if value and value not in options:
        fields.errors[name] = fields.t("form.choice")
    return value


def _choices(ui: Ui) -> Choices:
    models = ui.lastmile.read_models
    moment = models.moment(ui.lastmile.app.clock())
    query = (
        select(evaluations.c.ref, evaluations.c.title, evaluations.c.year)
        .where(evaluations.c.recorded_at <= moment.at)
        .order_by(evaluations.c.year.desc(), evaluations.c.ref)
    )
    with models.engine.connect() as connection:
        recorded = {r.ref: f"{r.ref} · {r.title}" for r in connection.execute(query)}
    names = models.department_names(moment)
    return Choices(recorded, {code: f"{names[code]}（{code}）" for code in sorted(names)})


def _page(
    ui: Ui,
    who: Visitor,
    attempt: OrderForm,
    choices: Choices | None = None,
    status: int = 200,
) -> Response:
    choices = choices or _choices(ui)
    return render(
        ui,
        "order_form.html.j2",
        visitor=who,
        status=status,
        here="/orders/new",
        section="order",
        attempt=attempt,
        summary=_summary(ui, attempt.errors),
        evaluations=[("", ui.t("evaluator.order.choose")), *choices.evaluations.items()],
        departments=[("", ui.t("evaluator.order.choose")), *choices.departments.items()],
        classes=[("", ui.t("evaluator.order.choose"))] + [(c, ui.t(f"class.{c}")) for c in CLASSES],
        categories=CATEGORIES,
        defaults=_defaults(ui),
        more=MORE_ROWS if attempt.rows < MAX_ROWS else 0,
    )


def _defaults(ui: Ui) -> list[tuple[str, str]]:
    """Each class's default period from the policy file, for rows without a deadline."""
    rules = ui.lastmile.app.policy.classes
    return [
        (ui.t(f"class.{c}"), ui.t(f"unit.{rules[c].unit}", count=rules[c].count))
        for c in CLASSES
        if c in rules
    ]


def _summary(ui: Ui, errors: dict[str, str]) -> list[tuple[str, str, str]]:
    """Each error as (field id, where, message), in the order of the form."""
    order = [*ORDER_FIELDS] + [f"f{n}-{c}" for n in range(1, MAX_ROWS + 1) for c in ROW_FIELDS]
    found = []
    for name in sorted(errors, key=lambda key: order.index(key) if key in order else 0):
        row, _, cell = name.partition("-")
        where = ui.t(f"evaluator.order.field.{name}") if not cell else ""
        if cell:
            item = ui.t("evaluator.order.row", n=row[1:])
            label = "ref_item" if cell == "ref" else cell
            where = f"{item} · {ui.t(f'evaluator.order.field.{label}')}"
        found.append((f"order-{name}", where, errors[name]))
    return found
