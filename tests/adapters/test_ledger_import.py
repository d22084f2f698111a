"""Ledger import (整改台账导入): XLSX and CSV read, every bad row named, all or nothing saved."""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from adapters.bootstrap import Lastmile
from adapters.calendar_table import load_holiday_table
from adapters.ledger_import import LedgerReport, RowProblem, import_ledger_file, read_ledger
from adapters.ledger_import.reading import MAX_ROWS
from adapters.policy import load_deadline_policy
from domain.application import LastmileApplication
from domain.calendar import WorkingCalendar
from domain.findings import finding_id
from domain.policies import DeadlinePolicy, deadline_for
from domain.values import Actor, Role
from tests.conftest import ManualClock
from tests.support.ledgers import (
    HEADERS,
    SAMPLE_CSV,
    SAMPLE_XLSX,
    Row,
    generated,
    register_departments,
    row,
    sample_rows,
    to_csv,
    to_xlsx,
)

EVALUATOR = Actor("pingjia.li", Role.EVALUATOR)
ISSUED_ON = date(2025, 9, 25)


@pytest.fixture(scope="module")
def calendar() -> WorkingCalendar:
    return WorkingCalendar(load_holiday_table(last_year=2031))


@pytest.fixture(scope="module")
def policy() -> DeadlinePolicy:
    return load_deadline_policy()


@pytest.fixture
def app(calendar: WorkingCalendar, policy: DeadlinePolicy) -> LastmileApplication:
    """In memory, with the sample's five departments registered; today is 2025-09-26."""
    application = LastmileApplication(
        env={"PERSISTENCE_MODULE": "eventsourcing.popo"},
        calendar=calendar,
        policy=policy,
        clock=ManualClock(),
    )
    register_departments(application)
    return application


def events(app: LastmileApplication) -> int:
    return app.recorder.max_notification_id() or 0


def where(report: LedgerReport) -> list[tuple[int | None, str | None]]:
    return [(p.row, p.column) for p in report.errors]


def problem_at(report: LedgerReport, row: int | None, column: str | None) -> RowProblem:
    found = [p for p in report.errors if (p.row, p.column) == (row, column)]
    assert found, f"no problem at row {row}, {column}: {[p.describe() for p in report.errors]}"
    return found[0]


def edited(edit: Callable[[list[Row]], object]) -> bytes:
    rows = sample_rows()
    edit(rows)
    return to_csv(rows)


# -- the sample and a large ledger, on each store --------------------------------------------


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("sample-ledger.xlsx", SAMPLE_XLSX.read_bytes()),
        ("sample-ledger.csv", SAMPLE_CSV.read_bytes()),
        ("sample-ledger.csv", SAMPLE_CSV.read_bytes().removeprefix(b"\xef\xbb\xbf")),
    ],
    ids=["xlsx", "csv-with-bom", "csv-without-bom"],
)
def test_the_sample_ledger_imports(
    lastmile: Lastmile, name: str, content: bytes, policy: DeadlinePolicy
) -> None:
    register_departments(lastmile.app)

    report = import_ledger_file(lastmile.app, EVALUATOR, name, content)

    assert report.errors == ()
    assert report.result is not None
    assert (len(report.result.orders), len(report.result.findings)) == (5, 20)
    assert report.result.evaluations == tuple(f"LX-2025-PJ-00{n}" for n in range(1, 6))
    evaluation = lastmile.app.evaluation("LX-2025-PJ-001")
    assert (evaluation.score, evaluation.grade, evaluation.year) == (Decimal("78.5"), "中", 2025)
    assert lastmile.app.evaluation("LX-2025-PJ-004").grade == "优"
    # Deadlines follow the policy from the notice date, exactly as issuing the order would
    first = lastmile.app.finding_by_ref("泸财绩〔2025〕12号", "1")
    expected = deadline_for(
        "class:immediate", policy.classes["immediate"], ISSUED_ON, lastmile.app.calendar
    )
    assert (first.issued_on, first.rectification_class, first.deadline) == (
        ISSUED_ON,
        "immediate",
        expected,
    )
    assert first.department == "SLJ"
    assert first.issued_by == EVALUATOR.user_id
    assert first.description == "年终预算执行率为68.07%，预算执行进度较慢"
    assert lastmile.app.finding_by_ref("泸财绩〔2025〕12号", "3").rectification_class == "long_term"


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_a_500_row_ledger_imports_in_one_go(lastmile: Lastmile, kind: str) -> None:
    register_departments(lastmile.app)
    rows = generated(500)
    content = to_csv(rows) if kind == "csv" else to_xlsx(rows)

    started = time.perf_counter()
    report = import_ledger_file(lastmile.app, EVALUATOR, f"big.{kind}", content)
    took = time.perf_counter() - started

    assert report.errors == ()
    assert report.result is not None
    assert (len(report.result.orders), len(report.result.evaluations)) == (50, 10)
    assert len(set(report.result.findings)) == 500
    for r in rows:
        view = lastmile.app.finding_by_ref(str(r["整改通知文号"]), str(r["问题编号"]))
        assert view.department == r["整改责任单位代码"]
    assert took < 60, f"500 rows took {took:.1f} s"
    # The read models see all of them too
    lastmile.projections.catch_up()
    page = lastmile.read_models.ledger(lastmile.read_models.moment(lastmile.app.clock()))
    assert page.total == 500
    assert all(r["evaluation_title"] and r["department_name"] for r in page.rows)


def test_a_ledger_with_one_bad_row_imports_nothing_and_names_the_row(lastmile: Lastmile) -> None:
    register_departments(lastmile.app)
    rows = generated(500)
    rows[5]["整改类型"] = "马上改"  # spreadsheet row 7
    before = events(lastmile.app)

    report = import_ledger_file(lastmile.app, EVALUATOR, "big.csv", to_csv(rows))

    assert report.result is None
    assert where(report) == [(7, "整改类型")]
    assert report.errors[0].describe() == (
        "第7行「整改类型」：无法识别“马上改”，应为立行立改、分阶段整改或持续整改"
        "（或 immediate / phased / long_term）"
    )
    assert report.errors[0].describe("en").startswith("Row 7, column 整改类型: '马上改' is not")
    assert events(lastmile.app) == before


# -- what each kind of bad row is told --------------------------------------------------------


def _set(index: int, **cells: object) -> Callable[[list[Row]], object]:
    return lambda rows: rows[index].update(cells)


def _set_rows(indexes: range, **cells: object) -> Callable[[list[Row]], object]:
    return lambda rows: [rows[i].update(cells) for i in indexes]


CASES = {
    "missing field": (_set(3, 问题描述=""), 5, "问题描述", "必填，不能为空"),
    "missing order number": (_set(3, 整改通知文号="  "), 5, "整改通知文号", "必填"),
    "unknown department": (
        _set_rows(range(4), 整改责任单位代码="GTJ", 整改责任单位=""),
        2,
        "整改责任单位代码",
        "单位代码“GTJ”尚未登记（第2、3、4、5行）",
    ),
    "department name of another": (
        _set(4, 整改责任单位="泸溪县水利局"),
        6,
        "整改责任单位",
        "与代码JYJ登记的“泸溪县教育局”不符",
    ),
    "unreadable date": (_set(1, 下达日期="九月下旬"), 3, "下达日期", "无法识别日期“九月下旬”"),
    "impossible date": (_set(1, 下达日期="2025-02-30"), 3, "下达日期", "日期“2025-02-30”不存在"),
    "date in the future": (_set(0, 下达日期="2025年9月27日"), 2, "下达日期", "晚于今天"),
    "deadline before the notice": (
        _set(0, 整改时限="2025/9/20"),
        2,
        "整改时限",
        "整改时限 2025-09-20 应晚于下达日期 2025-09-25",
    ),
    "score out of range": (_set(0, 评价得分="120"), 2, "评价得分", "0 到 100 之间"),
    "score not a number": (_set(0, 评价得分="良好"), 2, "评价得分", "0 到 100 之间"),
    "bad year": (_set(0, 评价年度="25"), 2, "评价年度", "2000 到 2100"),
    "bad class": (_set(5, 整改类型="马上改"), 7, "整改类型", "无法识别“马上改”"),
    "finding twice in the file": (_set(2, 问题编号="1"), 4, "问题编号", "与第2行重复"),
    "order's rows disagree on the date": (
        _set(3, 下达日期="2025-09-24"),
        5,
        "下达日期",
        "与第2行不一致",
    ),
    "order's rows disagree on the department": (
        _set(3, 整改责任单位代码="JYJ", 整改责任单位="泸溪县教育局"),
        5,
        "整改责任单位代码",
        "与第2行不一致",
    ),
    "order's rows disagree on the evaluation": (
        _set(3, 评价项目编号="LX-2025-PJ-002"),
        5,
        "评价项目编号",
        "与第2行不一致",
    ),
    "evaluation's rows disagree on the score": (
        _set(2, 评价得分="80"),
        4,
        "评价得分",
        "与第2行不一致",
    ),
    "new evaluation without a score": (
        _set_rows(range(4), 评价得分=""),
        2,
        "评价得分",
        "评价项目LX-2025-PJ-001尚未登记，导入时将新建，须填写评价得分",
    ),
    "refused by the domain": (
        _set(0, 问题类型="过" * 101),
        2,
        "问题类型",
        "内容过长：101 个字，最多 100 个字",
    ),
}


@pytest.mark.parametrize(("edit", "row_number", "column", "says"), CASES.values(), ids=CASES)
def test_each_kind_of_bad_row_is_named_and_nothing_is_saved(
    app: LastmileApplication,
    edit: Callable[[list[Row]], object],
    row_number: int,
    column: str,
    says: str,
) -> None:
    before = events(app)

    report = import_ledger_file(app, EVALUATOR, "台账.csv", edited(edit))

    assert report.result is None
    assert says in problem_at(report, row_number, column).zh
    assert problem_at(report, row_number, column).en
    assert events(app) == before


def test_every_problem_is_reported_at_once(app: LastmileApplication) -> None:
    rows = sample_rows()
    rows[5]["整改类型"] = "马上改"
    rows[8]["整改时限"] = "明年"
    rows[13]["问题描述"] = ""

    report = import_ledger_file(app, EVALUATOR, "台账.csv", to_csv(rows))

    assert where(report) == [(7, "整改类型"), (10, "整改时限"), (15, "问题描述")]


def test_an_abbreviated_department_name_is_a_warning_not_an_error(app: LastmileApplication) -> None:
    report = import_ledger_file(app, EVALUATOR, "台账.csv", edited(_set(0, 整改责任单位="水利局")))

    assert report.ok
    assert [(w.row, w.column) for w in report.warnings] == [(2, "整改责任单位")]
    assert "写法不同，已按代码导入" in report.warnings[0].zh


def test_an_evaluation_on_record_with_other_facts_is_refused(app: LastmileApplication) -> None:
    app.record_evaluation(
        EVALUATOR, ref="LX-2025-PJ-001", title="2025年农村饮水安全巩固提升工程项目支出绩效评价",
        year=2025, object_type="project", department="SLJ", budget_amount=Decimal("1200000"),
        score=Decimal("80"),
    )  # fmt: skip

    report = import_ledger_file(app, EVALUATOR, "台账.csv", SAMPLE_CSV.read_bytes())

    assert where(report) == [(2, "评价得分")]
    assert "评价项目LX-2025-PJ-001已登记，评价得分为“80”" in report.errors[0].zh


def test_an_evaluation_on_record_with_the_same_facts_is_used_not_recorded_again(
    app: LastmileApplication,
) -> None:
    app.record_evaluation(
        EVALUATOR, ref="LX-2025-PJ-001", title="2025年农村饮水安全巩固提升工程项目支出绩效评价",
        year=2025, object_type="project", department="SLJ", budget_amount=Decimal("1200000"),
        score=Decimal("78.50"),
    )  # fmt: skip

    report = import_ledger_file(app, EVALUATOR, "台账.csv", SAMPLE_CSV.read_bytes())

    assert report.result is not None
    assert "LX-2025-PJ-001" not in report.result.evaluations
    assert len(report.result.evaluations) == 4
    assert app.evaluation("LX-2025-PJ-001").budget_amount == Decimal("1200000")


def test_importing_the_same_ledger_again_is_refused_naming_the_existing_findings(
    app: LastmileApplication,
) -> None:
    assert import_ledger_file(app, EVALUATOR, "台账.csv", SAMPLE_CSV.read_bytes()).ok
    before = events(app)

    again = import_ledger_file(app, EVALUATOR, "台账.xlsx", SAMPLE_XLSX.read_bytes())

    assert where(again) == [(n, "问题编号") for n in range(2, 22)]
    first = again.errors[0]
    assert "该问题已经下达过（泸财绩〔2025〕12号 问题编号“1”" in first.zh
    assert str(finding_id("泸财绩〔2025〕12号", "1")) in first.zh
    assert "already issued" in first.en
    assert events(app) == before


def test_a_ledger_adding_findings_to_an_imported_order_is_refused_only_for_the_repeats(
    app: LastmileApplication,
) -> None:
    assert import_ledger_file(app, EVALUATOR, "台账.csv", to_csv([row(1), row(2)])).ok

    report = import_ledger_file(app, EVALUATOR, "台账.csv", to_csv([row(2), row(3)]))

    assert where(report) == [(2, "问题编号")]


def test_a_dry_run_checks_everything_and_saves_nothing(app: LastmileApplication) -> None:
    before = events(app)

    report = import_ledger_file(app, EVALUATOR, "台账.csv", SAMPLE_CSV.read_bytes(), dry_run=True)

    assert report.result is not None
    assert report.result.dry_run
    assert len(report.result.findings) == 20
    assert events(app) == before


# -- reading the file -------------------------------------------------------------------------


def test_headers_may_come_in_any_order_and_unknown_columns_are_ignored(
    app: LastmileApplication,
) -> None:
    headers = ("备注", *reversed(HEADERS))
    rows = [row(1, 备注="已核实"), row(2)]

    report = import_ledger_file(app, EVALUATOR, "台账.xlsx", to_xlsx(rows, headers))

    assert report.ok


def test_missing_headers_are_one_error_naming_them(app: LastmileApplication) -> None:
    headers = tuple(h for h in HEADERS if h not in ("问题类型", "整改类型"))

    report = import_ledger_file(app, EVALUATOR, "台账.csv", to_csv([row(1)], headers))

    assert where(report) == [(1, None)]
    assert "缺少必需的列：问题类型、整改类型" in report.errors[0].zh


def test_row_numbers_are_the_spreadsheets_with_title_lines_and_empty_rows(
    app: LastmileApplication,
) -> None:
    rows = [row(1), {}, row(2, 整改类型="马上改")]  # an empty row between two findings

    report = import_ledger_file(app, EVALUATOR, "台账.xlsx", to_xlsx(rows, above=2))

    # Two title lines, the header on row 3, the data from row 4; the empty row 5 is skipped
    assert where(report) == [(6, "整改类型")]


@pytest.mark.parametrize(
    "cell",
    [date(2025, 9, 25), "2025-09-25", "2025年9月25日", "2025/9/25", "2025.9.25", 45925],
    ids=["excel-date", "iso", "chinese", "slashes", "dots", "excel-serial"],
)
def test_dates_are_read_in_the_ways_ledgers_write_them(
    app: LastmileApplication, cell: object
) -> None:
    report = import_ledger_file(app, EVALUATOR, "台账.xlsx", to_xlsx([row(1, 下达日期=cell)]))

    assert report.ok
    assert app.finding_by_ref("泸财绩〔2025〕12号", "1").issued_on == ISSUED_ON


def test_cells_are_trimmed_and_numbers_read_as_text(app: LastmileApplication) -> None:
    rows = [row(1, 问题编号=1.0, 整改类型=" phased ", 问题描述="  资金闲置\u3000", 评价得分="78.5")]

    report = import_ledger_file(app, EVALUATOR, "台账.xlsx", to_xlsx(rows))

    assert report.ok
    finding = app.finding_by_ref("泸财绩〔2025〕12号", "1")
    assert (finding.description, finding.rectification_class) == ("资金闲置", "phased")


def test_formula_guard_apostrophes_of_the_csv_export_are_stripped(
    app: LastmileApplication,
) -> None:
    rows = [
        row(1, 问题描述="'=SUM(A1:A3) 未核对", 整改要求="'-3万元须收回"),
        row(2, 问题描述="'@张三 经手", 整改要求="'它不是公式"),
    ]

    report = import_ledger_file(app, EVALUATOR, "台账.csv", to_csv(rows))

    assert report.ok
    first = app.finding_by_ref("泸财绩〔2025〕12号", "1")
    second = app.finding_by_ref("泸财绩〔2025〕12号", "2")
    assert (first.description, first.requirement) == ("=SUM(A1:A3) 未核对", "-3万元须收回")
    assert (second.description, second.requirement) == ("@张三 经手", "'它不是公式")


def test_a_deadline_given_in_the_ledger_is_kept(app: LastmileApplication) -> None:
    report = import_ledger_file(app, EVALUATOR, "台账.csv", to_csv([row(1, 整改时限="2025-12-31")]))

    assert report.ok
    assert app.finding_by_ref("泸财绩〔2025〕12号", "1").due_on == date(2025, 12, 31)


@pytest.mark.parametrize(
    ("name", "content", "says"),
    [
        ("台账.csv", b"", "文件是空的"),
        ("台账.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "旧版 Excel"),
        ("台账.pdf", b"%PDF-1.7 ...", "不支持 .pdf 文件"),
        ("台账.xlsx", "序号,问题编号\n".encode(), "内容不是 Excel 工作簿"),
        ("台账.xlsx", b"PK\x03\x04 not really a zip", "无法作为 Excel 工作簿"),
        ("台账.csv", ",".join(HEADERS).encode("gbk"), "不是 UTF-8 编码"),
        ("台账.csv", "\ufeff序号,问题编号\n1,1\n".encode(), "缺少必需的列"),
        ("台账.csv", to_csv([]), "表头下没有任何数据行"),
        ("台账.csv", '序号,"问题编号\n1,"未闭合'.encode(), "CSV 格式有误"),
    ],
    ids=[
        "empty",
        "xls",
        "pdf",
        "xlsx-named-csv",
        "broken-zip",
        "gbk",
        "headers",
        "no-rows",
        "bad-quotes",
    ],
)
def test_a_file_that_is_not_a_ledger_is_refused_with_a_clear_message(
    app: LastmileApplication, name: str, content: bytes, says: str
) -> None:
    report = import_ledger_file(app, EVALUATOR, name, content)

    assert len(report.errors) == 1
    assert report.errors[0].column is None
    assert says in report.errors[0].zh
    assert report.errors[0].en


def test_read_ledger_gives_rows_by_header_with_their_spreadsheet_numbers() -> None:
    table = read_ledger("sample-ledger.xlsx", SAMPLE_XLSX.read_bytes())

    assert table.headers == HEADERS
    assert [r.number for r in table.rows] == list(range(2, 22))
    assert table.rows[0].cells["整改通知文号"] == "泸财绩〔2025〕12号"
    assert table.rows[0].cells["整改时限"] is None


def test_the_ledger_may_sit_on_a_later_sheet_over_many_formatted_empty_rows() -> None:
    workbook = load_workbook(io.BytesIO(to_xlsx([row(1), row(2)])))
    notes = workbook.create_sheet("填表说明", 0)
    notes.append(["整改类型填立行立改、分阶段整改或持续整改"])
    ledger = workbook["整改台账"]
    ledger.cell(row=MAX_ROWS + 50, column=3).number_format = "@"  # styled, still empty
    buffer = io.BytesIO()
    workbook.save(buffer)

    table = read_ledger("台账.xlsx", buffer.getvalue())

    assert [r.number for r in table.rows] == [2, 3]
