"""Several `lastmile serve` processes on one store, many clients writing the same findings.

Every write answered 2xx must be in the log at the version and position it was answered
with; every refusal must be a clean problem (409 busy, 412 stale, 503 unavailable); the read
models, projected by all processes at once, must equal a rebuild; the chain must verify.
"""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from adapters.bootstrap import Lastmile, bootstrap
from adapters.projections.tables import findings as rm_findings
from adapters.settings import Settings
from api.cli import cli
from domain.values import Role
from tests.adapters.test_projection_runner import dump
from tests.faults.processes import Server, lastmile_env
from tests.support.scenario import DEPARTMENT_USER, issue_order, register_basics

CLEAN_REFUSALS = {409, 412, 503}
FINDINGS = 5


@dataclass(frozen=True)
class Load:
    servers: int
    clients: int
    seconds: float


@dataclass(frozen=True)
class Acknowledged:
    """A write answered 2xx: where the server said it put it."""

    finding: str
    version: int
    position: int
    note: str


@dataclass
class Tally:
    lock: threading.Lock = field(default_factory=threading.Lock)
    acknowledged: list[Acknowledged] = field(default_factory=list)
    refusals: dict[int, int] = field(default_factory=dict)
    replays: int = 0
    unclean: list[str] = field(default_factory=list)

    def refused(self, response: httpx2.Response) -> None:
        problem = _problem(response)
        with self.lock:
            self.refusals[response.status_code] = self.refusals.get(response.status_code, 0) + 1
            if problem is not None:
                self.unclean.append(problem)


def _problem(response: httpx2.Response) -> str | None:
    """None when the refusal is a clean problem; else what is wrong with it."""
    if response.status_code not in CLEAN_REFUSALS:
        return f"{response.status_code}: {response.text[:300]}"
    if response.headers.get("content-type") != "application/problem+json":
        return f"{response.status_code} is not a problem: {response.text[:300]}"
    body = response.json()
    if body.get("status") != response.status_code or not body.get("detail") or not body.get("code"):
        return f"{response.status_code} problem lacks status, code or detail: {body}"
    return None


Store = tuple[Lastmile, list[str], list[str]]


@contextmanager
def made_store(settings: Settings) -> Iterator[Store]:
    """Five acknowledged findings of one department, and tokens of two of its users."""
    system = bootstrap(settings)
    register_basics(system.app)
    findings = issue_order(system.app, count=FINDINGS)
    for finding in findings:
        system.app.acknowledge(finding, DEPARTMENT_USER, "张建国", "按月报送")
    tokens = [system.users.add(f"slj.{n}", Role.DEPARTMENT, "SLJ").token for n in range(2)]
    yield system, [str(f) for f in findings], tokens
    system.close()


def run_load(settings: Settings, tmp_path: Path, store: Store, load: Load) -> None:
    system, findings, tokens = store
    env = lastmile_env(settings)
    servers = [Server(env, tmp_path / f"serve-{n}.log") for n in range(load.servers)]
    tally = Tally()
    started = time.monotonic()
    try:
        for server in servers:
            server.wait_ready()
            _warm_up(server.url, tokens[0], findings[0])
        ready = time.monotonic()
        deadline = time.monotonic() + load.seconds
        clients = [
            threading.Thread(
                target=_client,
                args=(servers[n % len(servers)].url, tokens[n % 2], findings, deadline, tally, n),
            )
            for n in range(load.clients)
        ]
        for client in clients:
            client.start()
        for client in clients:
            client.join(timeout=load.seconds + 120)
        assert not any(c.is_alive() for c in clients), "a client hung"
    finally:
        for server in servers:
            server.stop()
    print(  # shown with -s: what the load did
        f"{load}: ready in {ready - started:.1f}s, {len(tally.acknowledged)} writes acknowledged, "
        f"refusals {tally.refusals}, {tally.replays} replays checked"
    )

    # Every refusal was a clean problem, and writes did land
    assert tally.unclean == [], tally.unclean[:5]
    assert len(tally.acknowledged) > load.clients, (len(tally.acknowledged), tally.refusals)
    _assert_every_acknowledged_write_is_in_the_log(system, tally.acknowledged)

    # The read models, raced by every process, equal a rebuild from the log
    system.projections.catch_up()
    raced = dump(system)
    system.projections.rebuild()
    assert dump(system) == raced
    _assert_the_ledger_holds_the_last_versions(system, findings)

    verified = CliRunner().invoke(cli, ["verify"], env=env)
    assert verified.exit_code == 0, verified.output


def _warm_up(url: str, token: str, finding: str) -> None:
    """One read per server first, so the load measures writes, not a cold start."""
    headers = {"Authorization": f"Bearer {token}"}
    response = httpx2.get(f"{url}/api/v1/findings/{finding}", headers=headers, timeout=60)
    assert response.status_code == 200, response.text


def _client(
    url: str, token: str, findings: list[str], deadline: float, tally: Tally, seed: int
) -> None:
    rng = random.Random(seed)
    headers = {"Authorization": f"Bearer {token}"}
    seen: dict[str, int] = {}  # the last version this client saw of each finding
    with httpx2.Client(base_url=url, headers=headers, timeout=60) as http:
        n = 0
        while time.monotonic() < deadline:
            n += 1
            finding = rng.choice(findings)
            note = f"client {seed} write {n} {uuid.uuid4().hex[:8]}"
            extra: dict[str, str] = {}
            roll = rng.random()
            if roll < 0.3 and finding in seen:
                extra["If-Match"] = f'"{seen[finding]}"'  # often stale by now: 412
            elif roll < 0.45:
                extra["Idempotency-Key"] = note
            path = f"/api/v1/findings/{finding}/progress"
            body = {"note": note, "percent": rng.randint(1, 99)}
            response = http.post(path, json=body, headers=extra)
            _record(tally, seen, finding, note, response)
            if "Idempotency-Key" in extra:
                _check_replay(http, tally, path, body, extra, response)


def _record(
    tally: Tally, seen: dict[str, int], finding: str, note: str, response: httpx2.Response
) -> None:
    if not response.is_success:
        tally.refused(response)
        return
    version = int(response.headers["ETag"].strip('"'))
    seen[finding] = version
    written = Acknowledged(finding, version, int(response.headers["X-Lastmile-Position"]), note)
    with tally.lock:
        tally.acknowledged.append(written)


def _check_replay(
    http: httpx2.Client,
    tally: Tally,
    path: str,
    body: dict[str, Any],
    headers: dict[str, str],
    first: httpx2.Response,
) -> None:
    """The same request with the same key gets the first answer again, and records nothing."""
    again = http.post(path, json=body, headers=headers)
    problem = None
    if first.status_code == 503:
        return  # the first run was released: a retry may run for real
    if again.status_code != first.status_code or again.headers.get("ETag") != first.headers.get(
        "ETag"
    ):
        problem = f"replay answered {again.status_code} {again.headers.get('ETag')}"
    elif again.headers.get("Idempotent-Replay") != "true":
        problem = f"replay not marked as one: {dict(again.headers)}"
    with tally.lock:
        tally.replays += 1
        if problem:
            tally.unclean.append(problem)


def _assert_every_acknowledged_write_is_in_the_log(
    system: Lastmile, acknowledged: list[Acknowledged]
) -> None:
    head = system.app.recorder.max_notification_id() or 0
    log = {n.id: n for n in system.app.recorder.select_notifications(start=1, limit=head + 1)}
    answered: set[tuple[str, int]] = set()
    for write in acknowledged:
        stored = log.get(write.position)
        assert stored is not None, f"{write} is not in the log"
        assert (str(stored.originator_id), stored.originator_version) == (
            write.finding,
            write.version,
        ), write
        assert json.loads(stored.state)["note"] == write.note, write
        assert (write.finding, write.version) not in answered, f"two answers claim {write}"
        answered.add((write.finding, write.version))


def _assert_the_ledger_holds_the_last_versions(system: Lastmile, findings: list[str]) -> None:
    with system.records.connect() as connection:
        rows = connection.execute(select(rm_findings.c.id, rm_findings.c.version)).all()
    versions = {str(row.id): int(row.version) for row in rows}
    for finding in findings:
        assert versions[finding] == system.app.finding(uuid.UUID(finding)).version


@pytest.mark.postgres
@pytest.mark.timeout(240)
def test_api_processes_lose_no_acknowledged_write_in_five_seconds(
    postgres_url: str, tmp_path: Path
) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path / "var", database_url=postgres_url)  # type: ignore[call-arg]
    with made_store(settings) as made:
        # Small enough for `make test` on a busy two-core machine; the slow test goes wider
        run_load(settings, tmp_path, made, Load(servers=2, clients=10, seconds=5))


@pytest.mark.slow
@pytest.mark.timeout(420)
def test_api_processes_lose_no_acknowledged_write_in_thirty_seconds(
    settings: Settings, tmp_path: Path
) -> None:
    # SQLite takes one writer at a time across processes: 4 × 20 works, but is less telling
    with made_store(settings) as made:
        run_load(settings, tmp_path, made, Load(servers=4, clients=20, seconds=30))
