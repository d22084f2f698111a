"""Small horizontal bar charts laid out here and drawn as inline SVG by the page template.

Inline SVG needs no script and no image route, keeps its Chinese text selectable and
searchable, and carries its own text alternative; every number is also in a table beside it.
Horizontal bars put each department's name on its own line, so a phone is as readable as a
laptop: the drawing is 320 units wide and scales with the column it sits in.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from adapters.reports.text import display_width

WIDTH = 320  # about a phone's column, so 14 units of text read as 14 px there
VALUE_ROOM = 72  # right of the longest bar: its value text
LEGEND_HEIGHT = 28
ROW_HEIGHT = 50
AXIS_HEIGHT = 22
LABEL_COLUMNS = 42  # display columns (a CJK character counts two) before a name is cut
INSIDE_MIN = 20  # narrower segments keep their number in the table only


@dataclass(frozen=True)
class Series:
    """One colour of bar: its name and how it is painted (fill, and the text drawn on it)."""

    label: str
    fill: str
    ink: str = "#ffffff"


@dataclass(frozen=True)
class Punctuation:
    """How the text alternative joins its parts: "：；。" in 中文, ": ; ." in English."""

    colon: str = "："
    between: str = "；"
    stop: str = "。"
    comma: str = "，"


@dataclass(frozen=True)
class Segment:
    x: float
    width: float
    text: str  # the number drawn inside, or "" when the segment is too narrow
    fill: str
    ink: str
    title: str  # a tooltip: "series: value"


@dataclass(frozen=True)
class Bar:
    label: str
    title: str  # the full name, when the label had to be cut
    y: float  # baseline of the label; the bar sits under it
    segments: tuple[Segment, ...]
    value_text: str
    value_x: float


@dataclass(frozen=True)
class LegendItem:
    x: float
    y: float  # top of its swatch
    label: str
    fill: str


@dataclass(frozen=True)
class Guide:
    x: float
    text: str


@dataclass(frozen=True)
class BarChart:
    """Everything the template draws, in SVG user units, and the same numbers as a table."""

    id: str
    title: str
    summary: str  # the text alternative: every number in one sentence
    width: int
    height: float
    legend: tuple[LegendItem, ...]
    bars: tuple[Bar, ...]
    guides: tuple[Guide, ...]
    bar_top: float  # y of the first bar's label, for the guide lines
    headers: tuple[str, ...]
    table: tuple[tuple[str, ...], ...]


def short(label: str, columns: int = LABEL_COLUMNS) -> str:
    """The label, cut with "…" when it would run past the drawing."""
    if display_width(label) <= columns:
        return label
    kept = ""
    for ch in label:
        if display_width(kept + ch) > columns - 1:
            break
        kept += ch
    return kept + "…"


def _legend(series: Sequence[Series]) -> tuple[LegendItem, ...]:
    """Swatches left to right, wrapping to a new line before one would pass the edge."""
    items, x, y = [], 0.0, 3.0
    for s in series:
        width = 20 + display_width(s.label) * 7.0
        if x and x + width > WIDTH:
            x, y = 0.0, y + LEGEND_HEIGHT - 4
        items.append(LegendItem(x, y, s.label, s.fill))
        x += width + 14
    return tuple(items)


def stacked_chart(
    id: str,
    title: str,
    categories: Sequence[str],
    series: Sequence[Series],
    values: Sequence[Sequence[int]],
    total_text: Callable[[int], str],
    empty_text: str,
    p: Punctuation = Punctuation(),
) -> BarChart:
    """One bar per category, one segment per series (counts); the total at the bar's end."""
    legend = _legend(series) if len(series) > 1 else ()
    top = legend[-1].y - 3 + LEGEND_HEIGHT if legend else 0
    longest = max([sum(v) for v in values] + [1])
    scale = (WIDTH - VALUE_ROOM) / longest
    bars = []
    for i, (name, row) in enumerate(zip(categories, values, strict=True)):
        y = top + 17 + i * ROW_HEIGHT
        x, segments = 0.0, []
        for s, value in zip(series, row, strict=True):
            if value:
                width = value * scale
                inside = str(value) if width >= INSIDE_MIN else ""
                segments.append(Segment(x, width, inside, s.fill, s.ink, f"{s.label}: {value}"))
                x += width
        total = sum(row)
        text = total_text(total) if total else empty_text
        bars.append(Bar(short(name), name, y, tuple(segments), text, x + 5))
    summary = p.between.join(
        name + p.colon + p.comma.join(f"{s.label} {v}" for s, v in zip(series, row, strict=True))
        for name, row in zip(categories, values, strict=True)
    )
    return BarChart(
        id,
        title,
        title + p.stop + summary,
        WIDTH,
        top + len(bars) * ROW_HEIGHT + 8,
        legend,
        tuple(bars),
        (),
        top,
        ("", *(s.label for s in series)),
        tuple((name, *(str(v) for v in row)) for name, row in zip(categories, values, strict=True)),
    )


def rate_chart(
    id: str,
    title: str,
    categories: Sequence[str],
    rates: Sequence[float | None],
    series: Series,
    percent: Callable[[float | None], str],
    none_text: str,
    p: Punctuation = Punctuation(),
) -> BarChart:
    """One bar per category on a 0–100 % scale; a missing rate (nothing due) says so."""
    room = WIDTH - VALUE_ROOM
    bars = []
    for i, (name, rate) in enumerate(zip(categories, rates, strict=True)):
        y = 17 + i * ROW_HEIGHT
        width = room * (rate or 0)
        segments = (Segment(0, width, "", series.fill, series.ink, percent(rate)),) if rate else ()
        text = percent(rate) if rate is not None else none_text
        bars.append(Bar(short(name), name, y, segments, text, width + 5))
    height = len(bars) * ROW_HEIGHT + AXIS_HEIGHT
    summary = p.between.join(
        name + p.colon + (percent(rate) if rate is not None else none_text)
        for name, rate in zip(categories, rates, strict=True)
    )
    return BarChart(
        id,
        title,
        title + p.stop + summary,
        WIDTH,
        height,
        (),
        tuple(bars),
        tuple(Guide(room * f, f"{round(f * 100)}%") for f in (0, 0.5, 1)),
        0,
        ("", series.label),
        tuple(
            (name, percent(rate) if rate is not None else none_text)
            for name, rate in zip(categories, rates, strict=True)
        ),
    )
