"""Annotated dependencies: the system, the signed-in user, the permitted action, the finding."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import Depends, Header, Query, Request

from adapters.bootstrap import Lastmile
from adapters.users import User
from api.authorization import Action, may, sees_department
from api.errors import Problem
from domain.calendar import CHINA_TZ
from domain.errors import NotFoundError
from domain.values import Actor
from domain.views import FindingView

SESSION_COOKIE = "lastmile_session"


def get_lastmile(request: Request) -> Lastmile:
    lastmile: Lastmile = request.app.state.lastmile
    return lastmile


LastmileDep = Annotated[Lastmile, Depends(get_lastmile)]


def current_user(
    request: Request,
    lastmile: LastmileDep,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> User:
    """The user behind a bearer token or a browser session; 401 otherwise."""
    user = None
    if authorization and authorization.lower().startswith("bearer "):
        user = lastmile.users.by_token(authorization[7:].strip())
    elif session := request.cookies.get(SESSION_COOKIE):
        user = lastmile.users.by_session(session)
    if user is None:
        raise Problem(
            401,
            "Sign in first: send 'Authorization: Bearer <token>' or log in at /api/v1/session.",
            "unauthenticated",
            {"WWW-Authenticate": "Bearer"},
        )
    return user


CurrentUser = Annotated[User, Depends(current_user)]


def permitted(action: Action) -> Callable[[User], Actor]:
    """A dependency giving the acting Actor, or 403 naming what the role may not do."""

    def check(user: CurrentUser) -> Actor:
        if not may(user.role, action):
            raise Problem(
                403, f"Your role ({user.role.value}) may not {action.value}.", "forbidden-role"
            )
        return Actor(user.name, user.role)

    return check


def as_of_query(
    as_of: Annotated[
        datetime | None,
        Query(description="A past moment, ISO 8601; without a zone it is China time."),
    ] = None,
) -> datetime | None:
    if as_of is not None and as_of.tzinfo is None:
        return as_of.replace(tzinfo=CHINA_TZ)
    return as_of


AsOf = Annotated[datetime | None, Depends(as_of_query)]


def read_after(
    lastmile: LastmileDep,
    after: Annotated[
        int | None,
        Query(
            ge=0,
            description="Read your writes: wait (up to 5 s) until the lists include "
            "this position, the X-Lastmile-Position a write answered with.",
        ),
    ] = None,
) -> None:
    if after:
        lastmile.projections.wait_for(after, timeout=5.0)


ReadAfter = Annotated[None, Depends(read_after)]


def visible_finding(
    finding_id: UUID, user: CurrentUser, lastmile: LastmileDep, as_of: AsOf
) -> FindingView:
    """The finding, if this user may see it; another department's finding is a plain 404."""
    view = lastmile.app.finding(finding_id, as_of)
    if not sees_department(user.role, user.department, view.department):
        raise NotFoundError(f"Finding {finding_id} does not exist.")
    return view


def visible_finding_now(finding_id: UUID, user: CurrentUser, lastmile: LastmileDep) -> FindingView:
    """The same check for writes, which always act on the finding as it is now."""
    return visible_finding(finding_id, user, lastmile, None)


CurrentFinding = Annotated[FindingView, Depends(visible_finding)]
FindingNow = Annotated[FindingView, Depends(visible_finding_now)]
