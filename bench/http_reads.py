"""Read latencies over HTTP on a seeded history: the findings list and the department scorecard.

The store is filled by the projection benchmark's generator (bench.history, through
bench.projections.write_history), or, when both benchmarks run, is the store the projection
benchmark filled and rebuilt. The API is started on it and left to bring its read models up
to the end of the log (its own projection runner, as `lastmile rebuild` would), then each
path is requested one request at a time over a keep-alive connection.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import httpx2
import psycopg

from bench import scenery
from bench.history import Generated, Scale
from bench.http_setup import add_user
from bench.loadgen import Percentiles, sequential
from bench.projections import write_history
from bench.served import Served, add_user_by_cli, serving
from bench.stores import Store

P99_GOAL_MS = 50.0
CATCH_UP_TIMEOUT = 3600.0
LIST = "/api/v1/findings?page=1&size=50"
SCORECARD = "/api/v1/reports/departments?format=json"
Say = Callable[[str], None]
Fill = Callable[[Store], Generated]  # writes a history into the store


@dataclass(frozen=True)
class ReadPlan:
    """How many findings to generate, from which seed, and timed requests per path."""

    findings: int = 100_000
    seed: int = Scale.seed
    runs: int = 100
    warm_up: int = 10


@dataclass(frozen=True)
class ReadsMeasured:
    """The history read, how long its read models took, and the latency per path."""

    findings: int
    events: int
    write_seconds: float
    catch_up_seconds: float
    department: str
    department_findings: int
    dead_rows: int | None  # PostgreSQL: dead row versions in rm_findings when reads began
    latencies: dict[str, Percentiles]

    @property
    def met(self) -> bool:
        return all(latency.p99 < P99_GOAL_MS for latency in self.latencies.values())


def measure_reads(
    store: Store, plan: ReadPlan, say: Say, fill: Fill | None = None
) -> ReadsMeasured:
    """Fill the store (by default with bench.history), serve it, wait, then time each path."""
    generated = fill(store) if fill else write_history(store.settings, _scale(plan), say)
    admin = add_user_by_cli(store.settings, "bench.admin", "admin")
    with serving(store.settings) as served:
        say(f"serving; waiting until its read models hold all {generated.events:,} events")
        caught_up = served.wait_caught_up(CATCH_UP_TIMEOUT, poll=1.0)
        say(f"read models current after {caught_up:.0f} s; timing reads")
        evaluator, department, code = _readers(served, admin)
        dead = dead_rows(store)
        latencies = {
            "list_evaluator": _timed(served, evaluator, LIST, plan),
            "list_department": _timed(served, department, LIST, plan),
            "scorecard": _timed(served, evaluator, SCORECARD, plan),
        }
        total = _total(served, department)
    return ReadsMeasured(
        findings=generated.findings,
        events=generated.events,
        write_seconds=generated.registry_seconds + generated.findings_seconds,
        catch_up_seconds=caught_up,
        department=code,
        department_findings=total,
        dead_rows=dead,
        latencies=latencies,
    )


def dead_rows(store: Store) -> int | None:
    """Dead row versions in rm_findings (PostgreSQL; None on SQLite): a rebuild updates each
    finding's row once per event, and until (auto)vacuum runs, scans read them all."""
    if store.settings.database_url is None:
        return None
    query = "SELECT n_dead_tup FROM pg_stat_user_tables WHERE relname = 'rm_findings'"
    with psycopg.connect(store.settings.database_url) as connection:
        row = connection.execute(query).fetchone()
    return int(row[0]) if row else None


def _scale(plan: ReadPlan) -> Scale:
    return Scale(findings=plan.findings, seed=plan.seed)


def _readers(served: Served, admin: str) -> tuple[str, str, str]:
    """Tokens of an evaluator and of a user of the first generated department, and its code."""
    code = scenery.department_specs(1)[0].code
    with httpx2.Client(base_url=served.base_url, timeout=60) as client:
        evaluator = add_user(client, admin, "bench.pingjia", "evaluator")
        department = add_user(client, admin, "bench.jingban", "department", code)
    return evaluator, department, code


def _timed(served: Served, token: str, path: str, plan: ReadPlan) -> Percentiles:
    with _client(served, token) as client:
        return sequential(client, path, plan.runs, plan.warm_up)


def _total(served: Served, token: str) -> int:
    with _client(served, token) as client:
        total: int = client.get(LIST).json()["total"]
        return total


def _client(served: Served, token: str) -> httpx2.Client:
    headers = {"Authorization": f"Bearer {token}"}
    return httpx2.Client(base_url=served.base_url, headers=headers, timeout=60)
