"""The web pages: server-rendered, 中文 by default, usable without JavaScript."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.staticfiles import StaticFiles

from api.ui import auth, dashboard, finding, imports, inbox, orders, queue

STATIC = Path(__file__).parent / "static"


def pages() -> APIRouter:
    """Every page route, to include once in the app."""
    router = APIRouter(include_in_schema=False)
    for module in (auth, inbox, finding, dashboard, orders, imports, queue):
        router.include_router(module.router)
    return router


def static_files() -> StaticFiles:
    """The stylesheet, mounted at /static (no CDN: the bureau's network may be closed)."""
    return StaticFiles(directory=STATIC)
