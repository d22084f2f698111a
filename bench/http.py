"""The HTTP API on each store: commands/s and latency against the application, read latency.

Per store: (1) progress reports over HTTP against `report_progress` through the application,
in alternating rounds, each on a fresh store of its own (bench.http_commands); (2) the
findings list and the department scorecard over HTTP on a seeded history of `findings`
findings (bench.http_reads). Goals (issue 4): HTTP ≥ 0.5 of the application's rate;
p99 of reads under 50 ms.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bench import projections
from bench.commands import STORES, Skipped
from bench.history import Generated
from bench.http_commands import CommandPlan, CommandsMeasured, measure_commands
from bench.http_reads import Fill, ReadPlan, ReadsMeasured, measure_reads
from bench.projections import ProjectionOutcome, ProjectionPlan
from bench.stores import Store, StoreUnavailableError

Say = Callable[[str], None]


@dataclass(frozen=True)
class HttpPlan:
    """What the commands part and the reads part each do."""

    commands: CommandPlan = field(default_factory=CommandPlan)
    reads: ReadPlan = field(default_factory=ReadPlan)


@dataclass(frozen=True)
class HttpMeasured:
    """One store's figures."""

    store: str
    version: str
    commands: CommandsMeasured
    reads: ReadsMeasured
    seconds: float
    load: tuple[float, float]  # 1-minute load average at the start and at the end


HttpOutcome = HttpMeasured | Skipped


def measure_all(plan: HttpPlan, stores: list[str], say: Say) -> list[HttpOutcome]:
    """Measure each named store in turn; an unusable store is skipped, not fatal."""
    return [measure_store(name, plan, prefixed(name, say)) for name in stores]


def measure_with_projections(
    plan: HttpPlan, projection_plan: ProjectionPlan, stores: list[str], say: Say
) -> tuple[list[ProjectionOutcome], list[HttpOutcome]]:
    """The projection and HTTP benchmarks per store, on one history per store.

    The projection benchmark writes and rebuilds the history; the HTTP reads are then timed
    on that same store, so `make bench` writes each history once, not twice.
    """
    projected: list[ProjectionOutcome] = []
    served: list[HttpOutcome] = []
    for name in stores:
        before = len(projected)
        outcome = measure_store(
            name, plan, prefixed(name, say), _projection_fill(name, projection_plan, say, projected)
        )
        served.append(outcome)
        if isinstance(outcome, Skipped) and len(projected) == before:
            projected.append(outcome)
    return projected, served


def _projection_fill(
    name: str, plan: ProjectionPlan, say: Say, into: list[ProjectionOutcome]
) -> Fill:
    def fill(store: Store) -> Generated:
        measured = projections.measure(store, plan, lambda line: say(f"[{name}] {line}"))
        into.append(measured)
        return measured.generated

    return fill


def prefixed(name: str, say: Say) -> Say:
    return lambda line: say(f"[http {name}] {line}")


def measure_store(name: str, plan: HttpPlan, say: Say, fill: Fill | None = None) -> HttpOutcome:
    """Commands on two fresh stores, then reads on a third, filled by `fill` if given."""
    open_store = STORES[name]
    started, load = time.perf_counter(), os.getloadavg()[0]
    try:
        with open_store() as served_store, open_store() as app_store:
            commands = measure_commands(served_store, app_store, plan.commands, say)
            version = served_store.version
        say(f"HTTP {commands.http.median:,.0f} cmd/s, application {commands.app.median:,.0f}")
        with open_store() as store:
            reads = measure_reads(store, plan.reads, say, fill)
    except StoreUnavailableError as error:
        say(f"skipped: {error}")
        return Skipped(name, str(error))
    seconds = time.perf_counter() - started
    return HttpMeasured(name, version, commands, reads, seconds, (load, os.getloadavg()[0]))
