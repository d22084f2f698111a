"""Write a report in any of its formats: JSON, CSV, XLSX, HTML with charts, PDF."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from adapters.reports.model import Language, Report
from adapters.reports.text import moment_text

FORMATS = ("json", "csv", "xlsx", "html", "pdf")

_MEDIA_TYPES: Mapping[str, str] = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
}

Writer = Callable[[Report, Language], bytes]


def _check(fmt: str) -> str:
    if fmt not in FORMATS:
        raise ValueError(f"unknown report format {fmt!r}; expected one of {', '.join(FORMATS)}")
    return fmt


def media_type(fmt: str) -> str:
    """The Content-Type to serve a report written in `fmt` with."""
    return _MEDIA_TYPES[_check(fmt)]


def file_extension(fmt: str) -> str:
    """The file name ending for `fmt`, with its dot (".xlsx")."""
    return "." + _check(fmt)


def file_name(report: Report, fmt: str) -> str:
    """An ASCII file name that says what and when: "ledger-20250926-0900.xlsx"."""
    stamp = moment_text(report.as_of).replace("-", "").replace(":", "").replace(" ", "-")
    return f"{report.kind}-{stamp}{file_extension(fmt)}"


def _writer(fmt: str) -> Writer:
    # Imported on demand: matplotlib and reportlab are slow to load and most requests are JSON.
    if fmt == "json":
        from adapters.reports.tabular import render_json

        return render_json
    if fmt == "csv":
        from adapters.reports.tabular import render_csv

        return render_csv
    if fmt == "xlsx":
        from adapters.reports.xlsx import render_xlsx

        return render_xlsx
    if fmt == "html":
        from adapters.reports.html import render_html

        return render_html
    from adapters.reports.pdf import render_pdf

    return render_pdf


def render(report: Report, fmt: str, language: Language = "zh-CN") -> bytes:
    """The report written in `fmt`; ValueError names a format that is not one of FORMATS."""
    return _writer(_check(fmt))(report, language)
