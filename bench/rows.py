"""A benchmark's rows in docs/benchmarks.md, and the small formatting its sections share."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

NONE = "–"
Doc = dict[str, Any]


@dataclass(frozen=True)
class Row:
    """One measure on one store; `attainment` is the figure against its goal (≥ 1 when met)."""

    store: str
    measure: str
    figure: str
    baseline: str = NONE
    ratio: float | None = None
    goal: str = NONE
    met: bool | None = None
    attainment: float | None = None
    ratio_goal: float | None = None  # when the goal is a ratio to the baseline


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    date: str
    rows: list[Row]
    runs: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def skipped_row(s: Doc) -> Row:
    return Row(s["store"], "skipped", str(s["skipped"]))


def store_version(s: Doc) -> str:
    return f"{s['store']} {s.get('server_version', '')}".rstrip()


def plan_value(doc: Doc, name: str) -> Any:
    return doc.get("plan", {}).get(name, "?")


def run_date(doc: Doc) -> str:
    return str(doc.get("machine", {}).get("date", "unknown"))


def load_text(s: Doc) -> str:
    load = s.get("load_average_1min")
    if not load:
        return ""
    return f"; load average {load['start']:.1f} at its start, {load['end']:.1f} at its end"


def peak_text(r: Doc) -> str:
    anon, mapped = r.get("peak_rss_anon_mb"), r.get("peak_rss_file_mb")
    if anon is None or mapped is None:
        return f"{r['peak_rss_mb']:.0f} MB"
    return f"{r['peak_rss_mb']:.0f} MB (heap {anon:.0f}, mapped files {mapped:.0f})"


def percentiles_text(p: Doc) -> str:
    return f"p99 {p['p99']:,.1f} ms (p50 {p['p50']:,.1f}, p95 {p['p95']:,.1f})"
