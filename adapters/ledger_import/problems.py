"""What is wrong with a ledger, located as its user sees it: row number and column header."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Language = Literal["zh-CN", "en"]


@dataclass(frozen=True, order=True)
class RowProblem:
    """One problem of a ledger, in plain Chinese and English.

    `row` is the row number the spreadsheet shows (the header is row 1; None: the file as a
    whole); `column` is the column's header (None: the whole row or file).
    """

    row: int | None
    column: str | None
    zh: str
    en: str

    def message(self, language: Language = "zh-CN") -> str:
        return self.en if language == "en" else self.zh

    def describe(self, language: Language = "zh-CN") -> str:
        """The problem as one line, e.g. 第7行「整改类型」：无法识别“马上改”…"""
        if language == "en":
            where = [f"row {self.row}" if self.row else "", f"column {self.column or ''}"]
            prefix = ", ".join(w for w in where if w.strip() and w != "column ")
            return f"{prefix[0].upper()}{prefix[1:]}: {self.en}" if prefix else self.en
        row = f"第{self.row}行" if self.row else ""
        column = f"「{self.column}」" if self.column else ""
        return f"{row}{column}：{self.zh}" if row or column else self.zh


class LedgerFileError(Exception):
    """The file cannot be read as a ledger at all (type, encoding, headers)."""

    def __init__(self, problem: RowProblem) -> None:
        super().__init__(problem.en)
        self.problem = problem


def file_problem(zh: str, en: str, row: int | None = None) -> LedgerFileError:
    return LedgerFileError(RowProblem(row, None, zh, en))
