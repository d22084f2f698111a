"""Reports as the spreadsheet a finance bureau opens: Chinese headers, widths, a frozen header."""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from itertools import islice
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from adapters.reports.model import Column, Language, Report, value_at
from adapters.reports.text import cell_text, display_width, kind_name, provenance, word
from domain.calendar import CHINA_TZ

# A write-only worksheet: rows stream out, so memory stays flat however long the report.
# It gains column_dimensions, auto_filter, merged_cells… at run time; its stubs miss them.
Sheet = Any

HEADER_ROW = 3  # title, provenance, then the header
NUMBER_FORMATS: Mapping[str, str] = {
    "int": "#,##0",
    "decimal": "#,##0.00",
    "percent": "0.0%",
    "date": "yyyy-mm-dd",
    "datetime": "yyyy-mm-dd hh:mm",
}
_MAX_WIDTH = 50  # characters; longer text wraps
_WIDTH_SAMPLE = 500  # rows looked at to size a column
_THIN = Side(style="thin", color="A6A6A6")
_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_HEADER_ALIGNMENT = Alignment(wrap_text=True, horizontal="center", vertical="center")
_HEADER_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_TEXT_ALIGNMENT = Alignment(wrap_text=True, vertical="top")

_NUMBER_ALIGNMENT = Alignment(vertical="top")


def _sheet_title(text: str) -> str:
    return re.sub(r"[\[\]:*?/\\]", " ", text)[:31] or "Sheet"


def _text(ws: Sheet, text: str, **style: Any) -> Cell:
    cell = WriteOnlyCell(ws, ILLEGAL_CHARACTERS_RE.sub("", text))
    cell.data_type = "s"  # a text starting with "=" stays text, never a formula
    for name, value in style.items():
        setattr(cell, name, value)
    return cell


def _native(value: Any) -> Any:
    """The value as Excel stores it (numbers, dates, Beijing wall time), None for text."""
    if isinstance(value, datetime):
        local = value.astimezone(CHINA_TZ) if value.tzinfo else value
        return local.replace(tzinfo=None)  # Excel has no time zones
    if isinstance(value, date | int | float | Decimal) and not isinstance(value, bool):
        return value
    return None


def _number_format(native: Any, column: Column) -> str:
    if isinstance(native, datetime):
        return NUMBER_FORMATS["datetime"]
    if isinstance(native, date):
        return NUMBER_FORMATS["date"]
    return NUMBER_FORMATS.get(column.kind, "General")


def _cell(ws: Sheet, value: Any, column: Column, language: Language) -> Cell | None:
    native = _native(value)
    if native is None:
        if value is None:
            return None
        return _text(ws, cell_text(value, column, language), alignment=_TEXT_ALIGNMENT)
    cell = WriteOnlyCell(ws, native)
    cell.alignment = _NUMBER_ALIGNMENT
    cell.number_format = _number_format(native, column)
    return cell


def _width(column: Column, report: Report, language: Language) -> float:
    """Column.width, widened to fit the heading and content (CJK counts double), capped."""
    sample = islice(report.rows, _WIDTH_SAMPLE)
    texts = [cell_text(value_at(row, column.key), column, language, True) for row in sample]
    need = max([display_width(column.heading(language)), *map(display_width, texts)])
    return max(column.width, min(need, _MAX_WIDTH)) + 2


def _table_sheet(ws: Sheet, report: Report, language: Language) -> None:
    columns = report.columns
    last = get_column_letter(max(len(columns), 1))
    for i, column in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(i)].width = _width(column, report, language)
    ws.freeze_panes = f"A{HEADER_ROW + 1}"
    ws.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    ws.page_setup.orientation = "landscape"
    ws.append([_text(ws, report.heading(language), font=Font(bold=True, size=14))])
    note = _text(ws, provenance(report, language, 16), font=Font(color="595959", size=9))
    ws.append([note])
    header_style = {"font": _HEADER_FONT, "fill": _HEADER_FILL, "border": _HEADER_BORDER}
    ws.append(
        [
            _text(ws, c.heading(language), alignment=_HEADER_ALIGNMENT, **header_style)
            for c in columns
        ]
    )
    for row in report.rows:
        ws.append([_cell(ws, value_at(row, c.key), c, language) for c in columns])
    ws.merged_cells.add(f"A1:{last}1")
    ws.merged_cells.add(f"A2:{last}2")
    ws.auto_filter.ref = f"A{HEADER_ROW}:{last}{HEADER_ROW + len(report.rows)}"


def _about_sheet(ws: Sheet, report: Report, language: Language) -> None:
    ws.column_dimensions["A"].width = 14
    ws.column_dimensions["B"].width = 80
    bold = Font(bold=True)
    facts = [
        (word("report", language), report.heading(language)),
        (word("as_of", language), report.as_of.astimezone(CHINA_TZ).isoformat()),
        (word("digest", language), report.digest),
        (word("position", language), str(report.position)),
    ]
    facts += [(word("notes", language) if i == 0 else "", n) for i, n in enumerate(report.notes)]
    for label, text in facts:
        ws.append([_text(ws, label, font=bold), _text(ws, text, alignment=_TEXT_ALIGNMENT)])


def render_xlsx(report: Report, language: Language) -> bytes:
    """Sheet 1 is the table (named for the report), sheet 2 says where its data came from."""
    book = Workbook(write_only=True)  # rows stream out: memory stays flat for long reports
    _table_sheet(
        book.create_sheet(_sheet_title(kind_name(report.kind, language))), report, language
    )
    _about_sheet(book.create_sheet(word("about", language)), report, language)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
