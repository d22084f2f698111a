"""create_app(settings): the HTTP API, built once per process with its lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI

from adapters.bootstrap import bootstrap, system_clock
from adapters.settings import Settings
from api import ui
from api.deps import FindingDepartments, no_nul_characters
from api.errors import install_error_handlers
from api.metrics import install_metrics
from api.openapi import document_problems
from api.projector import Projecting, start_projector
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

DESCRIPTION = """
Lastmile (整改通) tracks findings of budget performance evaluations to verified rectification.

Authenticate with `Authorization: Bearer <token>` (`lastmile user add` prints one) or a
browser session (`POST /api/v1/session`). Errors are `application/problem+json` with a
`detail` a person can act on. Writes accept `If-Match: <version>` (412 when the finding
changed meanwhile) and `Idempotency-Key` (a retried request gets the first answer).
"""


def create_app(
    settings: Settings,
    clock: Clock = system_clock,
    *,
    project_in_background: bool = True,
    projector: Projecting = "thread",
) -> FastAPI:
    """The API for these settings; nothing is opened until the app starts (lifespan).

    In the background the read models are kept current (so lists and reports need no
    worker) by a thread, or by a child process (`lastmile serve`); not at all without
    `project_in_background`.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        lastmile = bootstrap(settings, clock)
        app.state.lastmile = lastmile
        running = start_projector(projector if project_in_background else "off", lastmile)
        app.state.projector = running
        try:
            yield
        finally:
            if running is not None:
                running.stop()
            lastmile.close()

    app = FastAPI(
        title="Lastmile 整改通 API",
        version="1",
        description=DESCRIPTION,
        lifespan=lifespan,
        dependencies=[Depends(no_nul_characters)],
    )
    app.state.finding_departments = FindingDepartments()
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
