"""Reports as landscape A4 PDFs with an embedded CJK font, so Chinese renders anywhere."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    Image,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
)

from adapters.reports.charts import chart_png
from adapters.reports.fonts import pdf_font_name
from adapters.reports.model import Language, Report, value_at
from adapters.reports.pdf_table import Grid, PagedTable
from adapters.reports.text import cell_text, is_numeric, moment_text, provenance, word

PAGE = landscape(A4)
MARGIN = 12 * mm
BOTTOM_MARGIN = MARGIN + 4 * mm  # room for the footer
FRAME_WIDTH = PAGE[0] - 2 * MARGIN
FRAME_HEIGHT = PAGE[1] - MARGIN - BOTTOM_MARGIN - 12  # a Frame pads 6 points top and bottom


@dataclass(frozen=True)
class _Styles:
    title: ParagraphStyle
    meta: ParagraphStyle
    header: ParagraphStyle
    text: ParagraphStyle
    number: ParagraphStyle


def _styles(font: str, columns: int) -> _Styles:
    size = 9 if columns <= 8 else 8 if columns <= 14 else 7
    # wordWrap="CJK" lets a line break between any two Chinese characters.
    base = ParagraphStyle("cell", fontName=font, fontSize=size, leading=size * 1.3, wordWrap="CJK")
    return _Styles(
        title=ParagraphStyle("title", base, fontSize=16, leading=22, spaceAfter=4),
        meta=ParagraphStyle("meta", base, fontSize=9, leading=13, textColor=colors.dimgrey),
        header=ParagraphStyle("header", base, alignment=TA_CENTER),
        text=base,
        number=ParagraphStyle("number", base, alignment=TA_RIGHT),
    )


def _paragraph(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(text).replace("\n", "<br/>"), style)


def _header(report: Report, language: Language, styles: _Styles) -> list[Flowable]:
    lines = [
        provenance(report, language),
        f"{word('position', language)} {report.position}",
        *(f"• {note}" for note in report.notes),
    ]
    return [
        _paragraph(report.heading(language), styles.title),
        *(_paragraph(line, styles.meta) for line in lines),
        Spacer(1, 4 * mm),
    ]


def _charts(report: Report, language: Language) -> list[Flowable]:
    """Charts two to a row, each scaled to half the page width at most."""
    images: list[Flowable] = []
    for chart in report.charts:
        png = chart_png(chart, language)
        width, height = ImageReader(io.BytesIO(png)).getSize()
        scale = min(FRAME_WIDTH / 2 - 3 * mm, width * 72 / 150) / width
        images.append(Image(io.BytesIO(png), width * scale, height * scale))
    rows = [images[i : i + 2] for i in range(0, len(images), 2)]
    if not rows:
        return []
    grid = Table(rows, colWidths=[FRAME_WIDTH / 2] * 2, hAlign="LEFT")
    return [grid, Spacer(1, 4 * mm)]


def _table(report: Report, language: Language, styles: _Styles) -> PagedTable:
    columns = report.columns
    total = sum(max(c.width, 1) for c in columns)
    grid = Grid(
        widths=[FRAME_WIDTH * max(c.width, 1) / total for c in columns],
        numeric=[is_numeric(c) for c in columns],
        header=styles.header,
        text=styles.text,
        number=styles.number,
        page_height=FRAME_HEIGHT,
    )
    rows = [
        [cell_text(value_at(row, c.key), c, language, grouped=True) for c in columns]
        for row in report.rows
    ]
    return PagedTable(grid, [c.heading(language) for c in columns], rows)


def _footer(report: Report, language: Language, font: str) -> Callable[[Canvas, object], None]:
    left = f"{report.heading(language)} · {word('as_of', language)} {moment_text(report.as_of)}"
    right = f"{word('digest', language)} {report.digest[:16]}…"

    def draw(canvas: Canvas, doc: object) -> None:
        canvas.saveState()
        canvas.setFont(font, 8)
        canvas.setFillColor(colors.dimgrey)
        canvas.drawString(MARGIN, 7 * mm, left)
        canvas.drawCentredString(
            PAGE[0] / 2, 7 * mm, word("page", language, n=canvas.getPageNumber())
        )
        canvas.drawRightString(PAGE[0] - MARGIN, 7 * mm, right)
        canvas.restoreState()

    return draw


def render_pdf(report: Report, language: Language) -> bytes:
    font = pdf_font_name()
    styles = _styles(font, len(report.columns))
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=PAGE,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=BOTTOM_MARGIN,
        title=report.heading(language),
        subject=provenance(report, language),
        author="Lastmile 整改通",
        invariant=True,  # same report, same bytes: no creation time or random id inside
    )
    story = [*_header(report, language, styles), *_charts(report, language)]
    if report.columns:
        story.append(_table(report, language, styles))
    footer = _footer(report, language, font)
    document.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()
