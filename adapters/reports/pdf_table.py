"""A long PDF table cut page by page in linear time, its header row on every page.

reportlab's own Table re-measures and copies the rows left over at every page break, which
grows with the square of the row count (20,000 rows took a minute). Here each row is measured
once, page breaks are found by bisecting running totals, and each page is a small Table.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import Flowable, Paragraph, Table, TableStyle

PAD_X, PAD_TOP, PAD_BOTTOM = 4.0, 2.0, 3.0
_HEADER_BLUE = colors.HexColor("#DDEBF7")
_STRIPES = [colors.white, colors.HexColor("#F7F9FB")]
_SLACK = 1.0  # points kept free so rounding never makes a page's table overflow


@dataclass(frozen=True)
class Grid:
    """What every page's table shares: column widths, numeric columns and cell styles."""

    widths: Sequence[float]
    numeric: Sequence[bool]
    header: ParagraphStyle
    text: ParagraphStyle
    number: ParagraphStyle
    page_height: float  # the most a frame ever offers; a taller row is split inside itself

    def cell(self, text: str, column: int) -> Any:
        """Plain text when it fits on one line (fast to lay out), else a wrapping Paragraph."""
        style = self.number if self.numeric[column] else self.text
        inner = self.widths[column] - 2 * PAD_X
        if "\n" not in text and stringWidth(text, style.fontName, style.fontSize) <= inner:
            return text
        return Paragraph(escape(text).replace("\n", "<br/>"), style)

    def row_height(self, cells: Sequence[Any]) -> float:
        tallest = 0.0
        for column, cell in enumerate(cells):
            if isinstance(cell, str):
                tallest = max(tallest, self.text.leading)
            else:
                tallest = max(tallest, cell.wrap(self.widths[column] - 2 * PAD_X, 1e9)[1])
        return tallest + PAD_TOP + PAD_BOTTOM

    def style(self, first_row: int) -> TableStyle:
        stripes = _STRIPES if first_row % 2 == 0 else _STRIPES[::-1]
        commands: list[Any] = [
            ("FONT", (0, 0), (-1, -1), self.text.fontName, self.text.fontSize, self.text.leading),
            ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
            ("BACKGROUND", (0, 0), (-1, 0), _HEADER_BLUE),
            ("ROWBACKGROUNDS", (0, 1), (-1, -1), stripes),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LEFTPADDING", (0, 0), (-1, -1), PAD_X),
            ("RIGHTPADDING", (0, 0), (-1, -1), PAD_X),
            ("TOPPADDING", (0, 0), (-1, -1), PAD_TOP),
            ("BOTTOMPADDING", (0, 0), (-1, -1), PAD_BOTTOM),
        ]
        commands += [
            ("ALIGN", (i, 1), (i, -1), "RIGHT") for i, numeric in enumerate(self.numeric) if numeric
        ]
        return TableStyle(commands)


class PagedTable(Flowable):
    """Rows of cell texts; each page gets the header and as many whole rows as fit."""

    def __init__(
        self,
        grid: Grid,
        headings: Sequence[str],
        rows: Sequence[Sequence[str]],
        tops: Sequence[float] | None = None,
        start: int = 0,
    ) -> None:
        super().__init__()
        self.grid, self.headings, self.rows, self.start = grid, headings, rows, start
        self.header_height = grid.row_height(self._header())
        # tops[i] is the height of rows[:i]; cells built to measure a row are let go at once.
        self.tops = tops or [0.0, *accumulate(grid.row_height(self._cells(r)) for r in rows)]

    def _header(self) -> list[Paragraph]:
        return [Paragraph(escape(h), self.grid.header) for h in self.headings]

    def _cells(self, row: Sequence[str]) -> list[Any]:
        return [self.grid.cell(text, i) for i, text in enumerate(row)]

    def _rest(self, start: int) -> PagedTable:
        return PagedTable(self.grid, self.headings, self.rows, self.tops, start)

    def _table(self, end: int, split_in_row: bool = False) -> Table:
        data = [self._header(), *(self._cells(row) for row in self.rows[self.start : end])]
        table = Table(
            data, colWidths=list(self.grid.widths), repeatRows=1, splitInRow=int(split_in_row)
        )
        table.setStyle(self.grid.style(self.start))
        table.hAlign = "LEFT"
        return table

    def _height_to(self, end: int) -> float:
        return self.header_height + self.tops[end] - self.tops[self.start]

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        self.width = sum(self.grid.widths)
        self.height = self._height_to(len(self.rows))
        return self.width, self.height

    def split(self, available_width: float, available_height: float) -> list[Flowable]:
        room = self.tops[self.start] + available_height - self.header_height - _SLACK
        end = min(bisect_right(self.tops, room) - 1, len(self.rows))
        if end <= self.start:
            if self._height_to(self.start + 1) <= self.grid.page_height:
                return []  # the next page has room for this row
            end = self.start + 1  # taller than any page: reportlab splits inside the row
            parts = self._table(end, split_in_row=True).split(available_width, available_height)
            return [*parts, *self._after(end)] if parts else []
        return [self._table(end), *self._after(end)]

    def _after(self, end: int) -> list[Flowable]:
        return [self._rest(end)] if end < len(self.rows) else []

    def draw(self) -> None:
        table = self._table(len(self.rows))
        table.wrapOn(self.canv, self.width, self.height)
        table.drawOn(self.canv, 0, 0)
