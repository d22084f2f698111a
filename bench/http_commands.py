"""Progress reports over HTTP against the same command through the application, round by round.

The API runs in a process of its own (bench.served) on one fresh store; concurrent keep-alive
clients (bench.loadgen, in this process) POST /api/v1/findings/{id}/progress round-robin over
acknowledged findings. The baseline is bench.workloads' `report_progress` through
LastmileApplication in this process, single-threaded, on a second fresh store of the same
kind. Rounds alternate (the order flips each round) so noise falls on both; between rounds the
server's read models are let catch up, untimed, so its projection work does not spill into
the next round.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from bench.http_setup import Desk, prepare_findings
from bench.loadgen import Burst, Call, Client, LoadGenerator, Percentiles
from bench.served import Served, add_user_by_cli, serving
from bench.stores import Store
from bench.timing import Rates, rate
from bench.workloads import NOTE, LastmileWorkload, open_lastmile

RATIO_GOAL = 0.5
Say = Callable[[str], None]


@dataclass(frozen=True)
class CommandPlan:
    """Findings to report on, requests (and commands) per round, rounds, concurrent clients."""

    findings: int = 200
    requests: int = 1000
    rounds: int = 5
    workers: int = 16


@dataclass(frozen=True)
class CommandsMeasured:
    """Both rates per round, and the latencies of every timed HTTP request."""

    http: Rates
    app: Rates
    latency: Percentiles
    unexpected: dict[int, int]  # status -> count, for answers other than 200
    # Untimed: how long the server's read models took after each HTTP round to hold every
    # event, so a rate bought by leaving projection work behind would show here.
    catch_up_seconds: tuple[float, ...] = ()

    @property
    def ratio(self) -> float:
        """HTTP commands/s over application commands/s, medians over the rounds."""
        return self.http.median / self.app.median

    @property
    def met(self) -> bool:
        return self.ratio >= RATIO_GOAL and not self.unexpected


class HttpProgress:
    """Progress reports over HTTP, round-robin over the desk's findings."""

    def __init__(self, served: Served, desk: Desk, workers: int) -> None:
        self.served = served
        self.load = LoadGenerator(served.base_url, desk.department_token, workers)
        self.findings = desk.findings
        self.done = 0

    def run(self, n: int) -> Burst:
        burst = self.load.burst(n, self._call(self.done))
        self.done += n
        return burst

    def _call(self, offset: int) -> Call:
        findings = self.findings

        def call(client: Client, i: int) -> int:
            n = offset + i
            path = f"/api/v1/findings/{findings[n % len(findings)]}/progress"
            return client.post(path, {"note": NOTE, "percent": n % 101})

        return call


def measure_commands(
    served_store: Store, app_store: Store, plan: CommandPlan, say: Say
) -> CommandsMeasured:
    """Set up both stores alike, warm both up (one report per finding), then alternate rounds."""
    admin = add_user_by_cli(served_store.settings, "bench.admin", "admin")
    with serving(served_store.settings) as served:
        desk = prepare_findings(served.base_url, admin, plan.findings)
        http = HttpProgress(served, desk, plan.workers)
        app = open_lastmile(app_store.settings, plan.findings)
        try:
            http.run(plan.findings)
            served.wait_caught_up(timeout=600)
            say(f"set up {plan.findings} findings on each store; timing {plan.rounds} rounds")
            return alternate(http, app, plan)
        finally:
            http.load.close()
            app.close()


def alternate(http: HttpProgress, app: LastmileWorkload, plan: CommandPlan) -> CommandsMeasured:
    """`plan.requests` commands each way per round; HTTP first in even rounds, last in odd."""
    rounds: list[tuple[Burst, float]] = []
    app_rates: list[float] = []
    for round_number in range(plan.rounds):
        http_first = round_number % 2 == 0
        if http_first:
            rounds.append(_http_round(http, plan))
        app_rates.append(rate(app, plan.requests))
        if not http_first:
            rounds.append(_http_round(http, plan))
    return _measured(rounds, app_rates)


def _http_round(http: HttpProgress, plan: CommandPlan) -> tuple[Burst, float]:
    """The timed burst, then (untimed) the seconds until the read models hold it all."""
    burst = http.run(plan.requests)
    return burst, http.served.wait_caught_up(timeout=600, poll=0.02)


def _measured(rounds: list[tuple[Burst, float]], app_rates: list[float]) -> CommandsMeasured:
    bursts = [burst for burst, _ in rounds]
    unexpected: Counter[int] = Counter()
    for burst in bursts:
        unexpected.update(burst.unexpected)
    latencies = [ms for burst in bursts for ms in burst.latencies_ms]
    return CommandsMeasured(
        http=Rates(tuple(burst.per_s for burst in bursts)),
        app=Rates(tuple(app_rates)),
        latency=Percentiles.of(latencies),
        unexpected=dict(unexpected),
        catch_up_seconds=tuple(seconds for _, seconds in rounds),
    )
