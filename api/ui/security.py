"""Who is signed in to the pages, and the CSRF tokens every form carries."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request, Response
from starlette.datastructures import FormData

from adapters.settings import Settings
from adapters.users import User
from api.deps import SESSION_COOKIE, LastmileDep

CSRF_FIELD = "csrf_token"
LOGIN_COOKIE = "lastmile_login"  # a random value the login form's token is bound to
_ACTION_PATH = re.compile(r"^(/findings/[^/]+)/[^/]+$")


class LoginRequiredError(Exception):
    """No live session: the page answers with a redirect to the login form."""

    def __init__(self, next_path: str, expired: bool) -> None:
        super().__init__(next_path)
        self.next_path, self.expired = next_path, expired


class CsrfError(Exception):
    """A form arrived without the token of the session (or login form) it came from."""


@dataclass(frozen=True)
class Visitor:
    """The signed-in user of a page, with the session's CSRF token for its forms."""

    user: User
    csrf: str


def _key(settings: Settings) -> bytes:
    # Without a configured key the token still cannot be forged: it is keyed on the
    # session id, which only the HttpOnly cookie holds.
    return settings.secret_key.encode() or b"lastmile-ui"


def csrf_token(settings: Settings, purpose: str, value: str) -> str:
    """The token for a form bound to a session id (or the login cookie)."""
    message = f"{purpose}:{value}".encode()
    return hmac.new(_key(settings), message, hashlib.sha256).hexdigest()


def check_csrf(settings: Settings, form: FormData, purpose: str, value: str | None) -> None:
    given = form.get(CSRF_FIELD)
    if not value or not isinstance(given, str):
        raise CsrfError(purpose)
    if not hmac.compare_digest(given, csrf_token(settings, purpose, value)):
        raise CsrfError(purpose)


def visitor(request: Request, lastmile: LastmileDep) -> Visitor:
    """The user behind the session cookie, or a redirect to the login form."""
    session = request.cookies.get(SESSION_COOKIE)
    user = lastmile.users.by_session(session) if session else None
    if session is None or user is None:
        raise LoginRequiredError(_back_to(request), expired=session is not None)
    return Visitor(user, csrf_token(lastmile.settings, "session", session))


SignedIn = Annotated[Visitor, Depends(visitor)]


async def posted_form(request: Request) -> AsyncIterator[FormData]:
    """The posted form, read here so the (blocking) route itself can run in a thread.

    Uploaded files are spooled to temporary files; they are closed once the page is done.
    """
    form = await request.form()
    try:
        yield form
    finally:
        await form.close()


PostedForm = Annotated[FormData, Depends(posted_form)]


def checked_form(
    request: Request, lastmile: LastmileDep, who: SignedIn, form: PostedForm
) -> FormData:
    """The posted form, once its CSRF token matches the session's."""
    check_csrf(lastmile.settings, form, "session", request.cookies.get(SESSION_COOKIE))
    return form


CheckedForm = Annotated[FormData, Depends(checked_form)]


def safe_next(path: str | None) -> str:
    """A local path to go to after login; anything else (//host, https://…) goes home."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path:
        return "/"
    return path


def _back_to(request: Request) -> str:
    if request.method == "GET":
        query = f"?{request.url.query}" if request.url.query else ""
        return request.url.path + query
    match = _ACTION_PATH.match(request.url.path)  # a form on a finding page: back to it
    return match.group(1) if match else "/"


def new_login_cookie() -> str:
    return secrets.token_urlsafe(32)


def secure(settings: Settings) -> bool:
    return settings.base_url.lower().startswith("https")


def set_session_cookie(response: Response, settings: Settings, session_id: str) -> None:
    """The same cookie the API's POST /api/v1/session sets, so both accept it."""
    response.set_cookie(
        SESSION_COOKIE,
        session_id,
        max_age=settings.session_hours * 3600,
        path="/",
        secure=secure(settings),
        httponly=True,
        samesite="lax",
    )


def clear_session_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(
        SESSION_COOKIE, path="/", secure=secure(settings), httponly=True, samesite="lax"
    )
