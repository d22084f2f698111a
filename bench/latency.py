"""Report latencies: the scorecard and the ledger's first page, latest and as of a past moment."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from adapters.projections.queries import ReadModels

WARM_UP = 2
BUDGET_SECONDS = 30.0  # per query: a slow one stops early rather than stall the run
MIN_RUNS = 5


@dataclass(frozen=True)
class Latency:
    """Milliseconds per run, after the warm-up."""

    runs_ms: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.runs_ms)

    @property
    def p95(self) -> float:
        if len(self.runs_ms) < 2:
            return self.runs_ms[0]
        return statistics.quantiles(self.runs_ms, n=20, method="inclusive")[-1]


def timed(call: Callable[[], object], runs: int) -> Latency:
    """Warm up, then time up to `runs` calls (fewer, but at least MIN_RUNS, if they are slow)."""
    for _ in range(WARM_UP):
        call()
    figures: list[float] = []
    spent = 0.0
    while len(figures) < runs and (spent < BUDGET_SECONDS or len(figures) < MIN_RUNS):
        started = time.perf_counter()
        call()
        elapsed = time.perf_counter() - started
        figures.append(elapsed * 1000)
        spent += elapsed
    return Latency(tuple(figures))


def measure_reports(read_models: ReadModels, as_of: datetime, runs: int) -> dict[str, Latency]:
    """(c) latest scorecard and ledger page 1; (d) the scorecard (and page 1) as of `as_of`."""
    latest = read_models.moment(datetime.now(UTC))
    past = read_models.moment(as_of)
    if past.latest:
        raise ValueError(f"{as_of.isoformat()} is not inside the history; pick an earlier moment")
    return {
        "moment": timed(lambda: read_models.moment(datetime.now(UTC)), runs),
        "scorecard": timed(lambda: read_models.scorecard(latest), runs),
        "ledger_page_1": timed(lambda: read_models.ledger(latest, page=1, size=50), runs),
        "scorecard_as_of": timed(lambda: read_models.scorecard(past), runs),
        "ledger_page_1_as_of": timed(lambda: read_models.ledger(past, page=1, size=50), runs),
    }
