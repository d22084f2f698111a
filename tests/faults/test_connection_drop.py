"""PostgreSQL drops the connection in the middle of a command: a clean error, nothing half-saved.

The server end of the application's own connection is terminated (pg_terminate_backend from
an admin connection) at the moment the command's transaction reaches one of its steps: the
table lock, the event insert, the chain insert, or COMMIT.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, text

from adapters.bootstrap import Lastmile, bootstrap
from adapters.settings import Settings
from api.app import create_app
from domain.errors import StoreError
from tests.api.conftest import Who, start
from tests.conftest import POSTGRES_ADMIN_URL, ManualClock
from tests.support.scenario import DEPARTMENT_USER, issue_order, register_basics

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(120)]

# Where the connection dies: a prefix of the statement about to run, or COMMIT.
MOMENTS = {
    "lock": "LOCK TABLE lastmile_events",
    "event-insert": "INSERT INTO lastmile_events ",
    "chain-insert": "INSERT INTO lastmile_events_chain",
    "commit": "COMMIT",
}


@pytest.fixture
def pg_settings(postgres_url: str, tmp_path: Any) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path / "var", database_url=postgres_url)  # type: ignore[call-arg]


@pytest.fixture
def system(pg_settings: Settings, clock: ManualClock) -> Iterator[Lastmile]:
    lastmile = bootstrap(pg_settings, clock)
    yield lastmile
    lastmile.close()


def terminate(pid: int) -> None:
    """End a backend from outside and wait until it is gone (PostgreSQL 14+)."""
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,))


@dataclass
class Tripwire:
    """Terminates the application's connection once, when it reaches `moment`."""

    moment: str
    armed: bool = False
    fired: int = 0
    inserted: bool = False  # this transaction inserted events (COMMIT fires only then)

    def before_statement(self, connection: Any, cursor: Any, statement: str, *_: Any) -> None:
        self.inserted = self.inserted or statement.startswith(MOMENTS["event-insert"])
        if self.moment != "COMMIT" and statement.startswith(self.moment):
            self._fire(connection)

    def before_commit(self, connection: Any) -> None:
        if self.moment == "COMMIT" and self.inserted:
            self._fire(connection)
        self.inserted = False

    def _fire(self, connection: Any) -> None:
        if self.armed:
            self.armed, self.fired = False, self.fired + 1
            terminate(connection.connection.dbapi_connection.info.backend_pid)


@pytest.fixture(params=list(MOMENTS))
def tripwire(request: pytest.FixtureRequest) -> Callable[[Engine], Tripwire]:
    def install(engine: Engine) -> Tripwire:
        wire = Tripwire(MOMENTS[request.param])
        event.listen(engine, "before_cursor_execute", wire.before_statement)
        event.listen(engine, "commit", wire.before_commit)
        request.addfinalizer(lambda: _remove(engine, wire))
        return wire

    return install


def _remove(engine: Engine, wire: Tripwire) -> None:
    event.remove(engine, "before_cursor_execute", wire.before_statement)
    event.remove(engine, "commit", wire.before_commit)


def event_store(system: Lastmile) -> Engine:
    engine = system.recorder.datastore.engine
    assert isinstance(engine, Engine)
    return engine


def stored(system: Lastmile) -> tuple[int, int]:
    """(event rows, chain rows): a half-applied save would make them differ."""
    with event_store(system).connect() as connection:
        events = connection.execute(text("SELECT count(*) FROM lastmile_events")).scalar_one()
        links = connection.execute(text("SELECT count(*) FROM lastmile_events_chain")).scalar_one()
    return events, links


def acknowledged_finding(system: Lastmile) -> UUID:
    register_basics(system.app)
    finding = issue_order(system.app, count=1)[0]
    system.app.acknowledge(finding, DEPARTMENT_USER, "张建国", "按月报送")
    return finding


def test_a_command_whose_connection_dies_fails_cleanly_and_the_next_one_works(
    system: Lastmile, tripwire: Callable[[Engine], Tripwire]
) -> None:
    # Given an acknowledged finding and the log's head digest
    finding = acknowledged_finding(system)
    head = system.verify().head_digest
    before = stored(system)
    wire = tripwire(event_store(system))

    # When the server drops the connection at the chosen moment of the next command
    wire.armed = True
    with pytest.raises(StoreError, match="event store failed while"):
        system.app.report_progress(finding, DEPARTMENT_USER, "第一次报送", 30)

    # Then neither the event nor its chain row is stored, and the log is intact
    assert wire.fired == 1
    assert stored(system) == before
    assert system.app.finding(finding).version == 2
    assert system.verify(anchors=[head]).ok

    # And the next command, on a fresh connection, lands with its chain row
    result = system.app.report_progress(finding, DEPARTMENT_USER, "第二次报送", 40)
    assert (result.version, system.app.finding(finding).progress_percent) == (3, 40)
    assert stored(system) == (before[0] + 1, before[1] + 1)
    report = system.verify(anchors=[head])
    assert report.ok, report.problems
    assert report.head_id == result.position


def test_connections_dropped_while_idle_in_the_pool_are_replaced_unnoticed(
    system: Lastmile, postgres_url: str
) -> None:
    # Given a process that has used its pools (event store and records)
    finding = acknowledged_finding(system)
    system.projections.catch_up()

    # When every server connection of the database is terminated (a restart, a failover)
    database = postgres_url.rsplit("/", 1)[1]
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        pids = admin.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s", (database,)
        ).fetchall()
    assert pids
    for (pid,) in pids:
        terminate(pid)

    # Then the very next command, projection and integrity check work (pool_pre_ping)
    result = system.app.report_progress(finding, DEPARTMENT_USER, "服务器重启后", 60)
    assert result.version == 3
    assert system.projections.catch_up() == 1
    assert system.verify().ok


def test_over_http_a_dropped_connection_is_a_503_problem_and_a_retry_succeeds(
    pg_settings: Settings, clock: ManualClock, tripwire: Callable[[Engine], Tripwire]
) -> None:
    app = create_app(pg_settings, clock, project_in_background=False)
    with TestClient(app) as client:
        api = start(client)
        finding = api.finding("acknowledged")
        before = stored(api.system)
        wire = tripwire(event_store(api.system))
        path = f"/api/v1/findings/{finding.id}/progress"
        body = {"note": "已拨付", "percent": 50}
        etag = {"If-Match": f'"{finding.version}"'}

        wire.armed = True
        refused = api.call(Who.SLJ, "POST", path, json=body, headers=etag)

        assert wire.fired == 1
        assert refused.status_code == 503, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.headers["Retry-After"] == "5"
        problem = refused.json()
        assert (problem["status"], problem["code"]) == (503, "store-unavailable")
        expected = "reload to see" if wire.moment == "COMMIT" else "Nothing was saved"
        assert expected in problem["detail"]
        assert stored(api.system) == before

        # The same request again (its If-Match still current: nothing landed) succeeds
        retried = api.call(Who.SLJ, "POST", path, json=body, headers=etag)
        assert retried.status_code == 200, retried.text
        assert retried.headers["ETag"] == f'"{finding.version + 1}"'
        assert int(retried.headers["X-Lastmile-Position"]) == api.system.verify().head_id
        assert api.system.verify().ok


def test_over_http_a_read_whose_connection_dies_is_a_503_problem(
    pg_settings: Settings, clock: ManualClock
) -> None:
    app = create_app(pg_settings, clock, project_in_background=False)
    with TestClient(app) as client:
        api = start(client)
        finding = api.finding("acknowledged")
        engine = event_store(api.system)
        wire = Tripwire("SELECT lastmile_events.")
        event.listen(engine, "before_cursor_execute", wire.before_statement)
        try:
            wire.armed = True
            response = api.call(Who.EVALUATOR, "GET", f"/api/v1/findings/{finding.id}/history")
        finally:
            event.remove(engine, "before_cursor_execute", wire.before_statement)

        assert wire.fired == 1
        assert response.status_code == 503, response.text
        assert response.json()["code"] == "store-unavailable"
        assert "Nothing was saved" not in response.json()["detail"]
        again = api.call(Who.EVALUATOR, "GET", f"/api/v1/findings/{finding.id}/history")
        assert again.status_code == 200
