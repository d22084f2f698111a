"""The event store: eventsourcing-sqlalchemy on SQLite or PostgreSQL, with a hash chain.

Every stored event gets a row in an integrity table, written in the same transaction as
the event, holding SHA-256(previous digest ‖ the event row) and a pointer to the previous
link. Editing, deleting or reordering event rows outside the application then breaks the
chain (see integrity.py).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Collection, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing_sqlalchemy.datastore import SQLAlchemyDatastore
from eventsourcing_sqlalchemy.factory import SQLAlchemyFactory
from eventsourcing_sqlalchemy.recorders import SQLAlchemyApplicationRecorder
from sqlalchemy import BigInteger, Column, Integer, MetaData, String, Table, event, select
from sqlalchemy.orm import Session

GENESIS_DIGEST = "0" * 64
_PENDING_HEAD = "lastmile.pending_chain_head"  # session.info key until the commit succeeds
_metadata = MetaData()


def chain_digest(
    previous: str,
    notification_id: int,
    originator_id: UUID | str,
    version: int,
    topic: str,
    state: bytes,
) -> str:
    """The chain link for one stored event; every column of the event row is covered."""
    header = f"{previous}\n{notification_id}\n{UUID(str(originator_id))}\n{version}\n{topic}\n"
    return hashlib.sha256(header.encode() + state).hexdigest()


def chain_table(events_table_name: str, schema: str | None) -> Table:
    name = f"{events_table_name}_chain"
    key = f"{schema}.{name}" if schema else name
    if key in _metadata.tables:
        return _metadata.tables[key]
    big_int = BigInteger().with_variant(Integer(), "sqlite")
    return Table(
        name,
        _metadata,
        Column("notification_id", big_int, primary_key=True, autoincrement=False),
        Column("originator_id", String(36), nullable=False),
        Column("originator_version", big_int, nullable=False),
        Column("previous_id", big_int, nullable=False),  # 0 before the first event
        Column("previous_digest", String(64), nullable=False),
        Column("digest", String(64), nullable=False),
        schema=schema,
    )


class ChainedApplicationRecorder(SQLAlchemyApplicationRecorder):
    """Application recorder that extends the integrity chain in each insert's transaction."""

    def __init__(self, datastore: Any, *, events_table_name: str, schema_name: str | None = None):
        super().__init__(datastore, events_table_name=events_table_name, schema_name=schema_name)
        self.chain = chain_table(events_table_name, schema_name)
        self.tables.append(self.chain)
        # Without AUTOINCREMENT SQLite reuses the id of a deleted last row, which would
        # collide with that row's surviving chain entry instead of being reported.
        self.events_record_cls.__table__.dialect_options["sqlite"]["autoincrement"] = True
        self._head: tuple[int, str] | None = None  # (notification id, digest) last committed
        self._head_lock = threading.Lock()
        if datastore.session_maker is not None:
            event.listen(datastore.session_maker, "after_commit", self._remember_head)
            event.listen(datastore.session_maker, "after_rollback", self._forget_pending_head)

    def _insert_stored_events(
        self, session: Session, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int]:
        # The parent locks the events table (PostgreSQL) or holds SQLite's write lock
        # before it inserts, so no other writer can extend the chain until we commit.
        ids = super()._insert_stored_events(session, stored_events, **kwargs)
        previous_id, previous = self._previous_link(session, ids[0])
        rows = []
        for notification_id, stored in zip(ids, stored_events, strict=True):
            digest = chain_digest(
                previous,
                notification_id,
                stored.originator_id,
                stored.originator_version,
                stored.topic,
                stored.state,
            )
            rows.append(
                {
                    "notification_id": notification_id,
                    "originator_id": str(UUID(str(stored.originator_id))),
                    "originator_version": stored.originator_version,
                    "previous_id": previous_id,
                    "previous_digest": previous,
                    "digest": digest,
                }
            )
            previous_id, previous = notification_id, digest
        session.execute(self.chain.insert(), rows)
        session.info[_PENDING_HEAD] = (previous_id, previous)
        return ids

    def _previous_link(self, session: Session, first_new_id: int) -> tuple[int, str]:
        """The (id, digest) our first new event chains onto.

        Ids are handed out in increasing order under the table lock, so if our first id
        directly follows the head this process last committed, nobody committed in
        between and the head need not be read again. Anything else (another process
        wrote, a rolled-back insert left a gap) falls back to reading it.
        """
        with self._head_lock:
            head = self._head
        if head is not None and first_new_id == head[0] + 1:
            return head
        columns = self.chain.c
        query = select(columns.notification_id, columns.digest)
        row = session.execute(query.order_by(columns.notification_id.desc()).limit(1)).first()
        return (row.notification_id, row.digest) if row else (0, GENESIS_DIGEST)

    def select_events_of(self, originator_ids: Collection[UUID]) -> list[StoredEvent]:
        """Every event of several aggregates in one query, each aggregate's in version order."""
        record = self.events_record_cls
        query = (
            select(record.originator_id, record.originator_version, record.topic, record.state)
            .where(record.originator_id.in_(list(originator_ids)))
            .order_by(record.originator_id, record.originator_version)
        )
        with self.transaction(commit=False) as session:
            rows = session.execute(query).all()
        return [
            StoredEvent(
                originator_id=row.originator_id,
                originator_version=row.originator_version,
                topic=row.topic,
                state=bytes(row.state) if isinstance(row.state, memoryview) else row.state,
            )
            for row in rows
        ]

    @staticmethod
    def _forget_pending_head(session: Session) -> None:
        session.info.pop(_PENDING_HEAD, None)

    def _remember_head(self, session: Session) -> None:
        head = session.info.pop(_PENDING_HEAD, None)
        if head is not None:
            with self._head_lock:
                self._head = head


class PingingDatastore(SQLAlchemyDatastore):
    """The datastore, its PostgreSQL connections tested as they leave the pool.

    A pooled connection the server dropped while it sat idle (a restart, a failover,
    pg_terminate_backend) is replaced instead of failing the next command.
    """

    def __init__(self, *, url: str | None = None, **kwargs: Any) -> None:
        if url and url.startswith("postgresql"):
            kwargs.setdefault("pool_pre_ping", True)
        super().__init__(url=url, **kwargs)


class Factory(SQLAlchemyFactory):
    """PERSISTENCE_MODULE=adapters.eventstore selects this factory."""

    datastore_class = PingingDatastore
    application_recorder_class = ChainedApplicationRecorder
