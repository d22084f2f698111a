"""Writes: If-Match for optimistic concurrency, Idempotency-Key for safe retries."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any
from uuid import UUID

from fastapi import Depends, Header, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from adapters.bootstrap import Lastmile
from adapters.idempotency import IN_PROGRESS
from adapters.users import User
from api.deps import CurrentUser, LastmileDep
from api.errors import Problem, problem_response, status_for
from api.presenters import finding_out
from domain.errors import DomainError
from domain.views import CommandResult

IfMatch = Annotated[
    str | None,
    Header(description='The version you saw (its ETag, e.g. "3"); 412 if it changed since.'),
]
IdempotencyKey = Annotated[
    str | None,
    Header(max_length=200, description="Any unique string; a retry with it gets the first answer."),
]


@dataclass
class Write:
    """What every write needs: the system, the user, and the concurrency headers."""

    lastmile: Lastmile
    user: User
    request: Request
    if_match: str | None
    key: str | None

    def finding_command(
        self,
        body: Any,
        finding_id: UUID,
        run: Callable[[int | None], CommandResult],
        shape: Callable[[CommandResult], Any] | None = None,
        status: int = 200,
    ) -> JSONResponse:
        """Run a command on one finding; answer with the finding (or `shape`) and its ETag."""
        version = expected_version(self.if_match)

        def act() -> tuple[int, Any, dict[str, str]]:
            result = run(version)
            view = result.finding or self.lastmile.app.finding(finding_id)
            headers = {"ETag": f'"{view.version}"'}
            if result.position is not None:
                headers["X-Lastmile-Position"] = str(result.position)
            return status, shape(result) if shape else finding_out(view), headers

        return respond(self.lastmile, self.user, self.request, self.key, body, act)

    def create(self, body: Any, act: Callable[[], tuple[int, Any, dict[str, str]]]) -> JSONResponse:
        """Run a creation; its answer carries a position that includes what it recorded."""

        def act_and_place() -> tuple[int, Any, dict[str, str]]:
            status, answer, headers = act()
            # The log only grows: its head now is at or after our own events.
            head = self.lastmile.app.recorder.max_notification_id() or 0
            return status, answer, {**headers, "X-Lastmile-Position": str(head)}

        return respond(self.lastmile, self.user, self.request, self.key, body, act_and_place)


async def write_context(
    request: Request,
    lastmile: LastmileDep,
    user: CurrentUser,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> Write:
    return Write(lastmile, user, request, if_match, idempotency_key)


WriteDep = Annotated[Write, Depends(write_context)]


def expected_version(if_match: str | None) -> int | None:
    """Read If-Match: an ETag like "3" or W/"3", or a bare 3."""
    if if_match is None or if_match.strip() == "*":
        return None
    value = if_match.strip().removeprefix("W/").strip('"')
    if not value.isdigit():
        raise Problem(
            400, f'If-Match must be a finding version such as "3", not {if_match!r}.', "if-match"
        )
    return int(value)


def respond(
    lastmile: Lastmile,
    user: User,
    request: Request,
    key: str | None,
    payload: Any,
    act: Callable[[], tuple[int, Any, dict[str, str]]],
) -> JSONResponse:
    """Run `act` once per Idempotency-Key: a retry gets the kept answer, nothing is redone."""
    if key is None:
        return _answer(*act())
    digest = _request_digest(request, payload)
    kept = lastmile.idempotency.claim(user.name, key, digest)
    if kept is not None:
        return _replay(kept.status, kept.body, kept.headers, kept.same_request)
    try:
        status, body, headers = act()
    except DomainError as error:
        status, code = status_for(error)
        answer = problem_response(status, str(error), code)
    except BaseException:
        lastmile.idempotency.release(user.name, key)  # unexpected: let a retry run again
        raise
    else:
        answer = _answer(status, body, headers)
    lastmile.idempotency.keep(
        user.name,
        key,
        answer.status_code,
        bytes(answer.body).decode(),
        json.dumps(_kept_headers(answer)),
    )
    return answer


def _answer(status: int, body: Any, headers: dict[str, str]) -> JSONResponse:
    # A model dumps itself straight to JSON types; jsonable_encoder would walk the result again.
    if isinstance(body, BaseModel):
        content = body.model_dump(mode="json", by_alias=True)
    else:
        content = jsonable_encoder(body, by_alias=True)
    return JSONResponse(content, status_code=status, headers=headers)


def _replay(status: int, body: str, headers: str, same_request: bool) -> JSONResponse:
    if not same_request:
        raise Problem(
            422,
            "This Idempotency-Key was already used for a different request; use a new key.",
            "idempotency-key-reused",
        )
    if status == IN_PROGRESS:
        raise Problem(
            409,
            "A request with this Idempotency-Key is still running; retry in a moment.",
            "idempotency-key-busy",
        )
    replayed = {**json.loads(headers), "Idempotent-Replay": "true"}
    return JSONResponse(json.loads(body), status_code=status, headers=replayed)


def _kept_headers(answer: JSONResponse) -> dict[str, str]:
    return {
        k: v for k, v in answer.headers.items() if k.lower() in ("etag", "location", "content-type")
    }


def _request_digest(request: Request, payload: Any) -> str:
    body = json.dumps(jsonable_encoder(payload), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(f"{request.method} {request.url.path}\n{body}".encode()).hexdigest()
