"""Commands/s through Lastmile on each store, as a ratio to raw `eventsourcing` saves.

Each Lastmile command takes the finding (from the process's recently-saved cache, as a
long-running API process would; a stale copy only costs a retry), checks its guards, saves
one event and extends the integrity chain in the same transaction. The baseline saves an
event of the same stored size on an aggregate held in memory, through the same persistence
module on the same database.
A reference workload, the same save after `repository.get()`, shows what reloading alone costs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass

from bench.baseline import close_baseline, open_baseline
from bench.stores import Store, StoreUnavailableError, postgres_store, sqlite_store
from bench.timing import Rates, alternate
from bench.workloads import Workload, open_lastmile, open_raw

GOAL = 0.70
STORES: dict[str, Callable[[], AbstractContextManager[Store]]] = {
    "sqlite": sqlite_store,
    "postgresql": postgres_store,
}


@dataclass(frozen=True)
class Plan:
    """How much to measure: aggregates per workload, writes per round, rounds."""

    aggregates: int = 200
    writes: int = 300
    rounds: int = 7


@dataclass(frozen=True)
class Measured:
    """One store's figures; ratios compare medians over the rounds."""

    store: str
    version: str
    lastmile: Rates
    raw: Rates
    raw_get_save: Rates
    lastmile_event_bytes: int
    raw_event_bytes: int

    @property
    def ratio(self) -> float:
        """Lastmile commands per raw save: the goal's measure."""
        return self.lastmile.median / self.raw.median

    @property
    def ratio_to_get_save(self) -> float:
        """Lastmile commands per raw get-and-save (a command that always reloads)."""
        return self.lastmile.median / self.raw_get_save.median

    @property
    def met(self) -> bool:
        return self.ratio >= GOAL


@dataclass(frozen=True)
class Skipped:
    """A store that could not be measured here, and why."""

    store: str
    reason: str


Outcome = Measured | Skipped


def measure_all(plan: Plan, stores: list[str]) -> list[Outcome]:
    """Measure each named store in turn; an unusable store is skipped, not fatal."""
    return [measure_store(name, STORES[name], plan) for name in stores]


def measure_store(
    name: str, open_store: Callable[[], AbstractContextManager[Store]], plan: Plan
) -> Outcome:
    try:
        with open_store() as store:
            return measure(store, plan)
    except StoreUnavailableError as error:
        return Skipped(name, str(error))


def measure(store: Store, plan: Plan) -> Measured:
    """Warm the workloads up (one write per aggregate), then time them in alternating rounds."""
    with workloads(store, plan) as named:
        rates = alternate(named, plan.writes, plan.rounds)
        return Measured(
            store=store.name,
            version=store.version,
            lastmile=rates["lastmile"],
            raw=rates["raw"],
            raw_get_save=rates["raw_get_save"],
            lastmile_event_bytes=named["lastmile"].stored_event_size(),
            raw_event_bytes=named["raw"].stored_event_size(),
        )


@contextmanager
def workloads(store: Store, plan: Plan) -> Iterator[dict[str, Workload]]:
    """Lastmile and the baseline on the same database, each over its own aggregates."""
    with ExitStack() as stack:
        lastmile = open_lastmile(store.settings, plan.aggregates)
        stack.callback(lastmile.close)
        baseline = open_baseline(store.settings.sqlalchemy_url)
        stack.callback(close_baseline, baseline)
        size = lastmile.stored_event_size()
        yield {
            "lastmile": lastmile,
            "raw": open_raw(baseline, plan.aggregates, size, reload=False),
            "raw_get_save": open_raw(baseline, plan.aggregates, size, reload=True),
        }
