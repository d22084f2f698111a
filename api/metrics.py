"""Request counts and latencies in the Prometheus text format, per route template."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from fastapi import FastAPI
from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send


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
    app.add_middleware(MetricsMiddleware, metrics=metrics)


class MetricsMiddleware:
    """Counts and times every HTTP request, as plain ASGI.

    Starlette's `@app.middleware("http")` runs the app in a task of its own and streams the
    answer through it, which cost more per request than everything here.
    """

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, status = time.perf_counter(), 500  # 500 unless the app answers otherwise

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            self._observe(scope, status, time.perf_counter() - started)

    def _observe(self, scope: Scope, status: int, seconds: float) -> None:
        method, route = scope["method"], _route_template(scope)
        self.metrics.requests.labels(method, route, str(status)).inc()
        self.metrics.latency.labels(method, route).observe(seconds)


def _route_template(scope: Scope) -> str:
    # Templates, not raw paths: ids in paths would make one time series per finding.
    # The router leaves the matched route in the scope, so nothing is matched twice.
    return str(getattr(scope.get("route"), "path", "unmatched"))


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
