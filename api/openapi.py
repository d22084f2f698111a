"""Each operation's problem answers in the OpenAPI schema, found from what its route depends on."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from api.deps import current_user
from api.errors import PROBLEM, TITLES
from api.schemas import ProblemOut
from api.writes import write_context

PROBLEM_SCHEMA = ProblemOut.model_json_schema()
WHY = {
    400: "A header is malformed (If-Match).",
    401: "No valid bearer token or session.",
    403: "The user's role may not do this, or segregation of duties forbids it.",
    404: "It does not exist, or belongs to another department.",
    409: "Not allowed in the finding's current state, recorded before, or busy.",
    412: "If-Match names an older version than the stored one.",
    422: "A value is missing, malformed or out of range.",
}


def document_problems(app: FastAPI, routers: Iterable[APIRouter]) -> None:
    """Let app.openapi() list the problem+json answers of each operation of these routers."""
    found = {
        (method, route.path): _statuses(route)
        for router in routers
        for route in router.routes
        if isinstance(route, APIRoute)
        for method in route.methods or ()
    }
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        schema = generate()
        for path, operations in schema["paths"].items():
            for method, operation in operations.items():
                responses = operation.setdefault("responses", {})
                for status in sorted(found.get((method.upper(), path), {422})):
                    responses[str(status)] = _problem(status, responses.get(str(status), {}))
        return schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's way to extend the schema


def _statuses(route: APIRoute) -> set[int]:
    calls, methods = set(_calls(route.dependant)), route.methods or set()
    statuses = {422}  # any request may carry a malformed value (a NUL, at least)
    if current_user in calls:
        statuses |= {401, 403}
        if "POST" in methods:
            statuses |= {404, 409}  # bodies name departments, evaluations, findings
        elif "{" in route.path:
            statuses |= {404}
    if write_context in calls:
        statuses |= {400, 412}
    return statuses


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    if dependant.call is not None:
        yield dependant.call
    for sub in dependant.dependencies:
        yield from _calls(sub)


def _problem(status: int, declared: dict[str, Any]) -> dict[str, Any]:
    """The problem answer, keeping what the route declared itself (FastAPI's own 422 goes)."""
    if status == 422 and PROBLEM not in declared.get("content", {}):
        declared = {}
    content = {PROBLEM: {"schema": PROBLEM_SCHEMA}}
    for media_type, entry in declared.get("content", {}).items():
        content[media_type] = {**content.get(media_type, {}), **entry}
    return {"description": f"{TITLES[status]}: {WHY[status]}", **declared, "content": content}
