"""A loopback load generator: worker threads, each with its own keep-alive HTTP connection.

The clients are the standard library's `http.client`: on this machine the load generator
shares the CPUs with the server it measures, and httpx spent about four times the CPU per
request (0.9 ms) on work a real client does on a machine of its own.
"""

from __future__ import annotations

import http.client
import itertools
import json
import statistics
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx2


class Client:
    """One persistent HTTP/1.1 connection sending JSON as one user (reconnects if closed)."""

    def __init__(self, base_url: str, token: str, timeout: float = 60) -> None:
        where = urlsplit(base_url)
        self.connection = http.client.HTTPConnection(where.hostname or "", where.port, timeout)
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def post(self, path: str, body: Any) -> int:
        """POST body as JSON; the answer's status, its body read (and dropped)."""
        self.connection.request("POST", path, json.dumps(body).encode(), self.headers)
        answer = self.connection.getresponse()
        answer.read()
        return answer.status

    def close(self) -> None:
        self.connection.close()


# Sends request number i with the worker's client; the answer's status.
Call = Callable[[Client, int], int]


@dataclass(frozen=True)
class Percentiles:
    """Latency percentiles in milliseconds, and how many requests they summarise."""

    p50: float
    p95: float
    p99: float
    count: int

    @classmethod
    def of(cls, runs_ms: Sequence[float]) -> Percentiles:
        if len(runs_ms) < 2:
            only = runs_ms[0] if runs_ms else float("nan")
            return cls(only, only, only, len(runs_ms))
        cuts = statistics.quantiles(runs_ms, n=100, method="inclusive")
        return cls(cuts[49], cuts[94], cuts[98], len(runs_ms))


@dataclass(frozen=True)
class Burst:
    """n requests sent by every worker together: the wall time, each latency, odd statuses."""

    seconds: float
    latencies_ms: tuple[float, ...]
    unexpected: dict[int, int]

    @property
    def per_s(self) -> float:
        return len(self.latencies_ms) / self.seconds


@dataclass
class _Worker:
    client: Client
    latencies_ms: list[float] = field(default_factory=list)
    unexpected: Counter[int] = field(default_factory=Counter)
    error: BaseException | None = None

    def drive(self, call: Call, numbers: Iterator[int], n: int, start: threading.Barrier) -> None:
        start.wait()
        try:
            for i in numbers:  # shared by every worker: each number is taken once
                if i >= n:
                    return
                self._send(call, i)
        except BaseException as error:  # reported by the main thread, which re-raises it
            self.error = error

    def _send(self, call: Call, i: int) -> None:
        started = time.perf_counter()
        status = call(self.client, i)
        self.latencies_ms.append((time.perf_counter() - started) * 1000)
        if status != 200:
            self.unexpected[status] += 1


class LoadGenerator:
    """`workers` threads, one persistent keep-alive client each, sharing one request counter."""

    def __init__(self, base_url: str, token: str, workers: int) -> None:
        self.clients = [Client(base_url, token) for _ in range(workers)]

    def burst(self, n: int, call: Call) -> Burst:
        """Send requests 0..n-1 over every worker at once; wall time from start to last answer."""
        for client in self.clients:  # idle since the last burst: the server may have closed
            client.close()  # its end; http.client reconnects on the first request
        workers = [_Worker(client) for client in self.clients]
        numbers, start = itertools.count(), threading.Barrier(len(workers) + 1)
        threads = [
            threading.Thread(target=w.drive, args=(call, numbers, n, start), daemon=True)
            for w in workers
        ]
        for thread in threads:
            thread.start()
        start.wait()
        started = time.perf_counter()
        for thread in threads:
            thread.join()
        seconds = time.perf_counter() - started
        return _gathered(workers, seconds)

    def close(self) -> None:
        for client in self.clients:
            client.close()


def _gathered(workers: list[_Worker], seconds: float) -> Burst:
    for worker in workers:
        if worker.error is not None:
            raise worker.error
    unexpected: Counter[int] = Counter()
    for worker in workers:
        unexpected.update(worker.unexpected)
    latencies = tuple(ms for worker in workers for ms in worker.latencies_ms)
    return Burst(seconds, latencies, dict(unexpected))


def sequential(client: httpx2.Client, path: str, runs: int, warm_up: int) -> Percentiles:
    """GET path `warm_up` times untimed, then `runs` times one after another; 200 expected."""
    for _ in range(warm_up):
        _get(client, path)
    figures = []
    for _ in range(runs):
        started = time.perf_counter()
        _get(client, path)
        figures.append((time.perf_counter() - started) * 1000)
    return Percentiles.of(figures)


def _get(client: httpx2.Client, path: str) -> None:
    answer = client.get(path)
    if answer.status_code != 200:
        raise RuntimeError(f"GET {path}: {answer.status_code} {answer.text[:300]}")
