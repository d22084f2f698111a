"""Liveness and metrics for operators and load balancers."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api.deps import LastmileDep

router = APIRouter(tags=["operations"])


@router.get("/healthz")
def healthz(lastmile: LastmileDep) -> dict[str, Any]:
    """Both stores answer; how far the read models lag behind the event log."""
    events = lastmile.app.recorder.max_notification_id() or 0
    projected = lastmile.projections.position()
    return {"status": "ok", "events": events, "read_models": projected, "lag": events - projected}


@router.get("/metrics", response_class=Response)
def metrics(request: Request, lastmile: LastmileDep) -> Response:
    """Prometheus text format: requests per route and status, latencies, log and lag."""
    events = lastmile.app.recorder.max_notification_id() or 0
    projected = lastmile.projections.position()
    gauges = (
        "# HELP lastmile_events Events in the log.\n# TYPE lastmile_events gauge\n"
        f"lastmile_events {events}\n"
        "# HELP lastmile_read_model_lag Events not yet in the read models.\n"
        "# TYPE lastmile_read_model_lag gauge\n"
        f"lastmile_read_model_lag {events - projected}\n"
    )
    body = generate_latest(request.app.state.metrics.registry) + gauges.encode()
    return Response(body, media_type=CONTENT_TYPE_LATEST)
