"""Annotated dependencies: the system, the signed-in user, the permitted action, the finding.

A dependency that only computes is `async def`: FastAPI runs a plain `def` in a worker thread,
and the hop there and back costs more than the work. What may wait on a database is run in
the thread pool (`run_in_threadpool`), or stays a plain `def`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Coroutine
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import Depends, Header, Query, Request
from pydantic import BeforeValidator
from starlette.concurrency import run_in_threadpool

from adapters.bootstrap import Lastmile
from adapters.users import User
from api.authorization import Action, may, sees_department
from api.errors import Problem
from domain.calendar import CHINA_TZ
from domain.errors import NotFoundError
from domain.values import Actor
from domain.views import FindingView

SESSION_COOKIE = "lastmile_session"


async def get_lastmile(request: Request) -> Lastmile:
    lastmile: Lastmile = request.app.state.lastmile
    return lastmile


LastmileDep = Annotated[Lastmile, Depends(get_lastmile)]


async def current_user(
    request: Request,
    lastmile: LastmileDep,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> User:
    """The user behind a bearer token or a browser session; 401 otherwise."""
    users, user = lastmile.users, None
    if authorization and authorization.lower().startswith("bearer "):
        token = authorization[7:].strip()
        user = users.cached_by_token(token) or await run_in_threadpool(users.by_token, token)
    elif session := request.cookies.get(SESSION_COOKIE):
        user = await run_in_threadpool(users.by_session, session)
    if user is None:
        raise Problem(
            401,
            "Sign in first: send 'Authorization: Bearer <token>' or log in at /api/v1/session.",
            "unauthenticated",
            {"WWW-Authenticate": "Bearer"},
        )
    return user


CurrentUser = Annotated[User, Depends(current_user)]


def permitted(action: Action) -> Callable[[User], Coroutine[Any, Any, Actor]]:
    """A dependency giving the acting Actor, or 403 naming what the role may not do."""

    async def check(user: CurrentUser) -> Actor:
        if not may(user.role, action):
            raise Problem(
                403, f"Your role ({user.role.value}) may not {action.value}.", "forbidden-role"
            )
        return Actor(user.name, user.role)

    return check


async def no_nul_characters(request: Request) -> None:
    """Refuse NUL in any parameter or JSON string with a 422, on every store alike.

    PostgreSQL text cannot hold it: in a query it was a 500, and in an event the log took it
    but the read models could never project it.
    """
    params = [*request.path_params.items(), *request.query_params.multi_items()]
    where = next((name for name, value in params if "\x00" in name + str(value)), None)
    if where is None and request.headers.get("content-type", "").startswith("application/json"):
        body = await request.body()
        if b"\\u0000" in body:  # the only way a valid JSON body can carry a NUL
            with suppress(ValueError):  # not JSON: the body's own validation answers
                where = _nul_in(json.loads(body))
    if where is not None:
        raise Problem(422, f"{where}: text may not contain the NUL character (\\u0000).", "invalid")


def _nul_in(value: Any, at: str = "") -> str | None:
    """Where in parsed JSON a NUL is (e.g. `findings.0.title`), if anywhere."""
    if isinstance(value, str):
        return (at or "body") if "\x00" in value else None
    if isinstance(value, dict):
        pairs: list[tuple[Any, Any]] = list(value.items())
    elif isinstance(value, list):
        pairs = list(enumerate(value))
    else:
        return None
    for key, item in pairs:
        here = f"{at}.{key}" if at else str(key)
        if "\x00" in str(key):
            return here
        if found := _nul_in(item, here):
            return found
    return None


ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_only(value: Any) -> Any:
    """Only ISO 8601 text: pydantic would also read "-95" or "1e-9" as seconds since 1970."""
    if value is not None and not ISO_DATE.match(str(value)):
        raise ValueError("must be an ISO 8601 date-time such as 2025-10-31T17:00")
    return value


async def as_of_query(
    as_of: Annotated[
        datetime | None,
        BeforeValidator(_iso_only),
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
    if not after:
        return
    # A position past the log's end was never answered by a write: waiting cannot help.
    end = lastmile.app.recorder.max_notification_id() or 0
    if after > end:
        raise Problem(
            422,
            f"after: position {after} is past the end of the event log ({end}); "
            "send the X-Lastmile-Position a write answered with.",
            "invalid",
        )
    lastmile.projections.wait_for(after, timeout=5.0)


ReadAfter = Annotated[None, Depends(read_after)]


def visible_finding(
    finding_id: UUID, user: CurrentUser, lastmile: LastmileDep, as_of: AsOf
) -> FindingView:
    """The finding, if this user may see it; another department's finding is a plain 404.

    Both 404s say the same words, so an answer does not tell whether the id exists.
    """
    try:
        view: FindingView | None = lastmile.app.finding(finding_id, as_of)
    except NotFoundError:
        view = None
    if view is None or not sees_department(user.role, user.department, view.department):
        when = f" as of {as_of.isoformat()}" if as_of else ""
        raise NotFoundError(f"Finding {finding_id} does not exist{when}.")
    return view


@dataclass(frozen=True)
class FindingRef:
    """A finding a write may act on; the command itself loads (or reuses) the rest."""

    id: UUID
    department: str


class FindingDepartments:
    """The department of each finding a write named lately: it never changes, so it is kept.

    Used only on the event loop's thread, so it needs no lock; at most `size` are kept.
    """

    def __init__(self, size: int = 10_000) -> None:
        self.size = size
        self._known: dict[UUID, str] = {}

    def get(self, finding: UUID) -> str | None:
        return self._known.get(finding)

    def put(self, finding: UUID, department: str) -> None:
        if len(self._known) >= self.size:
            del self._known[next(iter(self._known))]  # the longest kept
        self._known[finding] = department


async def visible_finding_now(
    finding_id: UUID, user: CurrentUser, request: Request, lastmile: LastmileDep
) -> FindingRef:
    """The same isolation check for writes, without building a view the command rebuilds."""
    known: FindingDepartments = request.app.state.finding_departments
    department = known.get(finding_id)
    if department is None:
        department = await run_in_threadpool(lastmile.app.department_of, finding_id)
        known.put(finding_id, department)
    if not sees_department(user.role, user.department, department):
        raise NotFoundError(f"Finding {finding_id} does not exist.")  # as a missing one
    return FindingRef(finding_id, department)


CurrentFinding = Annotated[FindingView, Depends(visible_finding)]
FindingNow = Annotated[FindingRef, Depends(visible_finding_now)]
