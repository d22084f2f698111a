"""Signing in and out of the pages, with the API's session cookie and login throttling."""

from __future__ import annotations

import math

from fastapi import APIRouter, Response

from adapters.sessions import LoginLockedError
from api.deps import SESSION_COOKIE
from api.ui.forms import Fields
from api.ui.pages import PageRoute, UiDep, redirect, render
from api.ui.security import (
    LOGIN_COOKIE,
    PostedForm,
    check_csrf,
    clear_session_cookie,
    csrf_token,
    new_login_cookie,
    safe_next,
    secure,
    set_session_cookie,
)

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.get("/login")
def login_form(ui: UiDep) -> Response:
    """The login form; someone already signed in goes straight on."""
    request, lastmile = ui.request, ui.lastmile
    session = request.cookies.get(SESSION_COOKIE)
    if session and lastmile.users.by_session(session):
        return redirect(safe_next(request.query_params.get("next")))
    notice = "expired" if request.query_params.get("expired") else None
    notice = "signed_out" if request.query_params.get("bye") else notice
    return _form(ui, notice=notice)


@router.post("/login")
def log_in(ui: UiDep, form: PostedForm) -> Response:
    """Check the name and password; on success set the session cookie and go on."""
    request, lastmile = ui.request, ui.lastmile
    check_csrf(lastmile.settings, form, "login", request.cookies.get(LOGIN_COOKIE))
    fields = Fields(form, ui.t)
    name = fields.text("name", max_length=64)
    password = form.get("password")
    if not isinstance(password, str) or not password:
        fields.errors["password"] = ui.t("form.required")
    next_path = safe_next(fields.text("next", required=False, max_length=2000))
    if fields.errors:
        return _form(ui, fields=fields, status=422)
    client = request.client.host if request.client else "unknown"
    try:
        session = lastmile.users.start_session(name, str(password), client)
    except LoginLockedError as locked:
        minutes = max(1, math.ceil(locked.retry_after / 60))
        return _form(ui, fields=fields, problem=ui.t("login.locked", minutes=minutes), status=429)
    if session is None:
        return _form(ui, fields=fields, problem=ui.t("login.wrong"), status=401)
    if previous := request.cookies.get(SESSION_COOKIE):
        lastmile.users.end_session(previous)
    response = redirect(next_path)
    set_session_cookie(response, lastmile.settings, session)
    response.delete_cookie(LOGIN_COOKIE, path="/login")
    return response


@router.post("/logout")
def log_out(ui: UiDep, form: PostedForm) -> Response:
    """End the session on the server and clear the cookie."""
    request, lastmile = ui.request, ui.lastmile
    session = request.cookies.get(SESSION_COOKIE)
    if session is None or lastmile.users.by_session(session) is None:
        return redirect("/login?expired=1" if session else "/login")
    check_csrf(lastmile.settings, form, "session", session)
    lastmile.users.end_session(session)
    response = redirect("/login?bye=1")
    clear_session_cookie(response, lastmile.settings)
    return response


def _form(
    ui: UiDep,
    *,
    fields: Fields | None = None,
    problem: str | None = None,
    notice: str | None = None,
    status: int = 200,
) -> Response:
    request, settings = ui.request, ui.lastmile.settings
    cookie = request.cookies.get(LOGIN_COOKIE) or new_login_cookie()
    typed = fields.values if fields else {"next": request.query_params.get("next", "")}
    response = render(
        ui,
        "login.html.j2",
        visitor=None,
        status=status,
        login_csrf=csrf_token(settings, "login", cookie),
        values=typed,
        errors=fields.errors if fields else {},
        problem=problem,
        notice=ui.t(f"login.{notice}") if notice else None,
    )
    response.set_cookie(
        LOGIN_COOKIE,
        cookie,
        max_age=3600 * 12,
        path="/login",
        secure=secure(settings),
        httponly=True,
        samesite="lax",
    )
    return response
