"""Timing in alternating rounds, so machine noise falls on both workloads alike."""

from __future__ import annotations

import statistics
import time
from collections.abc import Mapping
from dataclasses import dataclass

from bench.workloads import Workload


@dataclass(frozen=True)
class Rates:
    """Writes per second of one workload, one figure per round."""

    per_round: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.per_round)


def rate(workload: Workload, n: int) -> float:
    """Writes per second over n writes."""
    started = time.perf_counter()
    workload.run(n)
    return n / (time.perf_counter() - started)


def alternate(workloads: Mapping[str, Workload], n: int, rounds: int) -> dict[str, Rates]:
    """Time n writes of each workload per round; the order flips every round."""
    names = list(workloads)
    figures: dict[str, list[float]] = {name: [] for name in names}
    for round_number in range(rounds):
        order = names if round_number % 2 == 0 else names[::-1]
        for name in order:
            figures[name].append(rate(workloads[name], n))
    return {name: Rates(tuple(values)) for name, values in figures.items()}
