"""Reading a ledger file (XLSX or UTF-8 CSV) into rows of cells keyed by column header."""

from __future__ import annotations

import csv
import io
import warnings
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from pathlib import PurePath
from typing import Any

from openpyxl import load_workbook

from adapters.ledger_import import columns
from adapters.ledger_import.problems import LedgerFileError, file_problem

Cell = Any  # str | int | float | datetime | date | None, as the file holds it
MAX_ROWS = 10_000
HEADER_SEARCH_ROWS = 10  # a title line or two may sit above the header
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # the old binary .xls (and .et) format
EXCEL_SUFFIXES = frozenset({".xlsx", ".xlsm"})
CSV_SUFFIXES = frozenset({".csv", ".txt", ""})
# The CSV export puts ' before text a spreadsheet would run as a formula (adapters/reports).
FORMULA_GUARDED = ("'=", "'+", "'-", "'@", "'\t", "'\r")


@dataclass(frozen=True)
class LedgerRow:
    """One non-empty row: its number as the spreadsheet shows it, and its cells by header."""

    number: int
    cells: dict[str, Cell]


@dataclass(frozen=True)
class LedgerTable:
    """The rows under a ledger's header row."""

    headers: tuple[str, ...]
    rows: tuple[LedgerRow, ...]


def read_ledger(filename: str, content: bytes) -> LedgerTable:
    """Read an XLSX or UTF-8 CSV ledger; raise LedgerFileError saying why it cannot be read."""
    return _table(_lines(filename, content))


def _lines(filename: str, content: bytes) -> list[tuple[int, Sequence[Cell]]]:
    suffix = PurePath(filename or "").suffix.lower()
    if not content.strip():
        raise file_problem("文件是空的", "The file is empty.")
    if content.startswith(OLE_MAGIC):
        raise file_problem(
            "这是旧版 Excel（.xls）文件，请在 Excel 中另存为 .xlsx 或“CSV UTF-8”后再导入",
            "This is an old Excel (.xls) file; save it as .xlsx or CSV UTF-8 and import that.",
        )
    if content.startswith(ZIP_MAGIC):
        return _xlsx_lines(content)
    if suffix in EXCEL_SUFFIXES:
        raise file_problem(
            f"文件名是 {suffix}，但内容不是 Excel 工作簿",
            f"The file is named {suffix} but is not an Excel workbook.",
        )
    if suffix not in CSV_SUFFIXES:
        raise file_problem(
            f"不支持 {suffix} 文件，只能导入 .xlsx 或 .csv（UTF-8）台账",
            f"A {suffix} file cannot be imported; use .xlsx or .csv (UTF-8).",
        )
    return _csv_lines(content)


def _xlsx_lines(content: bytes) -> list[tuple[int, Sequence[Cell]]]:
    try:
        with warnings.catch_warnings():
            # Workbooks from other tools warn about styles and extensions we do not read.
            warnings.simplefilter("ignore")
            workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
            try:
                return _filled_lines(enumerate(_ledger_sheet(workbook), start=1))
            finally:
                workbook.close()
    except LedgerFileError:
        raise
    except Exception as error:  # openpyxl raises many kinds on a damaged or foreign zip
        raise file_problem(
            "无法作为 Excel 工作簿（.xlsx）读取，文件可能已损坏或不是台账",
            f"The file cannot be read as an Excel workbook (.xlsx): {type(error).__name__}.",
        ) from None


def _ledger_sheet(workbook: Any) -> Iterator[Sequence[Cell]]:
    """The rows of the first sheet with a ledger header near its top; else the first sheet's."""
    for sheet in workbook.worksheets:
        top = list(islice(sheet.iter_rows(values_only=True), HEADER_SEARCH_ROWS))
        if _header_index(list(enumerate(top, start=1))) is not None:
            return iter(sheet.iter_rows(values_only=True))
    return iter(workbook.worksheets[0].iter_rows(values_only=True) if workbook.worksheets else [])


def _csv_lines(content: bytes) -> list[tuple[int, Sequence[Cell]]]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise file_problem(
            "CSV 文件不是 UTF-8 编码（可能是 GBK/ANSI）；"
            "请在 Excel 中“另存为 → CSV UTF-8（逗号分隔）”后再导入",
            "The CSV file is not UTF-8 (perhaps GBK/ANSI); save it as 'CSV UTF-8' and retry.",
        ) from None
    first = text.split("\n", 1)[0]
    delimiter = "\t" if first.count("\t") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        return _filled_lines(enumerate(reader, start=1))
    except csv.Error as error:
        raise file_problem(
            f"CSV 格式有误：{error}", f"The CSV is malformed: {error}.", row=reader.line_num
        ) from None


def _filled_lines(
    lines: Iterable[tuple[int, Sequence[Cell]]],
) -> list[tuple[int, Sequence[Cell]]]:
    """The rows holding anything, with their numbers; fully empty rows are only spacing."""
    found = []
    for number, values in lines:
        if any(_clean(v) is not None for v in values):
            found.append((number, values))
            if len(found) > MAX_ROWS + HEADER_SEARCH_ROWS:
                raise _too_many_rows()
    return found


def _table(lines: Sequence[tuple[int, Sequence[Cell]]]) -> LedgerTable:
    if not lines:
        raise file_problem("文件中没有任何数据", "The file holds no data.")
    at = _header_index(lines) or 0
    header_row, header_cells = lines[at]
    headers = _headers(header_row, header_cells)
    rows = [
        LedgerRow(
            number, {h: _clean(values[i]) if i < len(values) else None for i, h in headers.items()}
        )
        for number, values in lines[at + 1 :]
    ]
    if not rows:
        raise file_problem("表头下没有任何数据行", "There are no rows under the header.")
    if len(rows) > MAX_ROWS:
        raise _too_many_rows()
    return LedgerTable(tuple(headers.values()), tuple(rows))


def _headers(row: int, cells: Sequence[Cell]) -> dict[int, str]:
    """Known headers by position; any order, unknown columns ignored, required ones present."""
    found: dict[int, str] = {}
    for index, cell in enumerate(cells):
        name = _header_name(cell)
        if name in columns.KNOWN:
            if name in found.values():
                raise file_problem(
                    f"表头“{name}”出现了两次", f"The header {name} appears twice.", row=row
                )
            found[index] = name
    missing = [h for h in columns.REQUIRED if h not in found.values()]
    if missing:
        raise file_problem(
            f"缺少必需的列：{'、'.join(missing)}（表头应在第一行，列的顺序不限）",
            f"Required columns are missing: {', '.join(missing)} "
            "(the header row names each column; their order does not matter).",
            row=row,
        )
    return found


def _header_index(lines: Sequence[tuple[int, Sequence[Cell]]]) -> int | None:
    for i, (_, values) in enumerate(lines[:HEADER_SEARCH_ROWS]):
        if columns.ORDER in {_header_name(v) for v in values}:
            return i
    return None


def _header_name(cell: Cell) -> str:
    # People mark required columns with * or （必填）; the name is what is left.
    text = "".join(str(cell or "").split())
    return text.removesuffix("（必填）").removesuffix("(必填)").strip("*＊")


def _clean(value: Cell) -> Cell:
    if not isinstance(value, str):
        return value
    if value.startswith(FORMULA_GUARDED):
        value = value[1:]
    return value.strip() or None


def _too_many_rows() -> Exception:
    return file_problem(
        f"台账超过 {MAX_ROWS} 行，请拆分成几个文件分别导入",
        f"The ledger has more than {MAX_ROWS} rows; split it into several files.",
    )
