"""Every report format, written from one hand-built report with Chinese, markup and numbers."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import matplotlib
import pytest
from openpyxl import load_workbook

from adapters.reports import fonts
from adapters.reports.model import Chart, Column, Report
from adapters.reports.render import FORMATS, file_extension, file_name, media_type, render
from domain.calendar import CHINA_TZ

DIGEST = hashlib.sha256(b"the log as of 2025-09-26").hexdigest()
FINDING_ID = uuid.UUID("6f1c2a9e-0d4b-4c1e-9a55-2b7f3c8d9e10")
CHECK_PNG = Path("/tmp/lastmile-render-check.png")

COLUMNS = (
    Column("department", "整改责任单位", "Department", width=14),
    Column("title", "问题描述", "Finding", width=28),
    Column("rectification_rate", "整改率", "Rectification rate", kind="percent", width=8),
    Column("ageing.1-10", "逾期1-10个工作日", "Overdue 1-10 working days", kind="int", width=8),
    Column("amount_recovered", "收回资金（元）", "Amount recovered", kind="decimal", width=12),
    Column("due_on", "整改时限", "Due on", kind="date", width=11),
    Column("verified_at", "销号时间", "Verified at", kind="datetime", width=16),
)
ROWS = (
    {
        "id": FINDING_ID,
        "department": "县水利局 Water Bureau",
        "title": "<script>alert(1)</script>",
        "rectification_rate": Decimal("0.85"),
        "ageing": {"1-10": 3, "11-30": 1, ">30": 0},
        "amount_recovered": Decimal("1234567.5"),
        "due_on": date(2025, 10, 31),
        "verified_at": datetime(2025, 10, 20, 2, 30, tzinfo=UTC),
    },
    {
        "id": None,
        "department": "县教育局",
        "title": "=1+2 专项资金闲置，预算执行率仅为百分之四十二，未按要求及时拨付到项目单位",
        "rectification_rate": 0.5,
        "ageing": {"1-10": 0},
        "amount_recovered": None,
        "due_on": date(2025, 12, 1),
        "verified_at": None,
    },
)
CHARTS = (
    Chart(
        "各单位整改率",
        "Rectification rate by department",
        ["县水利局", "县教育局<script>alert(2)</script>"],
        {"整改率": [0.85, 0.5], "按期整改率": [0.7, 0.25]},
        percent=True,
    ),
    Chart(
        "逾期账龄（工作日）",
        "Overdue ageing (working days)",
        ["县水利局", "县教育局"],
        {"1-10": [3, 0], "11-30": [1, 2], ">30": [0, 1]},
        stacked=True,
        x_label="整改责任单位",
        x_label_en="Department",
    ),
)


def _report(rows: Sequence[Mapping[str, object]] = ROWS) -> Report:
    return Report(
        kind="ledger",
        title="县域整改台账",
        title_en="County rectification ledger",
        as_of=datetime(2025, 9, 26, 9, 0, tzinfo=CHINA_TZ),
        digest=DIGEST,
        position=4211,
        columns=COLUMNS,
        rows=rows,
        charts=CHARTS,
        notes=("本表按泸财绩〔2025〕12号通知口径统计", "Withdrawn findings count nowhere."),
        extra={"page": 1, "pages": 1},
    )


def _missing(message: str) -> None:
    """Like tests/conftest.py's PostgreSQL check: skip locally, fail under CI."""
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        _missing(f"{name} is not installed: apt-get install poppler-utils")
    assert path is not None
    return path


@pytest.fixture
def cjk_font() -> None:
    try:
        fonts.cjk_font()
    except RuntimeError as error:
        _missing(str(error))


def test_a_missing_cjk_font_names_the_package_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    latin_only = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    monkeypatch.setattr(
        fonts, "_candidates", lambda: [("/no/such/font.ttc", 0), (str(latin_only), 0)]
    )
    fonts.cjk_font.cache_clear()
    try:
        with pytest.raises(RuntimeError, match="apt-get install fonts-wqy-microhei"):
            fonts.cjk_font()
    finally:
        fonts.cjk_font.cache_clear()


def test_render_refuses_an_unknown_format_by_name() -> None:
    with pytest.raises(ValueError, match="'docx'"):
        render(_report(), "docx")
    with pytest.raises(ValueError, match="'DOCX'"):
        media_type("DOCX")


def test_each_format_has_a_media_type_an_extension_and_a_file_name() -> None:
    assert media_type("xlsx") == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert media_type("csv") == "text/csv; charset=utf-8"
    assert [file_extension(f) for f in FORMATS] == [".json", ".csv", ".xlsx", ".html", ".pdf"]
    assert file_name(_report(), "pdf") == "ledger-20250926-0900.pdf"


def test_json_keeps_rows_as_given_with_plain_values() -> None:
    document = json.loads(render(_report(), "json").decode("utf-8"))

    assert document["kind"] == "ledger"
    assert document["title"] == "县域整改台账"
    assert document["as_of"] == "2025-09-26T09:00:00+08:00"
    assert (document["digest"], document["position"]) == (DIGEST, 4211)
    assert (document["page"], document["pages"]) == (1, 1)
    assert document["notes"][0] == "本表按泸财绩〔2025〕12号通知口径统计"
    first = document["rows"][0]
    assert first["id"] == str(FINDING_ID)
    assert first["ageing"] == {"1-10": 3, "11-30": 1, ">30": 0}
    assert first["rectification_rate"] == "0.85"
    assert first["amount_recovered"] == "1234567.5"
    assert first["due_on"] == "2025-10-31"
    assert first["verified_at"] == "2025-10-20T02:30:00+00:00"
    assert "县水利局".encode() in render(_report(), "json")  # not \\u escapes


def test_csv_starts_with_a_bom_and_parses_back_to_the_cells() -> None:
    data = render(_report(), "csv")

    assert data.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert table == [
        [
            "整改责任单位",
            "问题描述",
            "整改率",
            "逾期1-10个工作日",
            "收回资金（元）",
            "整改时限",
            "销号时间",
        ],
        [
            "县水利局 Water Bureau",
            "<script>alert(1)</script>",
            "85.0%",
            "3",
            "1234567.50",
            "2025-10-31",
            "2025-10-20 10:30:00",
        ],
        ["县教育局", "'" + str(ROWS[1]["title"]), "50.0%", "0", "", "2025-12-01", ""],
    ]


def test_csv_headings_follow_the_language() -> None:
    header = render(_report(), "csv", "en").decode("utf-8-sig").splitlines()[0]
    assert header.startswith("Department,Finding,Rectification rate,")


def test_xlsx_is_a_spreadsheet_a_bureau_opens() -> None:
    book = load_workbook(io.BytesIO(render(_report(), "xlsx")))

    assert book.sheetnames == ["整改台账", "说明"]
    sheet = book["整改台账"]
    assert sheet["A1"].value == "县域整改台账"
    assert sheet["A2"].value == f"数据截至 2025-09-26 09:00 · 日志摘要 {DIGEST[:16]}…"
    assert [c.value for c in sheet[3]] == [c.title for c in COLUMNS]
    assert sheet["A3"].font.b
    assert sheet.freeze_panes == "A4"
    assert sheet.auto_filter.ref == "A3:G5"
    assert sheet.column_dimensions["B"].width >= 30
    assert sheet.column_dimensions["A"].width >= 2 * len("县水利局") + 2
    assert (sheet["C4"].value, sheet["C4"].number_format) == (0.85, "0.0%")
    assert (sheet["D4"].value, sheet["D5"].value) == (3, 0)
    assert (sheet["E4"].value, sheet["E4"].number_format) == (1234567.5, "#,##0.00")
    # Excel has no time zones: dates and times are Beijing wall time.
    assert sheet["F4"].value == datetime(2025, 10, 31, tzinfo=CHINA_TZ).replace(tzinfo=None)
    assert sheet["F4"].number_format == "yyyy-mm-dd"
    assert sheet["G4"].value == datetime(2025, 10, 20, 10, 30, tzinfo=CHINA_TZ).replace(tzinfo=None)
    assert sheet["B5"].value == ROWS[1]["title"]
    assert sheet["B5"].data_type == "s"  # "=1+2 …" stays text, never a formula
    about = {row[0].value: row[1].value for row in book["说明"].iter_rows() if row[0].value}
    assert about["日志摘要"] == DIGEST
    assert about["日志位置"] == "4211"
    assert about["备注"] == "本表按泸财绩〔2025〕12号通知口径统计"


def test_xlsx_speaks_english_when_asked() -> None:
    book = load_workbook(io.BytesIO(render(_report(), "xlsx", "en")))

    assert book.sheetnames == ["Ledger", "About"]
    assert book["Ledger"]["A2"].value.startswith("As of 2025-09-26 09:00 · Log digest ")
    assert book["Ledger"]["C3"].value == "Rectification rate"


@pytest.mark.usefixtures("cjk_font")
def test_html_escapes_data_and_draws_charts_as_inline_svg() -> None:
    page = render(_report(), "html").decode("utf-8")

    assert '<html lang="zh-CN">' in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script" not in page.lower()
    assert DIGEST in page
    assert page.count("<svg") == 2
    assert "<?xml" not in page
    assert "县域整改台账" in page
    assert "专项资金闲置" in page
    assert "85.0%" in page
    assert "1,234,567.50" in page
    assert '<html lang="en">' in render(_report(), "html", "en").decode("utf-8")


def _pdf(tmp_path: Path, language: str = "zh-CN") -> Path:
    path = tmp_path / "report.pdf"
    path.write_bytes(render(_report(), "pdf", "en" if language == "en" else "zh-CN"))
    return path


@pytest.mark.usefixtures("cjk_font")
def test_pdf_page_one_turns_into_an_image(tmp_path: Path) -> None:
    pdftoppm = _tool("pdftoppm")
    pdf = _pdf(tmp_path)
    screenshots = tmp_path / "screenshots"
    screenshots.mkdir()

    subprocess.run(
        [pdftoppm, "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile", pdf, screenshots / "p"],
        check=True,
        timeout=60,
    )

    png = screenshots / "p.png"
    assert png.read_bytes().startswith(b"\x89PNG")
    shutil.copyfile(png, CHECK_PNG)  # for a person to look at: Chinese, no tofu boxes


@pytest.mark.usefixtures("cjk_font")
def test_pdf_text_is_real_embedded_chinese(tmp_path: Path) -> None:
    pdftotext = _tool("pdftotext")
    pdf = _pdf(tmp_path)

    text = subprocess.run(
        [pdftotext, "-layout", pdf, "-"], check=True, capture_output=True, text=True, timeout=60
    ).stdout

    assert "县域整改台账" in text
    assert re.search(r"第\s*1\s*页", text)
    assert DIGEST in text
    assert "<script>alert(1)</script>" in text  # shown as text, not swallowed as markup
    fonts_used = subprocess.run(
        [_tool("pdffonts"), pdf], check=True, capture_output=True, text=True, timeout=60
    ).stdout
    cjk = [line for line in fonts_used.splitlines() if "TrueType" in line]
    assert cjk
    assert all("yes yes yes" in line for line in cjk)  # embedded, subset, with a Unicode map


@pytest.mark.usefixtures("cjk_font")
def test_pdf_speaks_english_when_asked(tmp_path: Path) -> None:
    text = subprocess.run(
        [_tool("pdftotext"), _pdf(tmp_path, "en"), "-"],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    assert "County rectification ledger" in text
    assert "Page 1" in text


@pytest.mark.usefixtures("cjk_font")
@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_writes_three_thousand_rows(fmt: str) -> None:
    rows = tuple({**ROWS[i % 2], "department": f"单位{i:04d}"} for i in range(3000))

    data = render(_report(rows), fmt)

    if fmt == "csv":
        assert len(data.decode("utf-8-sig").splitlines()) == 3001
    elif fmt == "xlsx":
        sheet = load_workbook(io.BytesIO(data), read_only=True)["整改台账"]
        assert sum(1 for _ in sheet.iter_rows()) == 3003
    elif fmt == "pdf":
        assert data.startswith(b"%PDF")
        assert data.count(b"/Type /Page\n") > 50
    else:
        assert "单位2999" in data.decode("utf-8")


@pytest.mark.usefixtures("cjk_font")
def test_pdf_repeats_the_header_on_every_page(tmp_path: Path) -> None:
    pdf = tmp_path / "long.pdf"
    pdf.write_bytes(render(_report(tuple(ROWS[i % 2] for i in range(300))), "pdf"))

    text = subprocess.run(
        [_tool("pdftotext"), "-f", "3", "-l", "3", pdf, "-"],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout

    assert "整改责任单位" in text
    assert "县教育局" in text


@pytest.mark.usefixtures("cjk_font")
def test_pdf_splits_a_cell_taller_than_a_page() -> None:
    tall = {**ROWS[1], "title": "专项资金闲置，预算执行率低。" * 2000}

    data = render(_report((ROWS[0], tall, ROWS[1])), "pdf")

    assert data.count(b"/Type /Page\n") > 10
