"""Bearer tokens are remembered for a few seconds, and a revocation still takes effect."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import event

from adapters.bootstrap import Lastmile, bootstrap
from adapters.settings import Settings
from adapters.users import TOKEN_CACHE_SECONDS, TokenCache, User
from api.app import create_app
from domain.values import Actor, Role
from tests.conftest import ManualClock


@dataclass
class Ticker:
    """A monotonic clock tests move by hand."""

    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def ticker() -> Ticker:
    return Ticker()


@pytest.fixture
def client(settings: Settings, clock: ManualClock, ticker: Ticker) -> Iterator[TestClient]:
    with TestClient(create_app(settings, clock, project_in_background=False)) as client:
        system(client).users.tokens = TokenCache(now=ticker)
        system(client).app.register_department(Actor("setup", Role.ADMIN), "SLJ", "县水利局")
        yield client


def system(client: TestClient) -> Lastmile:
    app = client.app
    assert isinstance(app, FastAPI)
    lastmile: Lastmile = app.state.lastmile
    return lastmile


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_token_seen_lately_is_not_looked_up_again(client: TestClient) -> None:
    token = system(client).users.add("pingjia", Role.EVALUATOR).token
    queries = count_token_queries(system(client))

    answers = [client.get("/api/v1/me", headers=bearer(token)).status_code for _ in range(5)]

    assert answers == [200] * 5
    assert queries == [1]


def test_a_token_revoked_through_this_server_is_refused_at_once(client: TestClient) -> None:
    admin = system(client).users.add("guanli", Role.ADMIN).token
    token = system(client).users.add("pingjia", Role.EVALUATOR).token
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200  # now cached

    client.delete("/api/v1/users/pingjia/tokens", headers=bearer(admin))

    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401


def test_a_token_revoked_by_another_process_is_refused_within_the_cache_time(
    client: TestClient, settings: Settings, ticker: Ticker
) -> None:
    token = system(client).users.add("pingjia", Role.EVALUATOR).token
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200  # now cached

    # When `lastmile user revoke` runs in a process of its own
    other = bootstrap(settings)
    try:
        assert other.users.revoke_tokens("pingjia").tokens == 1
    finally:
        other.close()

    # Then this server may still accept it for up to TOKEN_CACHE_SECONDS, and not after
    ticker.now += TOKEN_CACHE_SECONDS - 0.1
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200
    ticker.now += 0.1
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401


def test_a_lookup_that_raced_a_revocation_is_not_kept(ticker: Ticker) -> None:
    cache, user = TokenCache(now=ticker), User("pingjia", Role.EVALUATOR, None, None)

    generation = cache.generation()  # a request reads the store: the token is still live
    cache.forget_user("pingjia")  # meanwhile the revocation commits
    cache.put("digest", user, generation)  # the request's answer arrives late

    assert cache.get("digest") is None


def test_the_cache_keeps_at_most_its_size_forgetting_the_oldest(ticker: Ticker) -> None:
    cache = TokenCache(size=2, now=ticker)
    users = [User(f"u{n}", Role.EVALUATOR, None, None) for n in range(3)]

    for n, user in enumerate(users):
        cache.put(f"d{n}", user, cache.generation())

    assert [cache.get(f"d{n}") for n in range(3)] == [None, users[1], users[2]]


def count_token_queries(lastmile: Lastmile) -> list[int]:
    """A one-item list counting SELECTs on the tokens table from now on."""
    seen = [0]

    @event.listens_for(lastmile.records, "before_cursor_execute")
    def count(*args: object) -> None:
        statement = str(args[2])
        if "lastmile_tokens" in statement and statement.lstrip().upper().startswith("SELECT"):
            seen[0] += 1

    return seen
