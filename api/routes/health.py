"""Liveness and metrics for operators and load balancers."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from adapters.bootstrap import Lastmile
from adapters.worker.status import worker_health
from api.deps import LastmileDep
from api.metrics import gauges

router = APIRouter(tags=["operations"])


@router.get("/healthz")
def healthz(lastmile: LastmileDep) -> dict[str, Any]:
    """Both stores answer; read-model lag; the worker's heartbeat; pending and failed mail.

    `status` is this API process's; a late or absent worker shows under `worker`, so a load
    balancer does not take the API down for it.
    """
    events = lastmile.app.recorder.max_notification_id() or 0
    projected = lastmile.projections.position()
    worker, mail = operations(lastmile)
    return {
        "status": "ok",
        "events": events,
        "read_models": projected,
        "lag": events - projected,
        "worker": worker,
        "mail": mail,
    }


@router.get("/metrics", response_class=Response)
def metrics(request: Request, lastmile: LastmileDep) -> Response:
    """Prometheus text format: requests per route and status, latencies, log, lag, worker, mail."""
    events = lastmile.app.recorder.max_notification_id() or 0
    projected = lastmile.projections.position()
    worker, mail = operations(lastmile)
    body = (
        generate_latest(request.app.state.metrics.registry)
        + gauges(events, projected, worker, mail).encode()
    )
    return Response(body, media_type=CONTENT_TYPE_LATEST)


def operations(lastmile: Lastmile) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The worker's health from its heartbeat, and the outbox counts (None: no outbox yet)."""
    now = lastmile.app.clock()
    worker = worker_health(lastmile.worker_status.read(), now, lastmile.settings.scan_minutes)
    return worker, lastmile.outbox.counts(now)
