"""The charts of docs/benchmarks.md: each figure against its goal, each rate against its baseline.

Drawn with matplotlib's object API on the Agg canvas (no pyplot, no display), one bar per
measure and store, on a log scale so 0.5× and 2× sit equally far from the line at 1.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

COLOURS = {"sqlite": "#4878a8", "postgresql": "#e08a2c"}
OTHER = "#888888"


@dataclass(frozen=True)
class Bar:
    """One measure on one store: its value, and a goal marker when the goal is on this scale."""

    label: str  # "benchmark: measure"
    store: str
    value: float
    marker: float | None = None


def draw(bars: Sequence[Bar], path: Path, title: str, xlabel: str, line: float | None) -> None:
    """Horizontal bars grouped by label, a bar per store; `line` is drawn across all of them."""
    labels = list(dict.fromkeys(bar.label for bar in bars))
    stores = list(dict.fromkeys(bar.store for bar in bars))
    height = 0.8 / max(len(stores), 1)
    figure = Figure(figsize=(10, 1.2 + 0.42 * len(labels) * max(len(stores), 1)), layout="tight")
    axes = figure.subplots()
    for n, store in enumerate(stores):
        mine = [bar for bar in bars if bar.store == store]
        where = [labels.index(bar.label) + n * height for bar in mine]
        colour = COLOURS.get(store, OTHER)
        axes.barh(where, [bar.value for bar in mine], height=height, color=colour, label=store)
        for y, bar in zip(where, mine, strict=True):
            axes.annotate(
                f"{bar.value:.2f}", (bar.value, y), xytext=(3, 0), textcoords="offset points",
                va="center", fontsize=7,
            )  # fmt: skip
            if bar.marker is not None:
                span = [y - height / 2, y + height / 2]
                axes.plot([bar.marker] * 2, span, color="crimson", linewidth=2.5)
    if line is not None:
        axes.axvline(line, color="black", linestyle="--", linewidth=1)
    values = [bar.value for bar in bars] + [line or 1.0]
    axes.set_xscale("log")
    axes.set_xlim(min(values) / 1.6, max(values) * 2.2)  # room for the values printed
    axes.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    axes.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x:g}"))
    axes.xaxis.set_minor_formatter(NullFormatter())
    axes.set_yticks([i + height * (len(stores) - 1) / 2 for i in range(len(labels))], labels)
    axes.invert_yaxis()
    axes.tick_params(axis="y", labelsize=8)
    axes.set_xlabel(f"{xlabel} (log scale)")
    axes.set_title(title)
    axes.legend(loc="best", fontsize=8)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110, metadata={"Software": None})
