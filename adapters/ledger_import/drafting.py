"""Turning checked rows into the domain's drafts, remembering which row each came from."""

from __future__ import annotations

from dataclasses import dataclass

from adapters.ledger_import import columns as col
from adapters.ledger_import.checking import ParsedRow, Registry
from domain.values import ObjectType
from domain.views import EvaluationDraft, LedgerDraft, OrderDraft

OBJECT_TYPES = (
    (("部门整体",), ObjectType.DEPARTMENT),
    (("转移支付",), ObjectType.TRANSFER),
    (("政策",), ObjectType.POLICY),
)
EVALUATION_COLUMNS = frozenset(
    {col.EVALUATION, col.EVALUATION_TITLE, col.YEAR, col.SCORE, col.BUDGET}
)


@dataclass(frozen=True)
class Drafted:
    """The ledger's drafts, and where in the file each order, finding and evaluation is."""

    ledger: LedgerDraft
    finding_rows: dict[tuple[str, str], int]
    order_rows: dict[str, int]
    evaluation_rows: dict[str, int]


def check_new_evaluations(rows: list[ParsedRow], registry: Registry) -> None:
    """An evaluation recorded by the import needs its name, year and score on some row."""
    for ref, own in _by_evaluation(rows).items():
        if ref in registry.evaluations:
            continue
        stated = {
            col.EVALUATION_TITLE: any(r.title for r in own),
            col.YEAR: any(r.year is not None or _failed(r, col.YEAR) for r in own),
            col.SCORE: any(r.score is not None or _failed(r, col.SCORE) for r in own),
        }
        for column, present in stated.items():
            if not present:
                own[0].fail(
                    column,
                    f"评价项目{ref}尚未登记，导入时将新建，须填写{column}",
                    f"Evaluation {ref} is new and will be recorded: its "
                    f"{col.ENGLISH[column]} is required.",
                )


def draft_ledger(rows: list[ParsedRow], registry: Registry) -> Drafted:
    """Drafts of the rows without problems (and of the new evaluations they name)."""
    by_evaluation = _by_evaluation(rows)
    evaluations = [
        evaluation
        for ref, own in by_evaluation.items()
        if ref not in registry.evaluations and (evaluation := _evaluation(ref, own, registry))
    ]
    by_order: dict[str, list[ParsedRow]] = {}
    for row in rows:
        if row.order:
            by_order.setdefault(row.order, []).append(row)
    orders: list[OrderDraft] = []
    finding_rows: dict[tuple[str, str], int] = {}
    for ref, own in by_order.items():
        clean = [(r, r.finding) for r in own if not r.problems and r.finding is not None]
        if clean:
            first = clean[0][0]
            findings = [finding for _, finding in clean]
            orders.append(
                OrderDraft(ref, first.evaluation, first.department, findings, first.issued_on)
            )
        finding_rows |= {(ref, finding.ref): row.number for row, finding in clean}
    return Drafted(
        LedgerDraft(evaluations, orders),
        finding_rows,
        order_rows={ref: own[0].number for ref, own in by_order.items()},
        evaluation_rows={ref: own[0].number for ref, own in by_evaluation.items()},
    )


def _evaluation(ref: str, rows: list[ParsedRow], registry: Registry) -> EvaluationDraft | None:
    if any(p.column in EVALUATION_COLUMNS for r in rows for p in r.problems):
        return None
    title = next((r.title for r in rows if r.title), "")
    year = next((r.year for r in rows if r.year is not None), None)
    score = next((r.score for r in rows if r.score is not None), None)
    budget = next((r.budget for r in rows if r.budget is not None), None)
    department = next((r.department for r in rows if r.department in registry.departments), "")
    if not (title and year and score is not None and department):
        return None  # each missing fact is already a row problem
    return EvaluationDraft(ref, title, year, score, department, _object_type(title), budget)


def _object_type(title: str) -> str:
    """What was evaluated, as its name says (a ledger has no column for it)."""
    found = (kind for words, kind in OBJECT_TYPES if any(w in title for w in words))
    return next(found, ObjectType.PROJECT).value


def _failed(row: ParsedRow, column: str) -> bool:
    return any(p.column == column for p in row.problems)


def _by_evaluation(rows: list[ParsedRow]) -> dict[str, list[ParsedRow]]:
    found: dict[str, list[ParsedRow]] = {}
    for row in rows:
        if row.evaluation:
            found.setdefault(row.evaluation, []).append(row)
    return found
