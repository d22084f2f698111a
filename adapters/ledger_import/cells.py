"""Reading one cell as the value it means: text, a date, a score, a year, a class."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from openpyxl.utils.datetime import from_excel

from adapters.ledger_import.reading import Cell
from domain.errors import ValidationError
from domain.orders import CLASS_LABELS, rectification_class
from domain.values import RectificationClass

DATE_TEXT = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?$"
)
YEAR_TEXT = re.compile(r"^(\d{4})\s*年?(?:度)?$")
EXCEL_SERIALS = (1, 2958465)  # 1900-01-01 … 9999-12-31 as Excel counts days


class CellError(Exception):
    """A cell that does not hold what its column needs, in plain Chinese and English."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(en)
        self.zh, self.en = zh, en


def text(value: Cell) -> str:
    """The cell as text; whole numbers lose the '.0' a spreadsheet gives them."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else str(value)
    return str(value).strip()


def a_date(value: Cell) -> date:
    """An Excel date, or text such as 2025-09-25, 2025/9/25 or 2025年9月25日."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    if is_number and EXCEL_SERIALS[0] <= value <= EXCEL_SERIALS[1]:
        serial: datetime = from_excel(value)
        return serial.date()
    found = DATE_TEXT.match(text(value))
    if found is None:
        raise CellError(
            f"无法识别日期“{text(value)}”，应写作 2025-09-25、2025/9/25 或 2025年9月25日",
            f"{text(value)!r} is not a date; write 2025-09-25, 2025/9/25 or 2025年9月25日.",
        )
    try:
        return date(*(int(part) for part in found.groups()))
    except ValueError:
        raise CellError(
            f"日期“{text(value)}”不存在", f"The date {text(value)!r} does not exist."
        ) from None


def a_score(value: Cell) -> Decimal:
    """A score from 0 to 100, as a number or as text."""
    try:
        score = Decimal(text(value).removesuffix("分"))
    except InvalidOperation:
        score = Decimal("NaN")
    if not score.is_finite() or not 0 <= score <= 100:
        raise CellError(
            f"评价得分“{text(value)}”应为 0 到 100 之间的数字",
            f"The score {text(value)!r} must be a number from 0 to 100.",
        )
    return score


def a_year(value: Cell) -> int:
    """A year such as 2025 (or 2025年)."""
    found = YEAR_TEXT.match(text(value))
    year = int(found.group(1)) if found else 0
    if not 2000 <= year <= 2100:
        raise CellError(
            f"评价年度“{text(value)}”应为 2000 到 2100 之间的年份，如 2025",
            f"The evaluation year {text(value)!r} must be a year from 2000 to 2100, e.g. 2025.",
        )
    return year


def an_amount(value: Cell) -> Decimal | None:
    """An amount of yuan, commas allowed; None when the cell is empty."""
    if value is None:
        return None
    try:
        amount = Decimal(text(value).replace(",", "").replace("，", "").removesuffix("元"))
    except InvalidOperation:
        amount = Decimal("NaN")
    if not amount.is_finite() or amount < 0:
        raise CellError(
            f"预算金额“{text(value)}”应为不小于 0 的数字（单位：元）",
            f"The budget amount {text(value)!r} must be a number of yuan, 0 or more.",
        )
    return amount


def a_class(value: Cell) -> RectificationClass:
    """立行立改 / 分阶段整改 / 持续整改, or the codes immediate / phased / long_term."""
    try:
        return rectification_class(text(value))
    except ValidationError:
        labels = "、".join(CLASS_LABELS)
        codes = " / ".join(c.value for c in RectificationClass)
        raise CellError(
            f"无法识别“{text(value)}”，应为{labels.replace('、持续', '或持续')}（或 {codes}）",
            f"{text(value)!r} is not a rectification class: use one of {labels} or {codes}.",
        ) from None
