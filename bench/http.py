"""The HTTP API on each store: commands/s and latency against the application, read latency.

Per store: (1) progress reports over HTTP against `report_progress` through the application,
in alternating rounds, each on a fresh store of its own (bench.http_commands); (2) the
findings list and the department scorecard over HTTP on a seeded history of `findings`
findings (bench.http_reads). Goals (issue 4): HTTP ≥ 0.5 of the application's rate;
p99 of reads under 50 ms.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bench.commands import STORES, Skipped
from bench.http_commands import CommandPlan, CommandsMeasured, measure_commands
from bench.http_reads import ReadPlan, ReadsMeasured, measure_reads
from bench.stores import StoreUnavailableError

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


HttpOutcome = HttpMeasured | Skipped


def measure_all(plan: HttpPlan, stores: list[str], say: Say) -> list[HttpOutcome]:
    """Measure each named store in turn; an unusable store is skipped, not fatal."""
    return [measure_store(name, plan, _prefixed(name, say)) for name in stores]


def measure_store(name: str, plan: HttpPlan, say: Say) -> HttpOutcome:
    open_store = STORES[name]
    started = time.perf_counter()
    try:
        with open_store() as served_store, open_store() as app_store:
            commands = measure_commands(served_store, app_store, plan.commands, say)
            version = served_store.version
        say(f"HTTP {commands.http.median:,.0f} cmd/s, application {commands.app.median:,.0f}")
        with open_store() as store:
            reads = measure_reads(store, plan.reads, say)
    except StoreUnavailableError as error:
        say(f"skipped: {error}")
        return Skipped(name, str(error))
    return HttpMeasured(name, version, commands, reads, time.perf_counter() - started)


def _prefixed(name: str, say: Say) -> Say:
    return lambda line: say(f"[http {name}] {line}")
