"""Authentication over HTTP: tokens, browser sessions, login throttling, user management."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Literal

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from typer.testing import CliRunner

from adapters.bootstrap import Lastmile, bootstrap
from adapters.sessions import LoginLockedError, sessions_table
from adapters.settings import Settings
from adapters.users import tokens_table, users_table
from api.app import create_app
from api.cli import cli
from api.deps import SESSION_COOKIE
from domain.values import Actor, Role
from tests.conftest import ManualClock

PASSWORD = "correct horse battery"
WRONG = "Wrong user name or password."
AddUser = Callable[..., str]
# Production cost (64 MiB, 3 passes) takes ~0.3 s a hash here; most tests need only argon2id.
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)


@pytest.fixture
def client(settings: Settings, clock: ManualClock) -> Iterator[TestClient]:
    with TestClient(create_app(settings, clock, project_in_background=False)) as client:
        lastmile(client).users.hasher = FAST_HASHER
        lastmile(client).app.register_department(Actor("setup", Role.ADMIN), "SLJ", "县水利局")
        yield client


def lastmile(client: TestClient) -> Lastmile:
    app = client.app
    assert isinstance(app, FastAPI)
    system: Lastmile = app.state.lastmile
    return system


@pytest.fixture
def add_user(client: TestClient) -> AddUser:
    """Add a user straight to the store; returns its first API token."""

    def add(name: str, role: Role = Role.EVALUATOR, password: str | None = PASSWORD) -> str:
        department = "SLJ" if role is Role.DEPARTMENT else None
        return lastmile(client).users.add(name, role, department, None, password).token

    return add


class CountingHasher(PasswordHasher):
    """Argon2id, noting which hashes it was asked to check."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=8192, parallelism=1)
        self.checked: list[str] = []

    def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
        self.checked.append(hash if isinstance(hash, str) else hash.decode())
        return super().verify(hash, password)


def other_client(client: TestClient, address: str) -> TestClient:
    """Another browser, at another address, on the same running app."""
    return TestClient(client.app, client=(address, 50000))


def login(client: TestClient, name: str, password: str = PASSWORD) -> int:
    return client.post("/api/v1/session", json={"name": name, "password": password}).status_code


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# -- bearer tokens -------------------------------------------------------------------------


def test_a_bearer_token_identifies_its_user(client: TestClient, add_user: AddUser) -> None:
    token = add_user("slj.jingban", Role.DEPARTMENT)

    response = client.get("/api/v1/me", headers=bearer(token))

    assert response.status_code == 200
    assert response.json() == {
        "name": "slj.jingban",
        "role": "department",
        "department": "SLJ",
        "email": None,
    }


@pytest.mark.parametrize("header", ["Bearer not-a-token", "Bearer ", "Basic YWRtaW46YWRtaW4="])
def test_a_bad_or_missing_token_is_401_with_www_authenticate(
    client: TestClient, header: str
) -> None:
    for response in (
        client.get("/api/v1/me", headers={"Authorization": header}),
        client.get("/api/v1/me"),
    ):
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == "Bearer"
        assert response.headers["content-type"] == "application/problem+json"


def test_a_revoked_token_stops_working_at_once(client: TestClient, add_user: AddUser) -> None:
    token = add_user("pingjia")
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200

    assert lastmile(client).users.revoke_tokens("pingjia").tokens == 1

    response = client.get("/api/v1/me", headers=bearer(token))
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


# -- browser sessions ----------------------------------------------------------------------


def test_login_sets_an_http_only_cookie_that_authenticates(
    client: TestClient, add_user: AddUser
) -> None:
    add_user("slj.jingban", Role.DEPARTMENT)

    response = client.post("/api/v1/session", json={"name": "slj.jingban", "password": PASSWORD})

    assert response.status_code == 200
    assert response.json() == {
        "name": "slj.jingban",
        "role": "department",
        "department": "SLJ",
        "email": None,
    }
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    for attribute in ("HttpOnly", "SameSite=lax", "Path=/", "Max-Age=28800"):
        assert attribute in cookie
    assert "Secure" not in cookie  # the default base URL is plain http
    assert client.get("/api/v1/me").json()["name"] == "slj.jingban"


def test_the_cookie_is_secure_when_the_site_is_served_over_https(
    settings: Settings, clock: ManualClock
) -> None:
    https = settings.model_copy(update={"base_url": "https://zhenggai.example.gov.cn"})
    with TestClient(create_app(https, clock, project_in_background=False)) as client:
        lastmile(client).users.hasher = FAST_HASHER
        lastmile(client).users.add("pingjia", Role.EVALUATOR, password=PASSWORD)

        response = client.post("/api/v1/session", json={"name": "pingjia", "password": PASSWORD})

    assert response.status_code == 200
    assert "Secure" in response.headers["set-cookie"]


def test_logout_ends_the_session_on_the_server(client: TestClient, add_user: AddUser) -> None:
    add_user("pingjia")
    assert login(client, "pingjia") == 200
    session_id = client.cookies[SESSION_COOKIE]

    response = client.delete("/api/v1/session")

    assert response.status_code == 204
    assert f'{SESSION_COOKIE}=""' in response.headers["set-cookie"]
    assert client.get("/api/v1/me").status_code == 401
    # A copy of the cookie kept elsewhere is dead too.
    replayed = other_client(client, "10.0.0.9")
    replayed.cookies.set(SESSION_COOKIE, session_id)
    assert replayed.get("/api/v1/me").status_code == 401


def test_revoking_a_user_ends_their_browser_sessions_too(
    client: TestClient, add_user: AddUser
) -> None:
    admin = bearer(add_user("admin", Role.ADMIN))
    add_user("pingjia")
    laptop, phone = client, other_client(client, "10.0.0.9")
    assert (login(laptop, "pingjia"), login(phone, "pingjia")) == (200, 200)

    revoked = other_client(client, "10.0.0.8").delete("/api/v1/users/pingjia/tokens", headers=admin)

    assert revoked.json() == {"revoked": 1, "sessions_ended": 2}
    assert laptop.get("/api/v1/me").status_code == 401
    assert phone.get("/api/v1/me").status_code == 401
    assert login(laptop, "pingjia") == 200  # the password still works: revoking is not a ban


def test_a_session_expires_after_the_configured_hours(
    client: TestClient, add_user: AddUser, clock: ManualClock
) -> None:
    add_user("pingjia")
    assert login(client, "pingjia") == 200

    clock.advance(hours=7, minutes=59)
    assert client.get("/api/v1/me").status_code == 200
    clock.advance(minutes=1)
    assert client.get("/api/v1/me").status_code == 401


def test_wrong_password_and_unknown_user_get_the_same_answer(
    client: TestClient, add_user: AddUser
) -> None:
    add_user("pingjia")
    add_user("token.only", password=None)

    answers = [
        client.post("/api/v1/session", json={"name": name, "password": password})
        for name, password in (
            ("pingjia", "not the password"),
            ("nobody", PASSWORD),
            ("token.only", PASSWORD),
        )
    ]

    for response in answers:
        assert response.status_code == 401
        assert response.json()["detail"] == WRONG
        assert SESSION_COOKIE not in response.cookies
    assert {r.json()["code"] for r in answers} == {"wrong-credentials"}


def test_an_unknown_user_still_costs_a_password_check(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    hasher = CountingHasher()
    monkeypatch.setattr(lastmile(client).users, "hasher", hasher)

    assert login(client, "nobody") == 401

    assert len(hasher.checked) == 1
    assert hasher.checked[0].startswith("$argon2id$")


@pytest.mark.parametrize(
    "body",
    [
        {"name": "pingjia"},
        {"name": "pingjia", "password": PASSWORD, "remember": True},
        {"name": "", "password": PASSWORD},
        {"name": "x" * 65, "password": PASSWORD},
    ],
)
def test_a_malformed_login_is_422(client: TestClient, body: dict[str, object]) -> None:
    response = client.post("/api/v1/session", json=body)

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


# -- login throttling ----------------------------------------------------------------------


def test_five_failures_lock_the_name_even_for_the_right_password(
    client: TestClient, add_user: AddUser, clock: ManualClock
) -> None:
    add_user("pingjia")
    for _ in range(5):
        assert login(client, "pingjia", "guess") == 401

    response = client.post("/api/v1/session", json={"name": "pingjia", "password": PASSWORD})

    assert response.status_code == 429
    assert response.headers["Retry-After"] == "900"
    assert response.json()["code"] == "too-many-attempts"
    clock.advance(minutes=14, seconds=59)
    assert login(client, "pingjia") == 429
    clock.advance(seconds=1)
    assert login(client, "pingjia") == 200


def test_a_locked_login_does_not_check_the_password(
    client: TestClient, add_user: AddUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_user("pingjia")
    for _ in range(5):
        login(client, "pingjia", "guess")
    hasher = CountingHasher()
    monkeypatch.setattr(lastmile(client).users, "hasher", hasher)

    assert login(client, "pingjia") == 429
    assert hasher.checked == []


def test_retry_after_counts_from_the_oldest_failure_in_the_window(
    client: TestClient, add_user: AddUser, clock: ManualClock
) -> None:
    add_user("pingjia")
    for _ in range(5):
        login(client, "pingjia", "guess")
        clock.advance(minutes=2)

    response = client.post("/api/v1/session", json={"name": "pingjia", "password": PASSWORD})

    # The first failure (10 minutes ago) leaves the window in 5 minutes.
    assert response.headers["Retry-After"] == "300"


def test_failures_from_one_address_lock_that_address_and_the_targeted_name_only(
    client: TestClient, add_user: AddUser
) -> None:
    add_user("pingjia")
    add_user("jiandu", Role.SUPERVISOR)
    attacker, colleague = other_client(client, "203.0.113.7"), other_client(client, "10.1.2.3")
    for _ in range(5):
        assert login(attacker, "pingjia", "guess") == 401

    assert login(colleague, "jiandu") == 200  # another user at another address
    assert login(colleague, "pingjia") == 429  # the targeted name, from anywhere
    assert login(attacker, "jiandu") == 429  # anything from the guessing address


def test_spraying_many_names_from_one_address_is_locked(
    client: TestClient, add_user: AddUser
) -> None:
    add_user("pingjia")
    for name in ("a", "b", "c", "d", "e"):
        assert login(client, name, "guess") == 401

    assert login(client, "pingjia") == 429


def test_a_successful_login_clears_the_names_failures(
    client: TestClient, add_user: AddUser
) -> None:
    add_user("pingjia")
    for _ in range(2):
        for _ in range(4):
            assert login(client, "pingjia", "typo") == 401
        assert login(client, "pingjia") == 200


def test_another_process_sees_the_same_sessions_and_failures(
    client: TestClient, add_user: AddUser, settings: Settings, clock: ManualClock
) -> None:
    add_user("pingjia")
    add_user("jiandu", Role.SUPERVISOR)
    assert login(client, "jiandu") == 200
    for _ in range(5):
        login(client, "pingjia", "guess")

    other = bootstrap(settings, clock)
    try:
        assert other.users.by_session(client.cookies[SESSION_COOKIE]) is not None
        with pytest.raises(LoginLockedError):
            other.users.start_session("pingjia", PASSWORD, "10.9.9.9")
    finally:
        other.close()


def test_concurrent_guesses_are_all_counted(client: TestClient, add_user: AddUser) -> None:
    add_user("pingjia")
    users = lastmile(client).users

    def guess(n: int) -> str:
        try:
            return str(users.start_session("pingjia", f"guess {n}", f"10.0.0.{n}"))
        except LoginLockedError:
            return "locked"

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(guess, range(12)))

    assert answers.count("None") <= 5 + 7  # at worst every other thread was mid-check
    assert answers.count("None") >= 5
    assert login(client, "pingjia") == 429


def test_the_limits_come_from_settings(settings: Settings, clock: ManualClock) -> None:
    strict = settings.model_copy(
        update={"login_attempts": 2, "login_window_minutes": 1, "session_hours": 1}
    )
    with TestClient(create_app(strict, clock, project_in_background=False)) as client:
        lastmile(client).users.hasher = FAST_HASHER
        lastmile(client).users.add("pingjia", Role.EVALUATOR, password=PASSWORD)
        for _ in range(2):
            login(client, "pingjia", "guess")
        locked = client.post("/api/v1/session", json={"name": "pingjia", "password": PASSWORD})
        clock.advance(minutes=1)
        assert login(client, "pingjia") == 200
        clock.advance(hours=1)
        expired = client.get("/api/v1/me")

    assert (locked.status_code, locked.headers["Retry-After"]) == (429, "60")
    assert expired.status_code == 401


# -- what is stored ------------------------------------------------------------------------


def test_passwords_tokens_and_sessions_are_stored_only_as_hashes(
    client: TestClient, add_user: AddUser
) -> None:
    lastmile(client).users.hasher = PasswordHasher()  # the production parameters
    token = add_user("pingjia")
    assert login(client, "pingjia") == 200
    session_id = client.cookies[SESSION_COOKIE]

    with lastmile(client).records.connect() as connection:
        password_hash = connection.execute(select(users_table.c.password_hash)).scalar_one()
        token_rows = connection.execute(select(tokens_table)).all()
        session_rows = connection.execute(select(sessions_table)).all()

    assert password_hash.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert PASSWORD not in password_hash
    assert [row.token_hash for row in token_rows] == [hashlib.sha256(token.encode()).hexdigest()]
    assert [row.id_hash for row in session_rows] == [
        hashlib.sha256(session_id.encode()).hexdigest()
    ]
    stored = repr(token_rows) + repr(session_rows)
    assert token not in stored
    assert session_id not in stored


def test_an_outdated_password_hash_is_upgraded_at_login(
    client: TestClient, add_user: AddUser
) -> None:
    lastmile(client).users.hasher = PasswordHasher()  # the production parameters
    add_user("pingjia")
    records = lastmile(client).records
    weak = FAST_HASHER.hash(PASSWORD)
    with records.begin() as connection:
        connection.execute(update(users_table).values(password_hash=weak))

    assert login(client, "pingjia") == 200

    with records.connect() as connection:
        upgraded = connection.execute(select(users_table.c.password_hash)).scalar_one()
    assert upgraded != weak
    assert not lastmile(client).users.hasher.check_needs_rehash(upgraded)
    assert login(client, "pingjia") == 200


# -- user management -----------------------------------------------------------------------


def test_an_admin_adds_a_user_who_can_use_token_and_password(
    client: TestClient, add_user: AddUser
) -> None:
    admin = bearer(add_user("admin", Role.ADMIN))
    body = {
        "name": "slj.jingban",
        "role": "department",
        "department": "SLJ",
        "email": "jingban@slj.example.gov.cn",
        "password": PASSWORD,
    }

    response = client.post("/api/v1/users", json=body, headers=admin)

    assert response.status_code == 201
    created = response.json()
    assert {k: created[k] for k in ("name", "role", "department", "email")} == {
        k: body[k] for k in ("name", "role", "department", "email")
    }
    assert response.headers["Location"] == "/api/v1/users/slj.jingban"
    me = client.get("/api/v1/me", headers=bearer(created["token"]))
    assert me.json()["department"] == "SLJ"
    assert login(other_client(client, "10.0.0.2"), "slj.jingban") == 200
    assert client.post("/api/v1/users", json=body, headers=admin).status_code == 409


@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        ({"name": "x", "role": "department", "department": "NOPE"}, "Department NOPE does not"),
        ({"name": "x", "role": "department"}, "must name their department"),
        ({"name": "x", "role": "evaluator", "department": "SLJ"}, "Only department users"),
        ({"name": "x", "role": "system"}, "role"),
        ({"name": "a b", "role": "evaluator"}, "must be 1-64 letters"),
        ({"name": "x", "role": "evaluator", "password": "short"}, "password"),
        ({"name": "x", "role": "evaluator", "token": "mine"}, "token"),
    ],
)
def test_adding_a_bad_user_is_422_and_adds_nothing(
    client: TestClient, add_user: AddUser, body: dict[str, str], complaint: str
) -> None:
    admin = bearer(add_user("admin", Role.ADMIN))

    response = client.post("/api/v1/users", json=body, headers=admin)

    assert response.status_code == 422
    assert complaint in response.json()["detail"]
    assert [u["name"] for u in client.get("/api/v1/users", headers=admin).json()] == ["admin"]


def test_an_admin_issues_and_revokes_tokens(client: TestClient, add_user: AddUser) -> None:
    admin = bearer(add_user("admin", Role.ADMIN))
    first = add_user("pingjia")

    issued = client.post("/api/v1/users/pingjia/tokens", headers=admin)
    assert issued.status_code == 201
    second = issued.json()["token"]
    assert client.get("/api/v1/me", headers=bearer(second)).status_code == 200
    assert client.get("/api/v1/me", headers=bearer(first)).status_code == 200

    revoked = client.delete("/api/v1/users/pingjia/tokens", headers=admin)

    assert (revoked.status_code, revoked.json()) == (200, {"revoked": 2, "sessions_ended": 0})
    for token in (first, second):
        assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401
    again = client.delete("/api/v1/users/pingjia/tokens", headers=admin)
    assert again.json() == {"revoked": 0, "sessions_ended": 0}
    assert client.get("/api/v1/me", headers=admin).status_code == 200


def test_tokens_of_an_unknown_user_are_404(client: TestClient, add_user: AddUser) -> None:
    admin = bearer(add_user("admin", Role.ADMIN))

    assert client.post("/api/v1/users/nobody/tokens", headers=admin).status_code == 404
    assert client.delete("/api/v1/users/nobody/tokens", headers=admin).status_code == 404
    assert client.get("/api/v1/users/nobody", headers=admin).status_code == 404


def test_the_user_list_shows_no_hashes_or_tokens(client: TestClient, add_user: AddUser) -> None:
    admin = bearer(add_user("admin", Role.ADMIN))
    add_user("slj.jingban", Role.DEPARTMENT)

    response = client.get("/api/v1/users", headers=admin)

    assert response.status_code == 200
    assert response.json() == [
        {"name": "admin", "role": "admin", "department": None, "email": None},
        {"name": "slj.jingban", "role": "department", "department": "SLJ", "email": None},
    ]
    assert "argon2" not in response.text


@pytest.mark.parametrize("role", [Role.EVALUATOR, Role.DEPARTMENT, Role.SUPERVISOR])
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/v1/users"),
        ("GET", "/api/v1/users"),
        ("GET", "/api/v1/users/pingjia"),
        ("POST", "/api/v1/users/pingjia/tokens"),
        ("DELETE", "/api/v1/users/pingjia/tokens"),
    ],
)
def test_only_admins_manage_users(
    client: TestClient, add_user: AddUser, role: Role, method: str, path: str
) -> None:
    token = add_user(f"someone.{role.value}", role)
    add_user("pingjia")
    body = {"name": "new", "role": "admin"} if method == "POST" else None

    response = client.request(method, path, json=body, headers=bearer(token))
    anonymous = client.request(method, path, json=body)

    assert response.status_code == 403
    assert "may not manage users" in response.json()["detail"]
    assert anonymous.status_code == 401
    assert lastmile(client).users.get("new") is None


def test_a_session_user_is_an_admin_only_if_their_role_says_so(
    client: TestClient, add_user: AddUser
) -> None:
    add_user("admin", Role.ADMIN)
    add_user("pingjia")
    assert login(client, "pingjia") == 200
    assert client.get("/api/v1/users").status_code == 403

    assert login(client, "admin") == 200
    assert client.get("/api/v1/users").status_code == 200


# -- the command line ----------------------------------------------------------------------


def test_cli_issues_and_revokes_tokens(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LASTMILE_DATA_DIR", str(settings.data_dir))
    if settings.database_url:
        monkeypatch.setenv("LASTMILE_DATABASE_URL", settings.database_url)
    runner = CliRunner()
    first = json.loads(runner.invoke(cli, ["user", "add", "pingjia", "--role", "evaluator"]).output)

    issued = runner.invoke(cli, ["user", "token", "pingjia"])
    revoked = runner.invoke(cli, ["user", "revoke", "pingjia"])
    unknown = runner.invoke(cli, ["user", "revoke", "nobody"])

    assert issued.exit_code == 0
    second = json.loads(issued.output)["token"]
    assert (revoked.exit_code, json.loads(revoked.output)) == (
        0,
        {"name": "pingjia", "revoked": 2, "sessions_ended": 0},
    )
    assert unknown.exit_code == 1
    assert "User nobody does not exist" in unknown.output
    system = bootstrap(settings)
    try:
        assert system.users.by_token(first["token"]) is None
        assert system.users.by_token(second) is None
    finally:
        system.close()
