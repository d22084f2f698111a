"""Sessions and tokens: cookie flags, server-side expiry and logout, fixation, hashes at rest."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import inspect, select, text

from adapters.settings import Settings
from api.app import create_app
from api.deps import SESSION_COOKIE
from api.ui.security import CSRF_FIELD, LOGIN_COOKIE
from tests.api.conftest import Api, Who, start
from tests.conftest import ManualClock
from tests.security.conftest import (
    PASSWORD,
    add_member,
    browser,
    csrf_for,
    login_page_token,
    session_of,
    set_cookie_headers,
)


@pytest.fixture
def member(api: Api) -> str:
    return add_member(api)


def api_login(client: TestClient, name: str, plant: str | None = None) -> str:
    """Sign in through the API (with a session cookie planted first, if given)."""
    if plant is not None:
        client.cookies.set(SESSION_COOKIE, plant)
    answer = client.post("/api/v1/session", json={"name": name, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    return answer.cookies[SESSION_COOKIE]


def ui_login(client: TestClient, name: str, plant: str | None = None) -> str:
    """Sign in through the form (with a session cookie planted after it was shown, if given)."""
    token = login_page_token(client)
    if plant is not None:
        client.cookies.set(SESSION_COOKIE, plant)
    data = {CSRF_FIELD: token, "name": name, "password": PASSWORD, "next": "/"}
    answer = client.post("/login", data=data)
    assert answer.status_code == 303, answer.text
    return answer.cookies[SESSION_COOKIE]


def flags(header: str) -> set[str]:
    """The attributes of one Set-Cookie header, lower-cased, values dropped but SameSite's."""
    parts = [p.strip().lower() for p in header.split(";")[1:]]
    return {p if p.startswith("samesite") else p.split("=")[0] for p in parts}


@pytest.fixture
def https(settings: Settings, clock: ManualClock) -> Iterator[Api]:
    """The app served as https://, as behind a TLS-terminating proxy."""
    secure = settings.model_copy(update={"base_url": "https://lastmile.example.cn"})
    app = create_app(secure, clock, project_in_background=False)
    with TestClient(app, base_url="https://testserver") as client:
        yield start(client)


def sign_in_cookies(system: Api) -> list[str]:
    """The Set-Cookie headers of both sign-ins (API and page) and of the login form."""
    add_member(system)
    client = browser(system.client)
    credentials = {"name": "slj.member", "password": PASSWORD}
    cookies = set_cookie_headers(client.post("/api/v1/session", json=credentials), SESSION_COOKIE)
    client.cookies.clear()
    cookies += set_cookie_headers(client.get("/login"), LOGIN_COOKIE)
    token = login_page_token(client)
    page = client.post("/login", data={CSRF_FIELD: token, **credentials})
    cookies += set_cookie_headers(page, SESSION_COOKIE)
    assert len(cookies) == 3
    return cookies


def test_session_and_login_cookies_are_httponly_and_samesite_lax(api: Api) -> None:
    for header in sign_in_cookies(api):
        assert flags(header) >= {"httponly", "samesite=lax", "path", "max-age"}, header
        assert "secure" not in flags(header)  # http://: a Secure cookie would never come back


def test_cookies_are_secure_when_the_base_url_is_https(https: Api) -> None:
    for header in sign_in_cookies(https):
        assert flags(header) >= {"secure", "httponly", "samesite=lax"}, header


def test_a_session_expires_on_the_server_whatever_the_browser_keeps(
    api: Api, member: str, clock: ManualClock
) -> None:
    session = api_login(browser(api.client), member)
    client = browser(api.client, session)  # the browser keeps sending the cookie
    hours = api.system.settings.session_hours

    clock.advance(hours=hours, minutes=-1)
    assert client.get("/api/v1/me").status_code == 200
    assert client.get("/").status_code == 200

    clock.advance(minutes=2)
    assert client.get("/api/v1/me").status_code == 401
    page = client.get("/")
    assert page.status_code == 303
    assert page.headers["location"].startswith("/login")
    assert "expired=1" in page.headers["location"]


def test_logging_out_ends_the_session_on_the_server(api: Api, member: str) -> None:
    # Through the API
    session = api_login(browser(api.client), member)
    assert browser(api.client, session).delete("/api/v1/session").status_code == 204
    assert browser(api.client, session).get("/api/v1/me").status_code == 401

    # And through the page's sign-out form
    session = ui_login(browser(api.client), member)
    form = {CSRF_FIELD: csrf_for(api, session)}
    answer = browser(api.client, session).post("/logout", data=form)
    assert answer.status_code == 303
    assert browser(api.client, session).get("/api/v1/me").status_code == 401
    assert browser(api.client, session).get("/").headers["location"].startswith("/login")


@pytest.mark.parametrize("login", [api_login, ui_login], ids=["api", "page"])
def test_a_session_id_planted_before_login_is_replaced_and_dead(
    api: Api, member: str, login: object
) -> None:
    assert callable(login)
    # Given an attacker planted an id of their choosing, or a live session of their own
    planted = {"chosen": "attacker-chosen-session-id", "live": session_of(api, Who.JYJ)}
    for kind, value in planted.items():
        # When the victim signs in in that browser
        session = login(browser(api.client), member, value)

        # Then the victim gets a fresh id, and the planted one does not lead to the victim
        assert session != value, kind
        assert api.system.users.by_session(session).name == member  # type: ignore[union-attr]
        assert api.system.users.by_session(value) is None, kind
        assert browser(api.client, value).get("/api/v1/me").status_code == 401


def test_a_wrong_password_sets_no_session_cookie(api: Api, member: str) -> None:
    client = browser(api.client)
    wrong = client.post("/api/v1/session", json={"name": member, "password": "wrong-password"})
    token = login_page_token(client)
    page = client.post("/login", data={CSRF_FIELD: token, "name": member, "password": "nope!!"})

    assert (wrong.status_code, page.status_code) == (401, 401)
    assert set_cookie_headers(wrong, SESSION_COOKIE) == []
    assert set_cookie_headers(page, SESSION_COOKIE) == []
    assert "nope!!" not in page.text  # the password is not typed back into the page


def test_a_login_post_without_the_forms_token_is_refused(api: Api, member: str) -> None:
    client = browser(api.client)
    login_page_token(client)  # the login cookie is set; the token is not sent

    for token in (None, "0" * 64):
        data = {"name": member, "password": PASSWORD}
        if token is not None:
            data[CSRF_FIELD] = token
        answer = client.post("/login", data=data)

        assert answer.status_code == 403
        assert set_cookie_headers(answer, SESSION_COOKIE) == []


def test_a_revoked_token_is_refused_at_once(api: Api) -> None:
    assert api.call(Who.SLJ, "GET", "/api/v1/me").status_code == 200

    revoked = api.call(Who.ADMIN, "DELETE", f"/api/v1/users/{Who.SLJ.value}/tokens")

    assert revoked.json() == {"revoked": 1, "sessions_ended": 0}
    answer = api.call(Who.SLJ, "GET", "/api/v1/me")
    assert answer.status_code == 401
    assert answer.json()["code"] == "unauthenticated"


def _everything_stored(api: Api, data_dir: Path) -> str:
    """Every value of every table of the records database, and every byte of the data dir."""
    engine = api.system.records
    seen: list[str] = []
    with engine.connect() as connection:
        for table in inspect(engine).get_table_names():
            rows = connection.execute(select(text("*")).select_from(text(f'"{table}"')))
            seen += [repr(tuple(row)) for row in rows]
    if data_dir.exists():
        for path in data_dir.rglob("*"):
            if path.is_file():
                seen.append(path.read_bytes().decode("latin-1"))
    return "\n".join(seen)


def test_passwords_tokens_and_session_ids_are_stored_only_as_hashes(
    api: Api, member: str, settings: Settings
) -> None:
    # Given a token, a password login (API and page), and a session through the page
    issued = api.call(Who.ADMIN, "POST", f"/api/v1/users/{member}/tokens").json()["token"]
    secrets = [PASSWORD, issued, *api.tokens.values()]
    secrets += [api_login(browser(api.client), member), ui_login(browser(api.client), member)]

    stored = _everything_stored(api, settings.data_dir)

    assert stored  # the tables and files were read
    for secret in secrets:
        assert secret not in stored
        assert secret.encode().hex() not in stored
