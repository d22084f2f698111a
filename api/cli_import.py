"""`lastmile import FILE`: a ledger recorded all or nothing, or its problems row by row."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from adapters.ledger_import import LedgerReport, RowProblem, import_ledger_file
from adapters.reports.model import Language
from adapters.users import User
from api.authorization import Action, may
from domain.values import Actor

out = Console()
err = Console(stderr=True, soft_wrap=True)


def import_ledger(
    file: Annotated[
        Path, typer.Argument(help="the ledger: .xlsx, or .csv in UTF-8", dir_okay=False)
    ],
    as_user: Annotated[
        str, typer.Option("--as", help="the evaluator importing it, named on every event")
    ],
    dry_run: Annotated[bool, typer.Option(help="check the whole ledger; save nothing")] = False,
) -> None:
    """Import a ledger (整改台账): every row, or nothing; exit 1 listing each bad row."""
    from api.cli import system  # api.cli registers this command, so it is imported late

    try:
        content = file.read_bytes()
    except OSError as error:
        err.print(f"[red]Cannot read {file}: {error.strerror or error}[/red]")
        raise typer.Exit(2) from None
    with system() as lastmile:
        actor = _actor(lastmile.users.get(as_user), as_user)
        report = import_ledger_file(lastmile.app, actor, file.name, content, dry_run=dry_run)
        language: Language = lastmile.settings.language
    if report.warnings:
        out.print(_table(report.warnings, language, "Warnings 提示（已导入）"))
    if not report.ok:
        out.print(_table(report.errors, language, "Problems 问题"))
        out.print(_refused(report, language))
        raise typer.Exit(1)
    out.print(_summary(report, language))


def _actor(user: User | None, name: str) -> Actor:
    """The acting user must exist and be allowed to import, as over HTTP."""
    if user is None:
        err.print(f"[red]No user named {name!r}; add one with `lastmile user add`.[/red]")
        raise typer.Exit(2)
    if not may(user.role, Action.IMPORT_LEDGER):
        err.print(f"[red]{name} is a {user.role.value} user; only an evaluator may import.[/red]")
        raise typer.Exit(2)
    return Actor(user.name, user.role)


def _table(problems: tuple[RowProblem, ...], language: Language, title: str) -> Table:
    zh = language != "en"
    table = Table("行" if zh else "Row", "列" if zh else "Column", "问题" if zh else "Problem")
    table.title = title
    for problem in problems:
        row = str(problem.row) if problem.row else "—"
        table.add_row(row, problem.column or "—", problem.message(language))
    return table


def _refused(report: LedgerReport, language: Language) -> str:
    n = len(report.errors)
    if language == "en":
        return f"[red]{n} problem(s) found; nothing was imported.[/red]"
    return f"[red]发现 {n} 处问题，未导入任何数据。[/red]"


def _summary(report: LedgerReport, language: Language) -> str:
    result = report.result
    if result is None:
        return ""
    counts = (len(result.orders), len(result.findings), len(result.evaluations))
    if language == "en":
        done = "Checked, nothing saved (dry run)" if result.dry_run else "Imported"
        return (
            f"{done}: {report.rows} rows, {counts[0]} orders, {counts[1]} findings, "
            f"{counts[2]} new evaluations."
        )
    done = "校验通过，未保存（试导入）" if result.dry_run else "导入成功"
    return (
        f"{done}：{report.rows} 行，整改通知 {counts[0]} 份，问题 {counts[1]} 个，"
        f"新建绩效评价 {counts[2]} 个。"
    )
