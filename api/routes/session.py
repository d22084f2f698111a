"""The browser's sign-in: a session cookie, rate-limited logins, and who is signed in."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request, Response
from pydantic import Field

from adapters.sessions import LoginLockedError
from api.deps import SESSION_COOKIE, CurrentUser, LastmileDep
from api.errors import Problem
from api.routes.users import Secret, UserOut, user_out

router = APIRouter(prefix="/api/v1", tags=["session"])
WRONG = "Wrong user name or password."


class LoginIn(Secret):
    name: Annotated[str, Field(min_length=1, max_length=64, examples=["slj.jingban"])]
    password: Annotated[str, Field(min_length=1, max_length=1024)]


@router.post(
    "/session",
    response_model=UserOut,
    responses={401: {"description": WRONG}, 429: {"description": "Too many failed sign-ins."}},
)
def sign_in(body: LoginIn, request: Request, response: Response, lastmile: LastmileDep) -> UserOut:
    """Sign in with name and password; sets the HttpOnly session cookie."""
    client = request.client.host if request.client else "unknown"
    try:
        session_id = lastmile.users.start_session(body.name, body.password, client)
    except LoginLockedError as error:
        raise Problem(
            429, str(error), "too-many-attempts", {"Retry-After": str(error.retry_after)}
        ) from None
    user = lastmile.users.by_session(session_id) if session_id else None
    if session_id is None or user is None:
        raise Problem(401, WRONG, "wrong-credentials", {"WWW-Authenticate": "Bearer"})
    if previous := request.cookies.get(SESSION_COOKIE):
        lastmile.users.end_session(previous)
    response.set_cookie(
        SESSION_COOKIE,
        session_id,
        max_age=lastmile.settings.session_hours * 3600,
        path="/",
        secure=_secure(lastmile.settings.base_url),
        httponly=True,
        samesite="lax",
    )
    return user_out(user)


@router.delete("/session", status_code=204)
def sign_out(request: Request, lastmile: LastmileDep) -> Response:
    """Sign out: the session ends on the server and the cookie is cleared."""
    if session_id := request.cookies.get(SESSION_COOKIE):
        lastmile.users.end_session(session_id)
    response = Response(status_code=204)
    response.delete_cookie(
        SESSION_COOKIE,
        path="/",
        secure=_secure(lastmile.settings.base_url),
        httponly=True,
        samesite="lax",
    )
    return response


@router.get("/me", response_model=UserOut)
def me(user: CurrentUser) -> UserOut:
    """The signed-in user (by bearer token or session)."""
    return user_out(user)


def _secure(base_url: str) -> bool:
    return base_url.lower().startswith("https")
