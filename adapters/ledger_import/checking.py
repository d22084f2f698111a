"""Checking a ledger's rows, alone and together, and turning the good ones into drafts."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TypeVar

from adapters.ledger_import import cells
from adapters.ledger_import import columns as col
from adapters.ledger_import.problems import RowProblem
from adapters.ledger_import.reading import Cell, LedgerRow, LedgerTable
from domain.views import DepartmentView, EvaluationView, FindingDraft

T = TypeVar("T")


@dataclass
class ParsedRow:
    """A row's values; None (or "") where the cell was empty or could not be read."""

    number: int
    evaluation: str
    title: str
    year: int | None
    score: Decimal | None
    budget: Decimal | None
    order: str
    issued_on: date | None
    department: str
    department_name: str
    finding: FindingDraft | None
    problems: list[RowProblem] = field(default_factory=list)

    def fail(self, column: str, zh: str, en: str) -> None:
        self.problems.append(RowProblem(self.number, column, zh, en))


@dataclass(frozen=True)
class Registry:
    """What is registered of the departments and evaluations the file names."""

    departments: Mapping[str, DepartmentView]
    evaluations: Mapping[str, EvaluationView]


def parse_rows(table: LedgerTable, today: date) -> list[ParsedRow]:
    return [_parse(row, today) for row in table.rows]


def _parse(row: LedgerRow, today: date) -> ParsedRow:
    get = row.cells.get
    parsed = ParsedRow(
        number=row.number,
        evaluation=cells.text(get(col.EVALUATION)),
        title=cells.text(get(col.EVALUATION_TITLE)),
        year=None,
        score=None,
        budget=None,
        order=cells.text(get(col.ORDER)),
        issued_on=None,
        department=cells.text(get(col.DEPARTMENT)).upper(),
        department_name=cells.text(get(col.DEPARTMENT_NAME)),
        finding=None,
    )
    for column in col.REQUIRED_CELLS:
        if get(column) is None:
            parsed.fail(column, "必填，不能为空", f"The {col.ENGLISH[column]} is required.")
    parsed.year = _read(parsed, col.YEAR, get(col.YEAR), cells.a_year)
    parsed.score = _read(parsed, col.SCORE, get(col.SCORE), cells.a_score)
    parsed.budget = _read(parsed, col.BUDGET, get(col.BUDGET), cells.an_amount)
    parsed.issued_on = _read(parsed, col.ISSUED_ON, get(col.ISSUED_ON), cells.a_date)
    if parsed.issued_on and parsed.issued_on > today:
        parsed.fail(
            col.ISSUED_ON,
            f"下达日期 {parsed.issued_on} 晚于今天（{today}），不能是将来的日期",
            f"The notice date {parsed.issued_on} is in the future (today is {today}).",
        )
    parsed.finding = _finding(parsed, row.cells)
    return parsed


def _read(parsed: ParsedRow, column: str, value: Cell, read: Callable[[Cell], T]) -> T | None:
    if value is None:
        return None
    try:
        return read(value)
    except cells.CellError as error:
        parsed.fail(column, error.zh, error.en)
        return None


def _finding(parsed: ParsedRow, row: Mapping[str, Cell]) -> FindingDraft | None:
    kind = _read(parsed, col.CLASS, row.get(col.CLASS), cells.a_class)
    due_on = _read(parsed, col.DUE_ON, row.get(col.DUE_ON), cells.a_date)
    if due_on and parsed.issued_on and due_on <= parsed.issued_on:
        parsed.fail(
            col.DUE_ON,
            f"整改时限 {due_on} 应晚于下达日期 {parsed.issued_on}（留空则按政策计算）",
            f"The deadline {due_on} must be after the notice date {parsed.issued_on} "
            "(leave it empty to compute it from the policy).",
        )
    if kind is None:
        return None
    return FindingDraft(
        ref=cells.text(row.get(col.FINDING)),
        title="",  # a ledger has no title column: the description's start serves
        description=cells.text(row.get(col.DESCRIPTION)),
        category=cells.text(row.get(col.CATEGORY)),
        rectification_class=kind.value,
        requirement=cells.text(row.get(col.REQUIREMENT)),
        due_on=due_on,
    )


def check_together(rows: list[ParsedRow]) -> None:
    """Rows that repeat a finding, or disagree about their order or evaluation."""
    seen: dict[tuple[str, str], int] = {}
    for row in rows:
        if row.finding is None or not row.order or not row.finding.ref:
            continue
        key = (row.order, row.finding.ref)
        if key in seen:
            row.fail(
                col.FINDING,
                f"与第{seen[key]}行重复：整改通知{row.order}中问题编号“{key[1]}”出现了两次",
                f"Repeats row {seen[key]}: order {row.order} lists finding {key[1]} twice.",
            )
        seen.setdefault(key, row.number)
    _agree(rows, lambda r: r.order, col.ORDER, (col.EVALUATION, col.ISSUED_ON, col.DEPARTMENT))
    _agree(
        rows, lambda r: r.evaluation, col.EVALUATION, (col.EVALUATION_TITLE, col.YEAR, col.SCORE)
    )


ROW_VALUES: dict[str, Callable[[ParsedRow], object]] = {
    col.EVALUATION: lambda r: r.evaluation,
    col.ISSUED_ON: lambda r: r.issued_on,
    col.DEPARTMENT: lambda r: r.department,
    col.EVALUATION_TITLE: lambda r: r.title,
    col.YEAR: lambda r: r.year,
    col.SCORE: lambda r: r.score,
}


def _agree(
    rows: list[ParsedRow], key: Callable[[ParsedRow], str], name: str, facts: tuple[str, ...]
) -> None:
    """Every row of one order (or evaluation) states the same facts as the first that states it."""
    first: dict[tuple[str, str], tuple[int, object]] = {}
    for row in rows:
        for column in facts:
            value = ROW_VALUES[column](row)
            if not key(row) or value in (None, ""):
                continue
            number, stated = first.setdefault((key(row), column), (row.number, value))
            if stated != value:
                row.fail(
                    column,
                    f"与第{number}行不一致：同一{name}“{key(row)}”的{column}应相同"
                    f"（第{number}行为“{stated}”，本行为“{value}”）",
                    f"Disagrees with row {number}: every row of {col.ENGLISH[name]} {key(row)} "
                    f"must have the same {col.ENGLISH[column]} ({stated} there, {value} here).",
                )


def check_registry(rows: list[ParsedRow], registry: Registry) -> list[RowProblem]:
    """Departments must be registered, and evaluations on record stated as recorded.

    Returns the warnings: a department name that only abbreviates or extends the
    registered one (县水利局 / 泸溪县水利局); a name that shares nothing with it is an error.
    """
    warnings: dict[tuple[str, str], RowProblem] = {}
    unknown: dict[str, list[ParsedRow]] = {}
    compared: set[tuple[str, str]] = set()
    for row in rows:
        registered = registry.departments.get(row.department)
        if registered is None:
            if row.department:
                unknown.setdefault(row.department, []).append(row)
        elif row.department_name and row.department_name != registered.name:
            if registered.name in row.department_name or row.department_name in registered.name:
                key = (row.department, row.department_name)
                warnings.setdefault(key, _name_warning(row, registered))
            else:
                _name_differs(row, registered)
        _check_recorded(row, registry.evaluations.get(row.evaluation), compared)
    for code, named in unknown.items():
        numbers = "、".join(str(r.number) for r in named[:10]) + ("…" if len(named) > 10 else "")
        named[0].fail(
            col.DEPARTMENT,
            f"单位代码“{code}”尚未登记（第{numbers}行），请先登记该单位或改正代码",
            f"Department {code} is not registered (rows {numbers.replace('、', ', ')}); "
            "register it first or correct the code.",
        )
    return list(warnings.values())


def _name_warning(row: ParsedRow, registered: DepartmentView) -> RowProblem:
    return RowProblem(
        row.number,
        col.DEPARTMENT_NAME,
        f"单位名称“{row.department_name}”与代码{registered.code}登记的“{registered.name}”"
        "写法不同，已按代码导入",
        f"The name {row.department_name} differs from {registered.name}, registered for "
        f"{registered.code}; imported by the code.",
    )


def _name_differs(row: ParsedRow, registered: DepartmentView) -> None:
    row.fail(
        col.DEPARTMENT_NAME,
        f"单位名称“{row.department_name}”与代码{registered.code}登记的“{registered.name}”不符，"
        "请核对单位代码",
        f"The name {row.department_name} does not match {registered.name}, registered for "
        f"{registered.code}; check the department code.",
    )


def _check_recorded(
    row: ParsedRow, recorded: EvaluationView | None, compared: set[tuple[str, str]]
) -> None:
    """An evaluation never changes once recorded: what the rows state must be the record.

    Said once per evaluation and column, on the first row that differs.
    """
    if recorded is None:
        return
    stated = {col.EVALUATION_TITLE: row.title, col.YEAR: row.year, col.SCORE: row.score}
    facts = {
        col.EVALUATION_TITLE: recorded.title,
        col.YEAR: recorded.year,
        col.SCORE: recorded.score,
    }
    for column, value in stated.items():
        if value in (None, "") or value == facts[column] or (row.evaluation, column) in compared:
            continue
        compared.add((row.evaluation, column))
        row.fail(
            column,
            f"评价项目{recorded.ref}已登记，{column}为“{facts[column]}”，与本行的“{value}”"
            "不一致；导入不能修改已登记的评价",
            f"Evaluation {recorded.ref} is recorded with {col.ENGLISH[column]} "
            f"{facts[column]}, not {value}; an import cannot change a recorded evaluation.",
        )
