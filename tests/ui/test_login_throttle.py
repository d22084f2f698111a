"""The login form is throttled exactly as the API's sign-in is (no browser needed)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from adapters.bootstrap import Lastmile
from adapters.settings import Settings
from api.app import create_app
from domain.values import Role
from tests.conftest import ManualClock


@pytest.fixture
def client(tmp_path: Path, clock: ManualClock) -> Iterator[TestClient]:
    settings = Settings(_env_file=None, data_dir=tmp_path / "var", login_attempts=3)  # type: ignore[call-arg]
    with TestClient(create_app(settings, clock, project_in_background=False)) as client:
        assert isinstance(client.app, FastAPI)
        system: Lastmile = client.app.state.lastmile
        system.users.add("slj.jingban", Role.DEPARTMENT, "SLJ", None, "right password")
        yield client


def _attempt(client: TestClient, password: str) -> tuple[int, str]:
    form = client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token is not None
    answer = client.post(
        "/login",
        data={"csrf_token": token.group(1), "name": "slj.jingban", "password": password},
        follow_redirects=False,
    )
    return answer.status_code, answer.text


def test_too_many_failed_logins_lock_the_form(client: TestClient, clock: ManualClock) -> None:
    for _ in range(3):
        assert _attempt(client, "wrong")[0] == 401
    status, page = _attempt(client, "right password")
    assert status == 429
    assert "登录失败次数过多，请 15 分钟后再试。" in page
    assert 'value="slj.jingban"' in page
    clock.advance(minutes=16)
    assert _attempt(client, "right password")[0] == 303


def test_the_session_cookie_works_for_the_api_too(client: TestClient) -> None:
    assert _attempt(client, "right password")[0] == 303
    assert client.get("/api/v1/me").json()["name"] == "slj.jingban"
