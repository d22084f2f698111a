"""The durable tables' Alembic revision: read, upgraded, and checked at every start-up.

Start-up creates missing tables in this version's shape, which is right only on a store at
the newest revision (HEAD) or on a fresh one. So before it does, `check_at_start` stamps a
fresh store at HEAD, brings an embedded SQLite store up to date itself (one machine, no
operator step), and refuses a PostgreSQL store that is behind: several processes on several
machines share it, so only the operator's `lastmile migrate` may change its schema.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.script.revision import RevisionError
from alembic.util import CommandError
from sqlalchemy import (
    Column,
    Connection,
    Engine,
    MetaData,
    String,
    Table,
    create_engine,
    event,
    exists,
    inspect,
    literal,
    select,
)
from sqlalchemy.schema import CreateTable

from adapters.migrations.schema import durable_tables

SCRIPTS = Path(__file__).resolve().parent  # env.py, script.py.mako, versions/: package data
HEAD = "r0001"  # the newest revision in versions/ (tests/adapters/test_migrations.py checks it)
# Serialises two operators' `lastmile migrate`, and two processes stamping a fresh PostgreSQL.
_MIGRATE_LOCK = int.from_bytes(hashlib.sha256(b"lastmile-migrate").digest()[:8], signed=True)
# Alembic's own version table, declared here so stamping a fresh store needs no script loading.
_versions = Table(
    "alembic_version",
    MetaData(),
    Column("version_num", String(32), primary_key=True, key="revision"),
)


class MigrationError(RuntimeError):
    """The store's revision is not one this version knows (it was migrated by a newer one)."""


class SchemaBehindError(RuntimeError):
    """A PostgreSQL store needs `lastmile migrate` before this version may use it."""


def alembic_config(url: str | None = None, connection: Connection | None = None) -> Config:
    """Alembic's configuration for the packaged scripts: given a connection, or a URL."""
    config = Config()
    config.set_main_option("script_location", str(SCRIPTS))
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["connection"] = connection
    return config


def stored_revision(connection: Connection) -> str | None:
    """The store's durable-schema revision; None when it has never been migrated or stamped."""
    if not inspect(connection).has_table(_versions.name):
        return None
    return connection.execute(select(_versions.c.revision)).scalar()


def check_at_start(records: Engine, *, embedded: bool) -> None:
    """Make the store safe for start-up's create_tables, or refuse it (see the module's text)."""
    with records.begin() as connection:
        _lock(connection)
        revision = stored_revision(connection)
        if revision == HEAD:
            return
        fresh = revision is None and not set(inspect(connection).get_table_names()) & (
            durable_tables(connection.dialect.name)
        )
        if fresh:
            _stamp_head(connection)
            return
    if embedded:
        upgrade_durable(records.url.render_as_string(hide_password=False))
        return
    raise SchemaBehindError(
        f"The database schema is at revision {revision or '(none: made before migrations)'}; "
        f"this version of Lastmile needs {HEAD}. Stop every Lastmile process and run "
        "`lastmile migrate` once, then start them again."
    )


def upgrade_durable(url: str) -> dict[str, Any]:
    """Alembic to head in one transaction; returns what it did, for the migration report."""
    with _migration_engine(url) as engine, engine.begin() as connection:
        _lock(connection)
        config = alembic_config(connection=connection)
        names = durable_tables(connection.dialect.name)
        before = set(inspect(connection).get_table_names()) & names
        current = stored_revision(connection)
        scripts = ScriptDirectory.from_config(config)
        try:
            pending = list(scripts.iterate_revisions("heads", current or "base"))
            command.upgrade(config, "heads")
        except (CommandError, RevisionError) as error:
            raise MigrationError(
                f"{error}: the store was migrated by a newer Lastmile; install that version"
            ) from None
        after = set(inspect(connection).get_table_names()) & names
        revision = MigrationContext.configure(connection).get_current_revision()
    return {
        "adopted": current is None and bool(before),
        "applied": tuple(f"{s.revision} {s.doc}" for s in reversed(pending)),
        "created": tuple(sorted(after - before)),
        "revision": revision,
    }


def _stamp_head(connection: Connection) -> None:
    # Two processes may start on one fresh store at once: PostgreSQL serialises them on the
    # lock; on SQLite each statement below is atomic and does nothing the second time.
    connection.execute(CreateTable(_versions, if_not_exists=True))
    unstamped = ~exists(select(_versions.c.revision))
    connection.execute(
        _versions.insert().from_select(["revision"], select(literal(HEAD)).where(unstamped))
    )


def _lock(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_MIGRATE_LOCK})")


@contextmanager
def _migration_engine(url: str) -> Iterator[Engine]:
    """An engine whose transactions cover DDL on SQLite too (BEGIN IMMEDIATE, not autocommit)."""
    engine = create_engine(url)
    if engine.dialect.name == "sqlite":
        # pysqlite would run CREATE/ALTER outside any transaction; take SQLite's write lock
        # up front so a failed revision rolls back whole and a second migrate waits.
        event.listen(engine, "connect", _no_implicit_transactions)
        event.listen(engine, "begin", _begin_immediate)
    try:
        yield engine
    finally:
        engine.dispose()


def _no_implicit_transactions(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None


def _begin_immediate(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")
