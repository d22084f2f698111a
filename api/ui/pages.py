"""Rendering pages: the Jinja2 environment, the shared context, and errors as pages."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from adapters.bootstrap import Lastmile
from api.deps import SESSION_COOKIE, LastmileDep
from api.errors import Problem, status_for
from api.routes.evidence import UploadRoute
from api.ui.i18n import LANG_COOKIE, LANGUAGES, Translator, language_for
from api.ui.security import CsrfError, LoginRequiredError, Visitor, csrf_token
from domain.calendar import CHINA_TZ
from domain.errors import DomainError

TEMPLATES = Path(__file__).parent / "templates"
FLASH_COOKIE = "lastmile_flash"
HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; "
    "script-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
}


class PageError(Exception):
    """A request the page cannot answer: shown as an error page with this status."""

    def __init__(self, status: int, message_key: str, detail: str = "") -> None:
        super().__init__(message_key)
        self.status, self.message_key, self.detail = status, message_key, detail


@dataclass(frozen=True)
class Ui:
    """What every page needs: the request, the system, and the reader's language."""

    request: Request
    lastmile: Lastmile
    t: Translator


def ui_context(request: Request, lastmile: LastmileDep) -> Ui:
    return Ui(request, lastmile, Translator(language_for(request, lastmile.settings.language)))


UiDep = Annotated[Ui, Depends(ui_context)]
LISTS_WAIT_SECONDS = 3.0


def lists_current(ui: Ui) -> None:
    """Wait (briefly) until the read models hold every event recorded before this request.

    Lists, queues and figures then show what anyone — the reader or a colleague — did before
    the page was asked for, not what the background projector happened to reach.
    """
    head = ui.lastmile.app.recorder.max_notification_id() or 0
    ui.lastmile.projections.wait_for(head, timeout=LISTS_WAIT_SECONDS)


@cache
def environment() -> Environment:
    """Built on first use, never at import; StrictUndefined turns a typo into an error."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["j2", "html"], default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(when=_when, day=_day, money=_money, filesize=_filesize)
    return env


def render(
    ui: Ui,
    template: str,
    *,
    visitor: Visitor | None,
    status: int = 200,
    here: str | None = None,
    **context: Any,
) -> HTMLResponse:
    """The page as HTML, in the reader's language, with a flash message if one waits."""
    request, t = ui.request, ui.t
    flash_key = request.cookies.get(FLASH_COOKIE, "")
    flash = t.get(f"flash.{flash_key}") if flash_key.isidentifier() else None
    path = here or (request.url.path if request.method == "GET" else "/")
    query = {k: v for k, v in request.query_params.items() if k != "lang"}
    html = (
        environment()
        .get_template(template)
        .render(
            t=t,
            lang=t.language,
            visitor=visitor,
            csrf=visitor.csrf if visitor else "",
            flash=flash,
            switch_url=f"{path}?{urlencode({**query, 'lang': t.other})}",
            **context,
        )
    )
    response = HTMLResponse(html, status_code=status, headers=HEADERS)
    if request.query_params.get("lang") in LANGUAGES:
        response.set_cookie(LANG_COOKIE, t.language, max_age=365 * 86400, samesite="lax")
    if flash_key:
        response.delete_cookie(FLASH_COOKIE, path="/")
    return response


def redirect(url: str, flash: str | None = None) -> RedirectResponse:
    """See other (PRG): the browser GETs the page, optionally showing a flash message."""
    response = RedirectResponse(url, status_code=303, headers={"Cache-Control": "no-store"})
    if flash:
        response.set_cookie(FLASH_COOKIE, flash, max_age=120, path="/", samesite="lax")
    return response


def error_page(request: Request, status: int, message_key: str, detail: str = "") -> HTMLResponse:
    """An error as a page in the reader's language, with the way back."""
    lastmile: Lastmile = request.app.state.lastmile
    ui = ui_context(request, lastmile)
    session = request.cookies.get(SESSION_COOKIE)
    user = lastmile.users.by_session(session) if session else None
    who = None
    if session and user:
        who = Visitor(user, csrf_token(lastmile.settings, "session", session))
    return render(
        ui,
        "error.html.j2",
        visitor=who,
        status=status,
        here="/",
        title=ui.t(f"error.title.{status}") if ui.t.get(f"error.title.{status}") else "",
        message=ui.t(message_key),
        detail=detail,
    )


class PageRoute(UploadRoute):
    """A page route: failures become pages (or a redirect to login), never JSON problems.

    It keeps UploadRoute's size limit, so an oversized upload is stopped before it is read.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def page(request: Request) -> Response:
            try:
                return await handle(request)
            except LoginRequiredError as missing:
                return _to_login(missing)
            except CsrfError:
                return error_page(request, 403, "error.csrf")
            except PageError as error:
                return error_page(request, error.status, error.message_key, error.detail)
            except RequestValidationError:
                return error_page(request, 404, "error.not_found")
            except DomainError as error:
                status, _ = status_for(error)
                return error_page(request, status, f"error.domain.{status}", str(error))
            except Problem as problem:
                key = "error.too_large" if problem.status == 413 else "error.generic"
                return error_page(request, problem.status, key, problem.detail)

        return page


def _to_login(missing: LoginRequiredError) -> RedirectResponse:
    query = {"next": missing.next_path} if missing.next_path != "/" else {}
    if missing.expired:
        query["expired"] = "1"
    response = redirect("/login" + (f"?{urlencode(query)}" if query else ""))
    if missing.expired:
        response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def _when(moment: datetime | None) -> str:
    return moment.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M") if moment else ""


def _day(value: date | str | None) -> str:
    return value.isoformat() if isinstance(value, date) else (value or "")


def _money(value: Decimal | int | str | None) -> str:
    return f"{Decimal(value or 0):,.2f}"


def _filesize(size: int) -> str:
    for unit, scale in (("MB", 1024 * 1024), ("KB", 1024)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} B"
