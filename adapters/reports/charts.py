"""Bar charts drawn by matplotlib with the CJK font: SVG for pages, PNG for PDFs."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import matplotlib
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, PercentFormatter
from matplotlib.typing import RcKeyType

from adapters.reports.fonts import chart_font_family
from adapters.reports.model import Chart, Language
from adapters.reports.text import display_width, percent_text, word

# rcParams are process-wide; API threads must not change them under each other.
_LOCK = threading.Lock()
_LABELLED_BARS = 24  # more bars than this and value labels would overlap
_LONG_LABEL = 16  # display columns; longer category names are cut with "…"


@contextmanager
def _chart_style(salt: str) -> Iterator[None]:
    style: dict[RcKeyType, Any] = {
        "font.family": "sans-serif",
        "font.sans-serif": [chart_font_family(), "DejaVu Sans"],
        "axes.unicode_minus": False,  # not every CJK font has U+2212
        "svg.fonttype": "path",  # glyphs as outlines: the page needs no font
        "svg.hashsalt": salt,  # stable ids, distinct per chart on one page
        # Labels are users' words (department names): "$x^{$" must be text, not mathtext
        # that fails to parse and takes the whole report down with it.
        "text.parse_math": False,
    }
    with _LOCK, matplotlib.rc_context(style):
        yield


def _short(label: str) -> str:
    if display_width(label) <= _LONG_LABEL:
        return label
    kept = ""
    for ch in label:
        if display_width(kept + ch) > _LONG_LABEL - 1:
            break
        kept += ch
    return kept + "…"


def _draw_bars(ax: Axes, chart: Chart) -> None:
    count = len(chart.series)
    positions = range(len(chart.categories))
    width = 0.8 if chart.stacked else 0.8 / max(count, 1)
    bottoms = [0.0] * len(chart.categories)
    label_values = not chart.stacked and len(chart.categories) * count <= _LABELLED_BARS
    for i, (label, raw) in enumerate(chart.series.items()):
        values = [float(v or 0) for v in raw]
        offset = 0.0 if chart.stacked else (i - (count - 1) / 2) * width
        xs = [p + offset for p in positions]
        bars = ax.bar(xs, values, width, bottom=bottoms if chart.stacked else None, label=label)
        if chart.stacked:
            bottoms = [b + v for b, v in zip(bottoms, values, strict=True)]
        if label_values:
            texts = [percent_text(v) if chart.percent else f"{v:g}" for v in values]
            ax.bar_label(bars, labels=texts, padding=2, fontsize=7)


def _no_data(ax: Axes, language: Language) -> None:
    ax.set_axis_off()
    text = "无数据" if language == "zh-CN" else "No data"
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes)


def _label_axes(ax: Axes, chart: Chart, language: Language) -> None:
    x_label = chart.x_label if language == "zh-CN" else chart.x_label_en
    y_label = chart.y_label if language == "zh-CN" else chart.y_label_en
    ax.set_xlabel(x_label or word("category", language))
    ax.set_ylabel(y_label or word("rate" if chart.percent else "count", language))
    labels = [_short(c) for c in chart.categories]
    crowded = len(labels) > 6 or any(display_width(c) > 8 for c in labels)
    rotation = (45 if len(labels) > 12 else 30) if crowded else 0
    ax.set_xticks(range(len(labels)), labels, rotation=rotation, fontsize=8)
    if crowded:
        for tick in ax.get_xticklabels():
            tick.set_horizontalalignment("right")


def _scale(ax: Axes, chart: Chart) -> None:
    if chart.percent:  # rates on the full 0-100 % scale, room above for the value labels
        top = max([1.0, *(float(v or 0) for values in chart.series.values() for v in values)])
        ax.set_ylim(0, top * 1.12)
        ax.yaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))
    else:
        ax.margins(y=0.15)
        ax.set_ylim(bottom=0)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.yaxis.grid(True, alpha=0.3)
    ax.set_axisbelow(True)
    ax.spines[["top", "right"]].set_visible(False)


def _axes(fig: Figure, chart: Chart, language: Language) -> None:
    ax = fig.add_subplot()
    ax.set_title(chart.heading(language), fontsize=12, pad=10)
    if not chart.categories or not chart.series:
        _no_data(ax, language)
        return
    _draw_bars(ax, chart)
    _label_axes(ax, chart, language)
    _scale(ax, chart)
    fig.legend(loc="outside right upper", fontsize=8, frameon=False)


def _figure(chart: Chart, language: Language) -> Figure:
    groups = max(len(chart.categories), 1) * (1 if chart.stacked else max(len(chart.series), 1))
    width = min(max(6.5, 2.5 + 0.35 * groups), 11.0)
    fig = Figure(figsize=(width, 3.8), layout="constrained")
    _axes(fig, chart, language)
    return fig


def chart_svg(chart: Chart, language: Language, salt: str) -> str:
    """The chart as an <svg> element to put inline in a page (no XML prolog)."""
    with _chart_style(salt):
        buffer = io.StringIO()
        _figure(chart, language).savefig(buffer, format="svg", metadata={"Date": None})
    svg = buffer.getvalue()
    return svg[svg.index("<svg") :]


def chart_png(chart: Chart, language: Language, dpi: int = 150) -> bytes:
    """The chart as a PNG image, for documents that cannot hold SVG."""
    with _chart_style("png"):
        buffer = io.BytesIO()
        _figure(chart, language).savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()
