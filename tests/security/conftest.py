"""Security checks: the API's fixtures (the app on each store, a person per role) and helpers."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx2
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient

from api.deps import SESSION_COOKIE
from api.ui.security import CSRF_FIELD, csrf_token
from domain.values import Role
from tests.api.conftest import Api, Who
from tests.api.conftest import api as api  # the fixture, shared by name

PASSWORD = "correct horse battery staple 马"
# Argon2 at its cheapest: these tests check what happens around the hash, not its cost.
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
CSRF_INPUT = re.compile(rf'name="{CSRF_FIELD}" value="([^"]*)"')


def ui_routes(app: FastAPI) -> Iterator[tuple[str, str]]:
    """Every page route as (method, path): the routes the OpenAPI schema leaves out."""
    for route in iter_route_contexts(app.routes):  # through included routers, as served
        if isinstance(route.original_route, APIRoute) and not route.include_in_schema:
            for method in sorted(route.methods or ()):
                yield method, str(route.path)


def add_member(api: Api, name: str = "slj.member") -> str:
    """A department user of SLJ who signs in with PASSWORD."""
    api.system.users.hasher = FAST_HASHER
    api.system.users.add(name, Role.DEPARTMENT, "SLJ", password=PASSWORD)
    return name


def session_of(api: Api, who: Who | str) -> str:
    """A live browser session for the person, as a successful login would start it."""
    return api.system.users.sessions.start(who if isinstance(who, str) else who.value)


def csrf_for(api: Api, session: str) -> str:
    return csrf_token(api.system.settings, "session", session)


def browser(client: TestClient, session: str | None = None) -> TestClient:
    """The same app as a fresh browser: its own cookie jar, redirects not followed."""
    fresh = TestClient(client.app, base_url=str(client.base_url), follow_redirects=False)
    if session is not None:
        fresh.cookies.set(SESSION_COOKIE, session)
    return fresh


def login_page_token(client: TestClient) -> str:
    """GET /login (which sets the login cookie) and read the form's CSRF token."""
    page = client.get("/login")
    assert page.status_code == 200
    found = CSRF_INPUT.search(page.text)
    assert found is not None
    return found.group(1)


def strings(value: Any) -> Iterator[str]:
    """Every string in parsed JSON, keys included."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def set_cookie_headers(response: httpx2.Response, name: str) -> list[str]:
    return [v for v in response.headers.get_list("set-cookie") if v.startswith(f"{name}=")]
