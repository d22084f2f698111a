"""Request counts and latencies in the Prometheus text format, per route template."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from fastapi import FastAPI, Request, Response
from prometheus_client import CollectorRegistry, Counter, Histogram


class Metrics:
    """One registry per app, so several apps in one process (tests) never share counters."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "lastmile_http_requests",
            "HTTP requests answered",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "lastmile_http_request_seconds",
            "Time to answer",
            ["method", "route"],
            registry=self.registry,
        )


def install_metrics(app: FastAPI) -> None:
    metrics = Metrics()
    app.state.metrics = metrics

    @app.middleware("http")
    async def measure(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        route = _route_template(request)
        metrics.requests.labels(request.method, route, str(response.status_code)).inc()
        metrics.latency.labels(request.method, route).observe(time.perf_counter() - started)
        return response


def _route_template(request: Request) -> str:
    # Templates, not raw paths: ids in paths would make one time series per finding.
    # The router leaves the matched route in the scope, so nothing is matched twice.
    route = request.scope.get("route")
    return str(getattr(route, "path", "unmatched"))


def gauges(events: int, projected: int, worker: dict[str, Any], mail: dict[str, Any] | None) -> str:
    """The log, read-model lag, the worker's heartbeat and the outbox, as gauges."""
    values: list[tuple[str, str, float | None]] = [
        ("lastmile_events", "Events in the log.", events),
        ("lastmile_read_model_lag", "Events not yet in the read models.", events - projected),
        ("lastmile_worker_up", "1 when the worker's heartbeat and scan are recent.",
         1 if worker["status"] == "ok" else 0),
        ("lastmile_worker_heartbeat_age_seconds", "Seconds since the worker's last heartbeat.",
         worker.get("heartbeat_age_seconds")),
        ("lastmile_worker_last_scan_timestamp_seconds", "When the last ladder scan was as of.",
         _timestamp(worker.get("last_scan_at"))),
        ("lastmile_worker_last_scan_duration_seconds", "How long the last ladder scan took.",
         worker.get("last_scan_seconds")),
        ("lastmile_worker_last_scan_events", "Events the last ladder scan recorded.",
         worker.get("last_scan_events")),
    ]  # fmt: skip
    if mail is not None:
        values += [
            ("lastmile_mail_pending", "Mail waiting to be sent.", mail["pending"]),
            ("lastmile_mail_failed", "Mail given up on.", mail["failed"]),
            ("lastmile_mail_oldest_pending_seconds", "Age of the oldest mail waiting.",
             mail["oldest_pending_seconds"]),
        ]  # fmt: skip
    return "".join(
        f"# HELP {name} {text}\n# TYPE {name} gauge\n{name} {value}\n"
        for name, text, value in values
        if value is not None
    )


def _timestamp(value: Any) -> float | None:
    return datetime.fromisoformat(value).timestamp() if isinstance(value, str) else None
