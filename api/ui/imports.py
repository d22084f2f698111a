"""The evaluator's ledger import (导入整改台账): check every row first, then record all or nothing.

Two steps, nothing kept on the server in between. The upload is checked with a dry run (the
application's own rules included) and nothing is saved: a ledger with problems comes back as a
table of every row's problems. A clean one comes back as a summary with a confirm button; the
confirm form carries the file itself back (base64 in hidden fields), sealed with an HMAC bound
to the session and to the file's digest, so what is confirmed is byte for byte what was checked.
Confirming imports it with the same all-or-nothing call, which checks everything again: a
ledger that became wrong meanwhile (someone issued one of its orders) still saves nothing.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass
from typing import Literal, cast
from urllib.parse import urlencode

from fastapi import APIRouter, Response
from starlette.datastructures import FormData

from adapters.ledger_import import LedgerReport, RowProblem, columns, import_ledger_file
from api.authorization import Action, may
from api.deps import SESSION_COOKIE
from api.ui.forms import Fields
from api.ui.pages import PageError, PageRoute, Ui, UiDep, redirect, render
from api.ui.security import CheckedForm, SignedIn, Visitor, csrf_token
from domain.values import Actor

router = APIRouter(route_class=PageRoute, include_in_schema=False)
CHUNK = 512 * 1024  # base64 characters per hidden field: the form parser takes 1 MB a field
ACCEPT = (
    ".xlsx,.xlsm,.csv,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
)


@dataclass(frozen=True)
class Carried:
    """The checked file, as the confirm form carries it back."""

    filename: str
    chunks: list[str]
    seal: str


@dataclass(frozen=True)
class ProblemLine:
    """One row of the problems table, in the reader's language."""

    row: int | None
    column: str | None
    text: str


@router.get("/imports")
def import_form(ui: UiDep, who: SignedIn) -> Response:
    """The upload form, with the columns a ledger needs."""
    _check_may_import(who)
    return _page(ui, who)


@router.post("/imports")
def check_ledger(ui: UiDep, who: SignedIn, form: CheckedForm) -> Response:
    """Check the uploaded ledger and save nothing: every problem, or what it would record."""
    _check_may_import(who)
    fields = Fields(form, ui.t)
    upload = fields.file("file")
    if upload is None:
        return _page(ui, who, errors=fields.errors, status=422)
    content, filename = upload.file.read(), upload.filename or ""
    report = import_ledger_file(ui.lastmile.app, _actor(who), filename, content, dry_run=True)
    if not report.ok:
        return _page(ui, who, report=report, filename=filename, status=422)
    carried = Carried(filename, _chunks(content), _seal(ui, filename, content))
    return _page(ui, who, report=report, filename=filename, carried=carried)


@router.get("/imports/confirm")
def back_to_upload() -> Response:
    """A reload of the confirm address starts again at the upload form."""
    return redirect("/imports")


@router.post("/imports/confirm")
def confirm_import(ui: UiDep, who: SignedIn, form: CheckedForm) -> Response:
    """Import the checked ledger: all of it, or (when it became wrong meanwhile) nothing."""
    _check_may_import(who)
    filename, content = _unsealed(ui, form)
    report = import_ledger_file(ui.lastmile.app, _actor(who), filename, content)
    if report.result is None:
        return _page(ui, who, report=report, filename=filename, changed=True, status=409)
    orders = report.result.orders
    query = {"status": "all", "q": orders[0]} if len(orders) == 1 else {"status": "issued"}
    return redirect(f"/?{urlencode(query)}", flash="done_import")


def _check_may_import(who: Visitor) -> None:
    if not may(who.user.role, Action.IMPORT_LEDGER):
        raise PageError(403, "error.role")


def _actor(who: Visitor) -> Actor:
    return Actor(who.user.name, who.user.role)


def _chunks(content: bytes) -> list[str]:
    text = base64.b64encode(content).decode("ascii")
    return [text[i : i + CHUNK] for i in range(0, len(text), CHUNK)]


def _seal(ui: Ui, filename: str, content: bytes) -> str:
    """An HMAC of the file and its name, bound to this session like the CSRF token."""
    digest = hashlib.sha256(filename.encode() + b"\0" + content).hexdigest()
    session = ui.request.cookies.get(SESSION_COOKIE, "")
    return csrf_token(ui.lastmile.settings, f"ledger:{digest}", session)


def _unsealed(ui: Ui, form: FormData) -> tuple[str, bytes]:
    """The file the confirm form carried back, if its seal is this session's and intact."""
    filename, seal = form.get("filename"), form.get("seal")
    chunks = [c for c in form.getlist("ledger") if isinstance(c, str)]
    if not isinstance(filename, str) or not isinstance(seal, str) or not chunks:
        raise PageError(400, "evaluator.imports.expired")
    try:
        content = base64.b64decode("".join(chunks), validate=True)
    except binascii.Error:
        raise PageError(400, "evaluator.imports.expired") from None
    if not hmac.compare_digest(seal, _seal(ui, filename, content)):
        raise PageError(400, "evaluator.imports.expired")
    return filename, content


def _problems(ui: Ui, found: tuple[RowProblem, ...]) -> list[ProblemLine]:
    language = cast(Literal["zh-CN", "en"], ui.t.language)
    return [ProblemLine(p.row, p.column, p.message(language)) for p in found]


def _page(
    ui: Ui,
    who: Visitor,
    *,
    report: LedgerReport | None = None,
    filename: str = "",
    carried: Carried | None = None,
    changed: bool = False,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    return render(
        ui,
        "imports.html.j2",
        visitor=who,
        status=status,
        here="/imports",
        section="imports",
        report=report,
        problems=_problems(ui, report.errors) if report else [],
        warnings=_problems(ui, report.warnings) if report else [],
        bad_rows=len({p.row for p in report.errors if p.row}) if report else 0,
        filename=filename,
        carried=carried,
        changed=changed,
        errors=errors or {},
        accept=ACCEPT,
        required_columns=columns.REQUIRED,
        optional_columns=columns.OPTIONAL,
        column_english=columns.ENGLISH,
    )
