"""What every report is, whatever format it is written in."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

ColumnKind = Literal["text", "int", "decimal", "percent", "date", "datetime"]
Language = Literal["zh-CN", "en"]


@dataclass(frozen=True)
class Column:
    """One column: `key` is a dotted path into a row (e.g. "ageing.1-10")."""

    key: str
    title: str  # 中文 header
    title_en: str
    kind: ColumnKind = "text"
    width: int = 12  # characters, for XLSX and PDF

    def heading(self, language: Language) -> str:
        return self.title if language == "zh-CN" else self.title_en


@dataclass(frozen=True)
class Chart:
    """A bar chart: one bar group per category, one bar per series."""

    title: str
    title_en: str
    categories: Sequence[str]
    series: Mapping[str, Sequence[float]]  # series label -> one value per category
    stacked: bool = False
    percent: bool = False  # values are ratios 0..1, shown as percentages
    x_label: str = ""  # axis titles; empty: "类别"/"Category" and "数量"/"Count" or "比例"/"Rate"
    x_label_en: str = ""
    y_label: str = ""
    y_label_en: str = ""

    def heading(self, language: Language) -> str:
        return self.title if language == "zh-CN" else self.title_en


@dataclass(frozen=True)
class Report:
    """A report as of a moment, with the integrity digest of the log it was built from."""

    kind: str  # ledger | departments | accountability | budget-linkage
    title: str
    title_en: str
    as_of: datetime
    digest: str  # chain digest at `position`
    position: int  # last event (notification id) the report reflects
    columns: Sequence[Column]
    rows: Sequence[Mapping[str, Any]]
    charts: Sequence[Chart] = ()
    notes: Sequence[str] = ()  # one line each, shown under the title
    extra: Mapping[str, Any] = field(default_factory=dict)  # more JSON-only fields (paging…)

    def heading(self, language: Language) -> str:
        return self.title if language == "zh-CN" else self.title_en


def value_at(row: Mapping[str, Any], key: str) -> Any:
    """Follow a dotted key into nested mappings; missing parts give None."""
    value: Any = row
    for part in key.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value
