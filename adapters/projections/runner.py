"""Keep the read models up to date with the event log, exactly once, resumable after a crash.

Each batch of events is applied and the tracking position advanced in ONE transaction, and
the position only advances from the value the batch started at: a crash rolls the batch
back whole, and a second runner racing this one gets its batch refused, never doubled.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime

import psycopg
from sqlalchemy import Connection, Engine, Select, select, text, update
from sqlalchemy.exc import DBAPIError

from adapters.projections.batch import BatchProjection, Positioned
from adapters.projections.tables import (
    READ_MODEL_SCHEMA,
    READ_MODEL_TABLES,
    findings,
    metadata,
    scorecard_sums,
    tracking,
)
from domain.application import LastmileApplication

NAME = "read_models"
SCHEMA = "schema"  # the rm_tracking row whose position holds READ_MODEL_SCHEMA
UNVERSIONED = 1  # stores made before the schema was versioned
# Serialises start-up DDL between processes on PostgreSQL (a transaction-scoped lock).
_DDL_LOCK = int.from_bytes(hashlib.sha256(b"lastmile-read-models").digest()[:8], signed=True)
log = logging.getLogger("lastmile.projections")
BATCH_SIZE = 1_000
POLL_SECONDS = 0.2
# PostgreSQL: every batch deletes and rewrites the rows it changes, leaving dead row versions
# (and their index entries) that the latest reports would wade through until a VACUUM. When
# autovacuum is off or behind, the runner vacuums the tables it churns itself: every
# TIDY_EVERY events while it catches up, and once caught up after TIDY_AT_REST.
TIDY_EVERY = 50_000
TIDY_AT_REST = 5_000
CHURNED = (findings, scorecard_sums)


class UnprojectableEventError(RuntimeError):
    """An event the read models cannot take: a bug to fix, then `lastmile rebuild`."""


def _apply(
    projection: BatchProjection, connection: Connection, batch: Sequence[Positioned]
) -> None:
    try:
        projection.apply(connection, batch)
    except DBAPIError:
        raise  # the database, not the event: the caller waits and tries again
    except Exception as error:
        first, last = batch[0][0], batch[-1][0]
        topics = sorted({type(event).__qualname__ for _, event in batch})
        raise UnprojectableEventError(
            f"cannot apply events {first}–{last} to the read models ({', '.join(topics)}): "
            f"{type(error).__name__}: {error}; nothing of the batch was applied"
        ) from error


class ProjectionConflictError(RuntimeError):
    """Another runner advanced the read models first; this batch was rolled back."""


class ProjectionRunner:
    """Reads the event log after the tracked position and applies it to the read models."""

    def __init__(
        self,
        app: LastmileApplication,
        engine: Engine,
        projection: BatchProjection,
        listen_url: str | None = None,  # PostgreSQL: wake on NOTIFY instead of polling
        batch_size: int = BATCH_SIZE,
    ) -> None:
        self.app = app
        self.engine = engine
        self.projection = projection
        self.listen_url = listen_url
        self.batch_size = batch_size
        self.untidy = 0  # events applied since the churned tables were last vacuumed

    def create_tables(self) -> None:
        """Create the read models; drop and recreate them when built under another schema."""
        tracking.create(self.engine, checkfirst=True)
        with self.engine.begin() as connection:
            _lock_ddl(connection)
            stored = connection.execute(_schema_query()).scalar()
            has_rows = connection.execute(_position_query()).first() is not None
            if has_rows and stored != READ_MODEL_SCHEMA:
                self._drop_read_models(connection, stored or UNVERSIONED)
            metadata.create_all(connection)
            if not has_rows:
                connection.execute(tracking.insert().values(projection=NAME, position=0))
            if stored is None:
                connection.execute(
                    tracking.insert().values(projection=SCHEMA, position=READ_MODEL_SCHEMA)
                )
            elif stored != READ_MODEL_SCHEMA:
                connection.execute(
                    update(tracking)
                    .where(tracking.c.projection == SCHEMA)
                    .values(position=READ_MODEL_SCHEMA)
                )

    @staticmethod
    def _drop_read_models(connection: Connection, stored: int) -> None:
        log.warning(
            "read-model schema %s differs from %s: dropping the read models to rebuild them "
            "from the event log",
            stored,
            READ_MODEL_SCHEMA,
            extra={"action": "read_models_dropped", "old": stored, "new": READ_MODEL_SCHEMA},
        )
        for table in reversed(READ_MODEL_TABLES):
            table.drop(connection, checkfirst=True)
        connection.execute(
            update(tracking).where(tracking.c.projection == NAME).values(position=0, event_at=None)
        )

    def position(self) -> int:
        with self.engine.connect() as connection:
            return int(connection.execute(_position_query()).scalar_one())

    def last_event_at(self) -> datetime | None:
        with self.engine.connect() as connection:
            query = select(tracking.c.event_at).where(tracking.c.projection == NAME)
            return connection.execute(query).scalar()

    def catch_up(self, progress: Callable[[int], None] | None = None) -> int:
        """Apply every event recorded so far; returns how many were applied."""
        applied = 0
        while True:
            try:
                count = self._apply_next_batch()
            except ProjectionConflictError:
                continue  # another runner moved on; read from its position
            if count == 0:
                if self.untidy >= TIDY_AT_REST:
                    self.tidy()
                return applied
            applied += count
            self.untidy += count
            if self.untidy >= TIDY_EVERY:
                self.tidy()
            if progress:
                progress(applied)

    def tidy(self) -> None:
        """PostgreSQL: vacuum and analyze the tables batches churn; elsewhere nothing to do."""
        self.untidy = 0
        if self.engine.dialect.name != "postgresql":
            return  # SQLite reuses freed pages and keeps no dead row versions
        names = ", ".join(table.name for table in CHURNED)
        started = time.monotonic()
        try:
            with self.engine.connect() as connection:
                autocommit = connection.execution_options(isolation_level="AUTOCOMMIT")
                autocommit.exec_driver_sql(f"VACUUM (ANALYZE) {names}")
        except DBAPIError as error:  # a tidy that fails costs speed, never correctness
            log.warning("vacuum of %s failed: %s", names, error, extra={"action": "tidy_failed"})
            return
        log.info(
            "vacuumed %s in %.1f s",
            names,
            time.monotonic() - started,
            extra={"action": "read_models_tidied"},
        )

    def run_forever(self, stop: threading.Event) -> None:
        """Catch up, then wait for new events until stopped: NOTIFY on PostgreSQL, else polling."""
        while not stop.is_set():
            if self.listen_url is None:
                if self.catch_up() == 0:
                    stop.wait(POLL_SECONDS)
                continue
            try:
                self._listen_until(stop)
            except (psycopg.Error, DBAPIError):
                stop.wait(POLL_SECONDS)  # the database is away: try again shortly

    def wait_for(self, position: int, timeout: float = 5.0) -> bool:
        """Read-your-writes: block until the read models include `position`."""
        deadline = time.monotonic() + timeout
        while self.position() < position:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)
        return True

    def rebuild(self, progress: Callable[[int], None] | None = None) -> int:
        """Empty every read model and apply the whole log again, batch by batch."""
        with self.engine.begin() as connection:
            for table in reversed(READ_MODEL_TABLES):
                connection.execute(table.delete())
            connection.execute(
                update(tracking)
                .where(tracking.c.projection == NAME)
                .values(position=0, event_at=None)
            )
        return self.catch_up(progress)

    def _apply_next_batch(self) -> int:
        with self.engine.begin() as connection:
            start = self._lock_position(connection)
            batch = self._read_events(start)
            if not batch:
                return 0
            _apply(self.projection, connection, batch)
            last_position, last_event = batch[-1]
            advanced = connection.execute(
                update(tracking)
                .where(tracking.c.projection == NAME, tracking.c.position == start)
                .values(position=last_position, event_at=last_event.timestamp)
            )
            if advanced.rowcount != 1:
                raise ProjectionConflictError(f"read models moved past {start} meanwhile")
        return len(batch)

    @staticmethod
    def _lock_position(connection: Connection) -> int:
        """Read the position, holding the lock that makes a second runner wait its turn."""
        query = _position_query()
        if connection.dialect.name == "postgresql":
            query = query.with_for_update()
        else:
            # SQLite has no row locks: a write takes the database's write lock first, so
            # the other runner's batch starts only after this one commits.
            connection.execute(
                update(tracking)
                .where(tracking.c.projection == NAME)
                .values(position=tracking.c.position)
            )
        return int(connection.execute(query).scalar_one())

    def _read_events(self, after: int) -> list[Positioned]:
        notifications = self.app.recorder.select_notifications(
            start=after, limit=self.batch_size, inclusive_of_start=False
        )
        return [(n.id, self.app.mapper.to_domain_event(n)) for n in notifications]

    def _listen_until(self, stop: threading.Event) -> None:
        assert self.listen_url is not None
        channel = self.app.recorder.channel_name  # type: ignore[attr-defined]
        with psycopg.connect(self.listen_url, autocommit=True) as listener:
            listener.execute(f'LISTEN "{channel}"')
            while not stop.is_set():
                # Catch up after LISTEN took effect, so no event slips between the two.
                if self.catch_up() == 0:
                    for _ in listener.notifies(timeout=1.0, stop_after=1):
                        pass


def _position_query() -> Select[tuple[int]]:
    return select(tracking.c.position).where(tracking.c.projection == NAME)


def _schema_query() -> Select[tuple[int]]:
    return select(tracking.c.position).where(tracking.c.projection == SCHEMA)


def _lock_ddl(connection: Connection) -> None:
    """Make a second process starting at the same moment wait until these tables are ready."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _DDL_LOCK})
    else:
        # A write first: it opens the transaction and takes SQLite's write lock, so the
        # DDL that follows runs inside it, one process at a time.
        connection.execute(
            update(tracking)
            .where(tracking.c.projection == SCHEMA)
            .values(position=tracking.c.position)
        )
