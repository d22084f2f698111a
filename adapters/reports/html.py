"""Reports as one self-contained HTML page: the table and its charts as inline SVG."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from adapters.reports.charts import chart_svg
from adapters.reports.model import Language, Report, value_at
from adapters.reports.text import cell_text, is_numeric, moment_text, word

TEMPLATES = Path(__file__).parent / "templates"
_WORDS = ("as_of", "digest", "position", "rows")


@functools.cache
def _environment() -> Environment:
    # Autoescape everything: findings' texts come from users and may hold markup.
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _rows(report: Report, language: Language) -> Iterator[list[tuple[str, bool]]]:
    for row in report.rows:
        yield [
            (cell_text(value_at(row, c.key), c, language, grouped=True), is_numeric(c))
            for c in report.columns
        ]


def render_html(report: Report, language: Language) -> bytes:
    charts = [
        # matplotlib escapes the chart's texts itself; the SVG is ours, not the user's.
        {"title": chart.heading(language), "svg": Markup(chart_svg(chart, language, f"c{i}"))}
        for i, chart in enumerate(report.charts)
    ]
    page = (
        _environment()
        .get_template("report.html.j2")
        .render(
            language=language,
            title=report.heading(language),
            as_of=moment_text(report.as_of),
            as_of_iso=report.as_of.isoformat(),
            digest=report.digest,
            position=report.position,
            notes=report.notes,
            charts=charts,
            headings=[c.heading(language) for c in report.columns],
            rows=_rows(report, language),
            words={key: word(key, language, n=len(report.rows)) for key in _WORDS},
        )
    )
    return page.encode("utf-8")
