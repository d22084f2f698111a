"""create_app(settings): the HTTP API, built once per process with its lifespan."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI

from adapters.bootstrap import Lastmile, bootstrap, system_clock
from adapters.settings import Settings
from api import ui
from api.deps import no_nul_characters
from api.errors import install_error_handlers
from api.metrics import install_metrics
from api.openapi import document_problems
from api.routes import (
    evidence,
    findings,
    health,
    imports,
    orders,
    records,
    reports,
    rules,
    session,
    users,
)
from domain.application import Clock

log = logging.getLogger("lastmile.api")
DESCRIPTION = """
Lastmile (整改通) tracks findings of budget performance evaluations to verified rectification.

Authenticate with `Authorization: Bearer <token>` (`lastmile user add` prints one) or a
browser session (`POST /api/v1/session`). Errors are `application/problem+json` with a
`detail` a person can act on. Writes accept `If-Match: <version>` (412 when the finding
changed meanwhile) and `Idempotency-Key` (a retried request gets the first answer).
"""


def create_app(
    settings: Settings, clock: Clock = system_clock, *, project_in_background: bool = True
) -> FastAPI:
    """The API for these settings; nothing is opened until the app starts (lifespan)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        lastmile = bootstrap(settings, clock)
        app.state.lastmile = lastmile
        stop = threading.Event()
        projector = _projector(lastmile, stop) if project_in_background else None
        try:
            yield
        finally:
            stop.set()
            if projector is not None:
                projector.join(timeout=10)
            lastmile.close()

    app = FastAPI(
        title="Lastmile 整改通 API",
        version="1",
        description=DESCRIPTION,
        lifespan=lifespan,
        dependencies=[Depends(no_nul_characters)],
    )
    install_error_handlers(app)
    install_metrics(app)
    routers = [
        module.router
        for module in (
            health,
            records,
            orders,
            imports,
            findings,
            reports,
            evidence,
            session,
            users,
            rules,
        )
    ]
    for router in routers:
        app.include_router(router)
    document_problems(app, routers)
    app.include_router(ui.pages())
    app.mount("/static", ui.static_files(), name="static")
    return app


def _projector(lastmile: Lastmile, stop: threading.Event) -> threading.Thread:
    """Keep read models current in this process too, so lists and reports need no worker.

    Safe beside `lastmile worker`: runners take turns on a lock and never apply twice.
    """

    def project() -> None:
        while not stop.is_set():
            try:
                lastmile.projections.run_forever(stop)
            except Exception:  # a bad moment must not stop reports for good: log, retry
                log.exception("projecting events failed; retrying in 5 s")
                stop.wait(5)

    thread = threading.Thread(target=project, name="projections", daemon=True)
    thread.start()
    return thread
