"""Reports as data for programs (JSON) and as a plain table (CSV)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

from adapters.reports.model import Language, Report, value_at
from adapters.reports.text import cell_text

# Excel runs a cell starting with one of these as a formula (CSV injection, OWASP).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal | UUID):
        return str(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    raise TypeError(f"a report cannot hold a {type(value).__name__} value: {value!r}")


def render_json(report: Report, language: Language) -> bytes:
    document = {
        "kind": report.kind,
        "title": report.heading(language),
        "as_of": report.as_of.isoformat(),
        "digest": report.digest,
        "position": report.position,
        "rows": list(report.rows),
        "notes": list(report.notes),
        **report.extra,
    }
    return json.dumps(document, ensure_ascii=False, default=_json_value).encode("utf-8")


def _csv_cell(text: str, is_text: bool) -> str:
    """Defuse text a spreadsheet would run as a formula; numbers like "-3" stay numbers."""
    return "'" + text if is_text and text.startswith(_FORMULA_STARTS) else text


def render_csv(report: Report, language: Language) -> bytes:
    """A pure table: one header row, one line per row, UTF-8 with a BOM for Excel."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([column.heading(language) for column in report.columns])
    for row in report.rows:
        writer.writerow(
            [
                _csv_cell(
                    cell_text(value_at(row, column.key), column, language),
                    column.kind == "text",
                )
                for column in report.columns
            ]
        )
    return buffer.getvalue().encode("utf-8-sig")
