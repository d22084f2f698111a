"""`lastmile serve` keeps the read models current from a child process, and stops it."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from adapters.settings import Settings
from api import projector
from api.app import create_app
from api.projector import ProcessProjector
from tests.api.conftest import Api, Who, start
from tests.conftest import ManualClock

CATCH_UP_SECONDS = 60.0


@pytest.fixture
def served(settings: Settings, clock: ManualClock) -> Iterator[Api]:
    with TestClient(create_app(settings, clock, projector="process")) as client:
        yield start(client)


def running(api: Api) -> ProcessProjector:
    app = api.client.app
    assert isinstance(app, FastAPI)
    process = app.state.projector
    assert isinstance(process, ProcessProjector)
    return process


def caught_up(api: Api) -> bool:
    """Wait until /healthz shows no lag; whether it did in time."""
    deadline = time.monotonic() + CATCH_UP_SECONDS
    while time.monotonic() < deadline:
        health = api.client.get("/healthz").json()
        if health["lag"] == 0 and health["events"] > 0:
            return True
        time.sleep(0.1)
    return False


def test_the_read_models_are_kept_current_by_a_child_process(served: Api) -> None:
    finding = served.finding("acknowledged")

    assert caught_up(served)
    listed = served.call(Who.SLJ, "GET", "/api/v1/findings").json()
    assert [(r["id"], r["status"]) for r in listed["rows"]] == [(str(finding.id), "acknowledged")]
    assert running(served).process.is_alive()


def test_the_child_stops_with_the_app(settings: Settings, clock: ManualClock) -> None:
    with TestClient(create_app(settings, clock, projector="process")) as client:
        child = running(start(client)).process

    assert not child.is_alive()
    assert child.exitcode == 0  # asked to stop, not killed


def test_a_child_that_dies_is_started_again(served: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(projector, "RETRY_SECONDS", 0.1)
    first = running(served).process
    first.kill()
    first.join()

    deadline = time.monotonic() + CATCH_UP_SECONDS
    while running(served).process is first and time.monotonic() < deadline:
        time.sleep(0.05)
    served.finding()

    assert running(served).process is not first
    assert caught_up(served)
