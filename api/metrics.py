"""Request counts and latencies in the Prometheus text format, per route template."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

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
