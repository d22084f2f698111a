"""`lastmile migrate`: bring a store to the schema this version expects; twice changes nothing."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import create_engine, inspect, select
from sqlalchemy.engine import make_url

from adapters.bootstrap import bootstrap, records_url
from adapters.migrations.durable import HEAD, stored_revision, upgrade_durable
from adapters.projections.runner import NAME, SCHEMA, UNVERSIONED
from adapters.projections.tables import READ_MODEL_SCHEMA, tracking
from adapters.settings import Settings

EVENTS_TABLE = "lastmile_events"


@dataclass(frozen=True)
class MigrationReport:
    """What `migrate` found and did, for the operator."""

    store: str  # the records database, password hidden
    events: str  # the event store's database (another file when embedded)
    event_tables: tuple[str, ...]  # event store tables created now
    adopted: bool  # durable tables made before migrations existed, now stamped
    applied: tuple[str, ...]  # revisions applied, oldest first: "r0001 Baseline: …"
    created: tuple[str, ...]  # durable tables created by those revisions
    revision: str | None  # where the store is now
    read_models: str  # created | kept | dropped (from another READ_MODEL_SCHEMA)
    old_read_model_schema: int | None

    @property
    def changed(self) -> bool:
        return bool(self.event_tables or self.applied or self.read_models != "kept")

    def lines(self) -> list[str]:
        lines = [f"Store: {self.store}"]
        if self.events != self.store:
            lines.append(f"Events: {self.events}")
        if self.event_tables:
            lines.append(f"event store: created {', '.join(self.event_tables)}")
        if self.adopted:
            lines.append("found tables made before migrations: stamped at the baseline revision")
        lines += [f"applied {revision}" for revision in self.applied]
        if self.created:
            lines.append(f"created {', '.join(self.created)}")
        lines.append(self._read_model_line())
        if not self.changed:
            lines.append(f"Nothing to do: the schema is at revision {self.revision} (head).")
        else:
            lines.append(f"Done: the schema is at revision {self.revision} (head).")
        return lines

    def _read_model_line(self) -> str:
        schema = READ_MODEL_SCHEMA
        if self.read_models == "created":
            return f"read models: created (schema {schema})"
        if self.read_models == "dropped":
            return (
                f"read models: schema {self.old_read_model_schema} replaced by {schema}; "
                "they refill from the log when the worker or an API process starts "
                "(or run `lastmile rebuild` now to watch it)"
            )
        return f"read models: in place (schema {schema})"


def migrate(settings: Settings) -> MigrationReport:
    """Apply pending revisions, create the event store, bring the read models to their schema."""
    if not settings.uses_postgres:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    url = records_url(settings)
    durable = upgrade_durable(url)
    old_schema, had_read_models = _read_model_schema(url)
    events_before = _table_names(settings.sqlalchemy_url)
    system = bootstrap(settings)  # CREATE_TABLE for the events; read models by their schema
    try:
        event_tables = tuple(
            table.name for table in system.recorder.tables if table.name not in events_before
        )
    finally:
        system.close()
    read_models = "kept"
    if not had_read_models:
        read_models = "created"
    elif old_schema != READ_MODEL_SCHEMA:
        read_models = "dropped"
    return MigrationReport(
        store=_shown(url),
        events=_shown(settings.sqlalchemy_url),
        event_tables=event_tables,
        read_models=read_models,
        old_read_model_schema=old_schema,
        **durable,
    )


def pending(settings: Settings) -> list[str]:
    """What `migrate` would do to this store, changing nothing; empty when nothing is due."""
    url = records_url(settings)
    if not _exists(settings):
        return [f"the store at {_shown(url)} does not exist yet: migrate creates it"]
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            revision = stored_revision(connection)
    finally:
        engine.dispose()
    due = []
    if revision != HEAD:
        due.append(f"durable tables: revision {revision or '(none)'} → {HEAD}")
    if EVENTS_TABLE not in _table_names(settings.sqlalchemy_url):
        due.append("event store: tables to create")
    old_schema, had_read_models = _read_model_schema(url)
    if not had_read_models:
        due.append(f"read models: to create (schema {READ_MODEL_SCHEMA})")
    elif old_schema != READ_MODEL_SCHEMA:
        due.append(f"read models: schema {old_schema} → {READ_MODEL_SCHEMA}, rebuilt from the log")
    return due


def _exists(settings: Settings) -> bool:
    """The embedded store's files are there (connecting would create an empty one)."""
    if settings.uses_postgres:
        return True
    return all(
        (settings.data_dir / name).is_file() for name in ("lastmile.sqlite3", "events.sqlite3")
    )


def _read_model_schema(url: str) -> tuple[int | None, bool]:
    """The READ_MODEL_SCHEMA the read models were built under, and whether any were built."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            if not inspect(connection).has_table(tracking.name):
                return None, False
            query = select(tracking.c.projection, tracking.c.position)
            rows = {row.projection: row.position for row in connection.execute(query)}
    finally:
        engine.dispose()
    if NAME not in rows:
        return None, False
    return int(rows.get(SCHEMA, UNVERSIONED)), True


def _shown(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def _table_names(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return set(inspect(connection).get_table_names())
    finally:
        engine.dispose()
