"""The worker's heartbeat (`worker_status`) and what operators read from it and the outbox."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Column,
    Engine,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    select,
    update,
)
from sqlalchemy.exc import SQLAlchemyError

from adapters.projections.tables import UTCDateTime
from notifications.health import mail_health
from notifications.tables import PENDING, SENDING

log = logging.getLogger("lastmile.worker")

# Not a read model: `rebuild` and a read-model schema change leave it alone.
status_metadata = MetaData()
worker_status = Table(
    "worker_status",
    status_metadata,
    Column("name", String(64), primary_key=True),
    Column("host", String(255), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("started_at", UTCDateTime(), nullable=False),
    Column("stopped_at", UTCDateTime()),  # set on a clean stop
    Column("last_scan_at", UTCDateTime()),  # the moment the last scan was as of
    Column("last_scan_seconds", Float),
    Column("last_scan_events", Integer),
    Column("last_error", Text),  # "<job>: <error>", kept until the next error
    Column("last_error_at", UTCDateTime()),
    Column("updated_at", UTCDateTime(), nullable=False),
)
WORKER = "worker"  # one row: the lock lets one worker run at a time
HEARTBEAT_SECONDS = 30
STALE_AFTER_SECONDS = 4 * HEARTBEAT_SECONDS


class WorkerStatus:
    """Writes the heartbeat row after each job, and reads it for /healthz and /metrics."""

    def __init__(self, engine: Engine, clock: Callable[[], datetime]) -> None:
        self.engine = engine
        self.clock = clock

    def create_tables(self) -> None:
        status_metadata.create_all(self.engine)

    def started(self, host: str, pid: int) -> None:
        now = self.clock()
        row = {"host": host, "pid": pid, "started_at": now, "stopped_at": None, "updated_at": now}
        with self.engine.begin() as connection:
            done = connection.execute(
                update(worker_status).where(worker_status.c.name == WORKER).values(**row)
            )
            if done.rowcount == 0:
                connection.execute(worker_status.insert().values(name=WORKER, **row))

    def scanned(self, at: datetime, seconds: float, events: int) -> None:
        self._update(last_scan_at=at, last_scan_seconds=round(seconds, 3), last_scan_events=events)

    def failed(self, job: str, error: BaseException) -> None:
        message = f"{job}: {type(error).__name__}: {error}"[:2000]
        self._update(last_error=message, last_error_at=self.clock())

    def beat(self) -> None:
        self._update()

    def stopped(self) -> None:
        self._update(stopped_at=self.clock())

    def read(self) -> dict[str, Any] | None:
        """The heartbeat row; None when no worker ever ran here."""
        try:
            with self.engine.connect() as connection:
                row = connection.execute(
                    select(worker_status).where(worker_status.c.name == WORKER)
                ).first()
        except SQLAlchemyError:
            return None  # the table is made at start-up; an older store may lack it
        return dict(row._mapping) if row else None

    def _update(self, **values: Any) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                update(worker_status)
                .where(worker_status.c.name == WORKER)
                .values(updated_at=self.clock(), **values)
            )


def worker_health(row: dict[str, Any] | None, now: datetime, scan_minutes: float) -> dict[str, Any]:
    """ok: heartbeat and scan are recent; stale: either is late; stopped; absent: never ran."""
    if row is None:
        return {"status": "absent"}
    age = (now - row["updated_at"]).total_seconds()
    scan_age = (now - row["last_scan_at"]).total_seconds() if row["last_scan_at"] else None
    scan_late = scan_age is None or scan_age > 2 * scan_minutes * 60 + STALE_AFTER_SECONDS
    if row["stopped_at"] is not None:
        state = "stopped"
    elif age > STALE_AFTER_SECONDS or (scan_late and _running_for(row, now) > 60):
        state = "stale"
    else:
        state = "ok"
    return {
        "status": state,
        **{k: _plain(v) for k, v in row.items() if k != "name"},
        "heartbeat_age_seconds": round(age, 1),
        "last_scan_age_seconds": None if scan_age is None else round(scan_age, 1),
    }


def _running_for(row: dict[str, Any], now: datetime) -> float:
    return float((now - row["started_at"]).total_seconds())


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


# -- the outbox ---------------------------------------------------------------------


class OutboxGauge:
    """Mail waiting (pending or being sent) and given up on, from notifications' outbox."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def counts(self, now: datetime) -> dict[str, Any] | None:
        """None when the outbox cannot be read (an older store without its tables)."""
        try:
            health = mail_health(self.engine)
        except SQLAlchemyError:
            return None
        oldest = health.oldest_pending_at
        return {
            "pending": health.counts[PENDING] + health.counts[SENDING],
            "failed": health.failed,
            "oldest_pending_seconds": (
                round((now - oldest).total_seconds(), 1) if oldest is not None else None
            ),
        }
