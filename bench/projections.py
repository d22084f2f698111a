"""Read models at scale on each store: rebuild rate, rebuild memory, report latencies,
integrity verification.

Per store: write a seeded history (bench.history); rebuild every read model from position 0
in a child process whose memory is sampled (bench.rss); verify the whole log's hash chain in
another child, against a plain read of the same rows (bench.verify); time the scorecard and
the ledger's first page, latest and as of the middle of the history (bench.latency); then
time a raw bulk insert of the rows the rebuild produced (bench.bulk) as the rebuild's baseline.
`make bench` runs it at 100,000 findings; `make bench-full` at FULL_FINDINGS, a history of
about 1,000,000 events.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine

from adapters.bootstrap import Lastmile, bootstrap
from adapters.settings import Settings
from bench.bulk import Baseline, bulk_insert_baseline
from bench.commands import STORES, Skipped
from bench.history import Generated, Scale, SimulatedClock, generate
from bench.latency import Latency, measure_reports
from bench.rss import RebuildRun, rebuild_in_child
from bench.stores import Store, StoreUnavailableError
from bench.verify import VerifyRun, verify_in_child

LATENCY_GOAL_MS = 200.0
FULL_FINDINGS = 155_000  # the seeded history then holds about 1,000,000 events (6.46 a finding)
_POSTGRES = ("autovacuum", "shared_buffers", "work_mem", "jit", "max_parallel_workers_per_gather")
_SQLITE = ("journal_mode", "synchronous", "cache_size", "page_size", "temp_store")
SETTINGS = {
    "postgresql": {name: f"SHOW {name}" for name in _POSTGRES},
    "sqlite": {name: f"PRAGMA {name}" for name in _SQLITE},
}
Say = Callable[[str], None]


@dataclass(frozen=True)
class ProjectionPlan:
    """How much history, from which seed, and how many timed runs per report query."""

    findings: int = 100_000
    seed: int = Scale.seed
    query_runs: int = 20

    @property
    def scale(self) -> Scale:
        return Scale(findings=self.findings, seed=self.seed)


@dataclass(frozen=True)
class ProjectionMeasured:
    """One store's figures."""

    store: str
    version: str
    generated: Generated
    rebuild: RebuildRun
    integrity: VerifyRun
    baseline: Baseline
    latencies: dict[str, Latency]
    as_of: datetime
    seconds: float  # the whole store's run, generation included
    database: dict[str, str]  # settings that shape these figures
    load: tuple[float, float]  # 1-minute load average when the store's run began and ended

    @property
    def baseline_events_per_s(self) -> float:
        return self.baseline.events_per_s(self.rebuild.events)

    @property
    def ratio(self) -> float:
        """Rebuild events/s over the bulk insert's events/s equivalent."""
        return self.rebuild.events_per_s / self.baseline_events_per_s


ProjectionOutcome = ProjectionMeasured | Skipped


def measure_all(plan: ProjectionPlan, stores: list[str], say: Say) -> list[ProjectionOutcome]:
    """Measure each named store in turn; an unusable store is skipped, not fatal."""
    return [measure_store(name, STORES[name], plan, say) for name in stores]


def measure_store(
    name: str,
    open_store: Callable[[], AbstractContextManager[Store]],
    plan: ProjectionPlan,
    say: Say,
) -> ProjectionOutcome:
    try:
        with open_store() as store:
            return measure(store, plan, _prefixed(name, say))
    except StoreUnavailableError as error:
        say(f"[{name}] skipped: {error}")
        return Skipped(name, str(error))


def measure(store: Store, plan: ProjectionPlan, say: Say) -> ProjectionMeasured:
    started, load = time.perf_counter(), os.getloadavg()[0]
    generated = write_history(store.settings, plan.scale, say)
    say(f"rebuilding {generated.events:,} events in a child process")
    rebuild = rebuild_in_child(store.settings, store.name)
    say(f"rebuilt at {rebuild.events_per_s:,.0f} events/s; verifying the log")
    integrity = verify_in_child(store.settings, store.name)
    say(f"verified at {integrity.events_per_s:,.0f} events/s; timing the reports")
    with system(store.settings) as lastmile:
        database = database_facts(lastmile.records)
        latencies = measure_reports(lastmile.read_models, generated.middle, plan.query_runs)
        say("timing the bulk-insert baseline")
        window = store.settings.projection_batch_size
        baseline = bulk_insert_baseline(lastmile.records, window, rebuild.position)
    return ProjectionMeasured(
        store=store.name,
        version=store.version,
        generated=generated,
        rebuild=rebuild,
        integrity=integrity,
        baseline=baseline,
        latencies=latencies,
        as_of=generated.middle,
        seconds=time.perf_counter() - started,
        database=database,
        load=(load, os.getloadavg()[0]),
    )


def write_history(settings: Settings, scale: Scale, say: Say) -> Generated:
    """The seeded history, written through an application whose clock the generator sets."""
    clock = SimulatedClock()
    with system(settings, clock) as lastmile:
        generated = generate(lastmile.app, clock, scale, say)
    total = generated.registry_seconds + generated.findings_seconds
    say(f"wrote {generated.events:,} events for {generated.findings:,} findings in {total:.0f} s")
    return generated


def database_facts(engine: Engine) -> dict[str, str]:
    """The server or file settings that most affect these figures, as the read models see them."""
    names = SETTINGS[engine.dialect.name]
    with engine.connect() as connection:
        return {name: str(connection.exec_driver_sql(names[name]).scalar()) for name in names}


@contextmanager
def system(settings: Settings, clock: SimulatedClock | None = None) -> Iterator[Lastmile]:
    lastmile = bootstrap(settings, clock) if clock else bootstrap(settings)
    try:
        yield lastmile
    finally:
        lastmile.close()


def _prefixed(name: str, say: Say) -> Say:
    return lambda line: say(f"[{name}] {line}")
