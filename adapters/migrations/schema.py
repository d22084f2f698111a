"""The durable tables Alembic migrates: everything we own except the event store and read models.

The event store's tables are eventsourcing's (created through its CREATE_TABLE path) and the
read models (`rm_*`) are disposable, versioned by READ_MODEL_SCHEMA and rebuilt from the log,
so neither is compared or migrated here.
"""

from __future__ import annotations

from alembic.runtime.environment import IncludeNameFn, NameFilterParentNames, NameFilterType
from sqlalchemy import MetaData

from adapters import evidence, idempotency, sessions, users
from adapters.worker import status
from notifications import tables as mail

# Evidence blobs live in the database only on PostgreSQL; the embedded store keeps files.
POSTGRES_ONLY = frozenset(evidence.metadata.tables)


def target_metadata(dialect: str) -> list[MetaData]:
    """What the newest revision must produce on this dialect (compared by autogenerate)."""
    shared = [
        users.metadata,
        sessions.metadata,
        idempotency.metadata,
        status.status_metadata,
        mail.metadata,
    ]
    return [*shared, evidence.metadata] if dialect == "postgresql" else shared


def durable_tables(dialect: str) -> frozenset[str]:
    return frozenset(name for meta in target_metadata(dialect) for name in meta.tables)


def include_name(dialect: str) -> IncludeNameFn:
    """Autogenerate's filter: look only at our durable tables, never the events or rm_*."""
    names = durable_tables(dialect)

    def include(name: str | None, kind: NameFilterType, parents: NameFilterParentNames) -> bool:
        return kind != "table" or name in names

    return include
