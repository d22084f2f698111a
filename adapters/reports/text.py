"""Words and cell texts every format shares, in 中文 and English."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Mapping
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from adapters.reports.model import Column, Language, Report
from domain.calendar import CHINA_TZ

KIND_NAMES: Mapping[str, tuple[str, str]] = {
    "ledger": ("整改台账", "Ledger"),
    "departments": ("单位整改评分", "Department scorecard"),
    "accountability": ("问责追踪", "Accountability trail"),
    "budget-linkage": ("结果应用", "Budget linkage"),
}

WORDS: Mapping[str, tuple[str, str]] = {
    "as_of": ("数据截至", "As of"),
    "digest": ("日志摘要", "Log digest"),
    "position": ("日志位置", "Log position"),
    "report": ("报表", "Report"),
    "about": ("说明", "About"),
    "notes": ("备注", "Notes"),
    "page": ("第 {n} 页", "Page {n}"),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    "category": ("类别", "Category"),
    "count": ("数量", "Count"),
    "rate": ("比例", "Rate"),
    "rows": ("共 {n} 行", "{n} rows"),
}


def word(key: str, language: Language, **values: object) -> str:
    zh, en = WORDS[key]
    return (zh if language == "zh-CN" else en).format(**values)


def kind_name(kind: str, language: Language) -> str:
    zh, en = KIND_NAMES.get(kind, (kind, kind))
    return zh if language == "zh-CN" else en


def moment_text(moment: datetime, seconds: bool = False) -> str:
    """A moment as China reads it: Asia/Shanghai wall time, minutes (or seconds)."""
    local = moment.astimezone(CHINA_TZ) if moment.tzinfo else moment
    return local.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def provenance(report: Report, language: Language, digest_chars: int | None = None) -> str:
    """The line under every title: when the data was taken and from which log."""
    digest = report.digest if digest_chars is None else report.digest[:digest_chars] + "…"
    as_of = f"{word('as_of', language)} {moment_text(report.as_of)}"
    return f"{as_of} · {word('digest', language)} {digest}"


def display_width(text: str) -> int:
    """Columns a text takes in a spreadsheet or a monospace grid: CJK characters count double."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def percent_text(value: Any) -> str:
    ratio = Decimal(str(value)) * 100
    return f"{ratio.quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)}%"


def cell_text(value: Any, column: Column, language: Language, grouped: bool = False) -> str:
    """A cell as text; `grouped` adds thousands separators (for reading, not re-importing)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return word("yes" if value else "no", language)
    if column.kind == "percent" and isinstance(value, int | float | Decimal):
        return percent_text(value)
    if isinstance(value, datetime):
        return moment_text(value, seconds=not grouped)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int | Decimal | float) and column.kind == "decimal":
        return f"{value:,.2f}" if grouped else f"{value:.2f}"
    if isinstance(value, int) and grouped:
        return f"{value:,}"
    if isinstance(value, Mapping):
        return json.dumps(dict(value), ensure_ascii=False, default=str)
    if isinstance(value, list | tuple):
        return "; ".join(str(item) for item in value)
    return str(value)


def is_numeric(column: Column) -> bool:
    return column.kind in ("int", "decimal", "percent")
