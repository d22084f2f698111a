"""The stores a benchmark runs on: a fresh SQLite data directory or a fresh PostgreSQL database."""

from __future__ import annotations

import os
import sqlite3
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import psycopg

from adapters.settings import Settings

POSTGRES_ADMIN_URL = os.environ.get(
    "LASTMILE_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


class StoreUnavailableError(RuntimeError):
    """The store cannot be used here; the message says why, and the store is skipped."""


@dataclass(frozen=True)
class Store:
    """Lastmile's settings for one store, and what the store is."""

    name: str
    settings: Settings
    version: str


@contextmanager
def sqlite_store() -> Iterator[Store]:
    """SQLite files in a temporary data directory, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="lastmile-bench-") as directory:
        settings = Settings(_env_file=None, data_dir=Path(directory) / "var", database_url=None)  # type: ignore[call-arg]
        yield Store("sqlite", settings, sqlite3.sqlite_version)


@contextmanager
def postgres_store(admin_url: str = POSTGRES_ADMIN_URL) -> Iterator[Store]:
    """A fresh PostgreSQL database on the server at admin_url, dropped afterwards."""
    name = f"lastmile_bench_{uuid.uuid4().hex[:12]}"
    version = _create_database(admin_url, name)
    try:
        url = admin_url.rsplit("/", 1)[0] + f"/{name}"
        settings = Settings(_env_file=None, data_dir=Path("var"), database_url=url)  # type: ignore[call-arg]
        yield Store("postgresql", settings, version)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _create_database(admin_url: str, name: str) -> str:
    try:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=3) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
            row = admin.execute("SHOW server_version").fetchone()
    except psycopg.Error as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        where = _without_password(admin_url)
        raise StoreUnavailableError(f"PostgreSQL at {where} is unusable: {reason}") from None
    return str(row[0]) if row else "unknown"


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@")).geturl()
