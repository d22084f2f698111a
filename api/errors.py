"""The one place errors become HTTP problems (application/problem+json, RFC 9457)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from eventsourcing import persistence
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sql
from starlette.exceptions import HTTPException as StarletteHTTPException

from domain.errors import (
    AlreadyExistsError,
    ConcurrencyError,
    DomainError,
    NotFoundError,
    SegregationOfDutiesError,
    StaleVersionError,
    StoreError,
    TransitionError,
    ValidationError,
)

PROBLEM = "application/problem+json"
log = logging.getLogger("lastmile.api")

# Most specific first: the first matching class decides the status.
DOMAIN_STATUS: tuple[tuple[type[DomainError], int, str], ...] = (
    (NotFoundError, 404, "not-found"),
    (SegregationOfDutiesError, 403, "segregation-of-duties"),
    (StaleVersionError, 412, "stale-version"),
    (AlreadyExistsError, 409, "already-exists"),
    (TransitionError, 409, "not-allowed-now"),
    (ConcurrencyError, 409, "busy"),
    (ValidationError, 422, "invalid"),
)
TITLES = {
    400: "Bad request",
    401: "Not signed in",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    412: "Changed meanwhile",
    413: "Too large",
    415: "Unsupported file type",
    422: "Invalid input",
    428: "Precondition required",
    429: "Too many attempts",
    500: "Server error",
    503: "Unavailable",
    507: "Storage full",
}
# The database is away or cannot write just now (connection lost, locked, disk full): a
# retry later can succeed. Anything else the store raises is a refusal, answered 500.
TRANSIENT = (
    persistence.OperationalError,
    persistence.InterfaceError,
    sql.OperationalError,
    sql.InterfaceError,
)
DISK_FULL = ("database or disk is full", "no space left on device", "could not extend file")
RETRY_AFTER = "5"  # seconds


class Problem(Exception):  # noqa: N818 -- named after RFC 9457 "problem details"
    """An HTTP problem raised by the API layer itself (authentication, uploads, headers)."""

    def __init__(self, status: int, detail: str, code: str, headers: dict[str, str] | None = None):
        super().__init__(detail)
        self.status, self.detail, self.code, self.headers = status, detail, code, headers or {}


def problem_response(
    status: int, detail: str, code: str, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    body = {
        "type": f"https://lastmile.example/problems/{code}",
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "code": code,
        **extra,
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def status_for(error: DomainError) -> tuple[int, str]:
    return next(
        ((s, c) for kind, s, c in DOMAIN_STATUS if isinstance(error, kind)), (422, "invalid")
    )


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(request: Request, error: DomainError) -> JSONResponse:
        status, code = status_for(error)
        return problem_response(status, str(error), code)

    @app.exception_handler(Problem)
    async def api_problem(request: Request, error: Problem) -> JSONResponse:
        return problem_response(error.status, error.detail, error.code, error.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
        errors = [_field_error(e) for e in error.errors()]
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        return problem_response(
            422, detail or "The request is not valid.", "invalid", errors=errors
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        if isinstance(error.__cause__, UnicodeDecodeError):
            # FastAPI's vague 400 for a body it could not decode: that is malformed JSON too.
            message = "the body is not valid JSON (it is not UTF-8 text)"
            return problem_response(
                422, f"body: {message}", "invalid", errors=[{"field": "body", "message": message}]
            )
        detail = (
            error.detail if isinstance(error.detail, str) else TITLES.get(error.status_code, "")
        )
        return problem_response(
            error.status_code, detail, "http", dict(error.headers) if error.headers else None
        )

    @app.exception_handler(StoreError)
    async def store_error(request: Request, error: StoreError) -> JSONResponse:
        if _transient(error):
            return _unavailable(error, saving=True)
        log.error("event store refused a write: %s", error)
        return problem_response(
            500, "The data store refused the change; nothing was saved. An administrator "
            "has been told (run `lastmile verify`).", "store",
        )  # fmt: skip

    # Reads, and writes outside the event store (users, idempotency keys), meet the
    # same outages raw: answer them the same way instead of with a bare 500.
    for kind in TRANSIENT:
        app.add_exception_handler(kind, _database_away)


async def _database_away(request: Request, error: Exception) -> JSONResponse:
    return _unavailable(error, saving=False)


def _unavailable(error: BaseException, *, saving: bool) -> JSONResponse:
    """503 (try again shortly) or 507 (the disk is full) for a store that cannot work now."""
    log.error("the data store is unavailable: %s", _first_line(error))
    if any(words in str(e).lower() for e in _chain(error) for words in DISK_FULL):
        detail = "The server's storage is full: nothing can be saved until an administrator "
        return problem_response(507, detail + "frees space.", "storage-full")
    detail = "The data store is unavailable right now; try again in a moment."
    if saving and _while_committing(error):
        detail += " The connection was lost while committing: reload to see if it was saved."
    elif saving:
        detail += " Nothing was saved."
    return problem_response(503, detail, "store-unavailable", {"Retry-After": RETRY_AFTER})


def _chain(error: BaseException | None) -> Iterator[BaseException]:
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        yield error
        error = error.__cause__ or error.__context__


def _transient(error: BaseException) -> bool:
    return any(isinstance(e, TRANSIENT) for e in _chain(error))


def _while_committing(error: BaseException) -> bool:
    failed = next((e for e in _chain(error) if isinstance(e, sql.StatementError)), None)
    return failed is not None and failed.statement is None


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _field_error(error: Any) -> dict[str, str]:
    if error.get("type") == "json_invalid":
        where = error.get("ctx", {}).get("error", "")
        return {"field": "body", "message": f"the body is not valid JSON ({where})".strip()}
    loc = [str(part) for part in error.get("loc", ())]
    location = [part for part in loc if part not in ("body", "query", "path")]
    # An error about the body as a whole (missing, not an object) names the body.
    field = ".".join(location) or (loc[0] if loc else "request")
    return {"field": field, "message": str(error.get("msg", "invalid"))}
