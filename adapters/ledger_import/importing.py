"""The ledger import: read, check every row, then let the application record all or nothing."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from adapters.ledger_import import columns as col
from adapters.ledger_import.checking import (
    ParsedRow,
    Registry,
    check_registry,
    check_together,
    parse_rows,
)
from adapters.ledger_import.drafting import Drafted, check_new_evaluations, draft_ledger
from adapters.ledger_import.problems import LedgerFileError, RowProblem
from adapters.ledger_import.reading import read_ledger
from domain.application import LastmileApplication
from domain.calendar import local_date
from domain.errors import NotFoundError
from domain.findings import finding_id
from domain.ledger import LedgerRefusedError
from domain.values import Actor
from domain.views import DepartmentView, EvaluationView, ImportResult, LedgerProblem

EVALUATION_FIELDS = {
    "title": col.EVALUATION_TITLE,
    "year": col.YEAR,
    "score": col.SCORE,
    "budget_amount": col.BUDGET,
    "object_type": col.EVALUATION_TITLE,
    "department": col.DEPARTMENT,
}
ORDER_FIELDS = {"department": col.DEPARTMENT, "evaluation": col.EVALUATION}
# What the domain's (English) refusals name, most specific first.
NAMED_IN_MESSAGE = (
    ("evaluation number", col.EVALUATION),
    ("evaluation title", col.EVALUATION_TITLE),
    ("evaluation year", col.YEAR),
    ("order number", col.ORDER),
    ("finding number", col.FINDING),
    ("notice date", col.ISSUED_ON),
    ("deadline", col.DUE_ON),
    ("category", col.CATEGORY),
    ("requirement", col.REQUIREMENT),
    ("description", col.DESCRIPTION),
    ("title", col.DESCRIPTION),  # a finding's title is its description's start
    ("rectification class", col.CLASS),
    ("score", col.SCORE),
    ("budget amount", col.BUDGET),
)
TOO_LONG = re.compile(r"is (\d+) characters; at most (\d+)")
# Consequences of rows already refused: their evaluation or order was left out of the drafts.
CONSEQUENCES = frozenset({"unknown-evaluation", "unknown-department"})


@dataclass(frozen=True)
class LedgerReport:
    """What importing (or checking) a ledger file came to."""

    errors: tuple[RowProblem, ...]  # empty when the ledger was imported (or would be)
    warnings: tuple[RowProblem, ...]  # imported anyway, but worth a look
    result: ImportResult | None  # None when there are errors: nothing was saved
    rows: int  # data rows read

    @property
    def ok(self) -> bool:
        return self.result is not None


def import_ledger_file(
    app: LastmileApplication,
    actor: Actor,
    filename: str,
    content: bytes,
    *,
    dry_run: bool = False,
) -> LedgerReport:
    """Import a ledger file all-or-nothing; the report names every bad row and column.

    A dry run checks the same things, the application's own rules included, and saves none.
    """
    try:
        table = read_ledger(filename, content)
    except LedgerFileError as error:
        return LedgerReport((error.problem,), (), None, 0)
    rows = parse_rows(table, local_date(app.clock()))
    check_together(rows)
    registry = _registry(app, rows)
    warnings = check_registry(rows, registry)
    check_new_evaluations(rows, registry)
    drafted = draft_ledger(rows, registry)
    errors = [problem for row in rows for problem in row.problems]
    try:
        # With errors already found, the good rows are still judged by the domain's rules.
        result = app.import_ledger(actor, drafted.ledger, dry_run=dry_run or bool(errors))
    except LedgerRefusedError as refused:
        errors += _located(refused.problems, drafted, known_errors=bool(errors))
    if errors:
        return LedgerReport(_in_file_order(errors), tuple(warnings), None, len(rows))
    return LedgerReport((), tuple(warnings), result, len(rows))


def _registry(app: LastmileApplication, rows: list[ParsedRow]) -> Registry:
    departments: dict[str, DepartmentView] = {}
    for code in {r.department for r in rows if r.department}:
        try:
            departments[code] = app.department(code)
        except NotFoundError:
            continue
    evaluations: dict[str, EvaluationView] = {}
    for ref in {r.evaluation for r in rows if r.evaluation}:
        try:
            evaluations[ref] = app.evaluation(ref)
        except NotFoundError:
            continue
    return Registry(departments, evaluations)


def _located(
    problems: Iterable[LedgerProblem], drafted: Drafted, known_errors: bool
) -> list[RowProblem]:
    found = []
    for problem in problems:
        if known_errors and problem.code in CONSEQUENCES:
            continue
        row, column = _where(problem, drafted)
        found.append(RowProblem(row, column, _chinese(problem), problem.message))
    return found


def _where(problem: LedgerProblem, drafted: Drafted) -> tuple[int | None, str | None]:
    named = _named_column(problem.message)
    if problem.finding_ref:
        row = drafted.finding_rows.get((problem.order_ref, problem.finding_ref))
        return row, col.FINDING if problem.field == "ref" else named
    if problem.order_ref:
        row = drafted.order_rows.get(problem.order_ref)
        return row, ORDER_FIELDS.get(problem.field) or named or col.ORDER
    row = drafted.evaluation_rows.get(problem.evaluation_ref)
    return row, EVALUATION_FIELDS.get(problem.field) or named or col.EVALUATION


def _named_column(message: str) -> str | None:
    lower = message.lower()
    return next((column for words, column in NAMED_IN_MESSAGE if words in lower), None)


def _chinese(problem: LedgerProblem) -> str:
    order, ref = problem.order_ref, problem.finding_ref
    if problem.code == "issued":
        return (
            f"该问题已经下达过（{order} 问题编号“{ref}”，编号 {finding_id(order, ref)}），"
            "同一问题不能重复导入"
        )
    if problem.code == "repeated":
        return f"整改通知{order}中问题编号“{ref}”重复"
    if problem.code == "unknown-department":
        return "整改责任单位代码尚未登记，请先登记该单位"
    if problem.code == "unknown-evaluation":
        return "评价项目既未登记，也不在本表中"
    if too_long := TOO_LONG.search(problem.message):
        return f"内容过长：{too_long[1]} 个字，最多 {too_long[2]} 个字"
    if "NUL character" in problem.message:
        return "含有不允许的空字符（NUL），请删除后再导入"
    if "is required and may not be blank" in problem.message:
        return "必填，不能为空"
    return f"不符合规则：{problem.message}"


def _in_file_order(problems: list[RowProblem]) -> tuple[RowProblem, ...]:
    headers = {name: i for i, name in enumerate(col.IN_ORDER)}
    unique = dict.fromkeys(problems)
    return tuple(sorted(unique, key=lambda p: (p.row or 0, headers.get(p.column or "", -1), p.zh)))
