"""One worker at a time: a PostgreSQL session advisory lock, or a file lock beside SQLite."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from filelock import FileLock, Timeout

from adapters.settings import Settings

log = logging.getLogger("lastmile.worker")

# A fixed 64-bit key: every Lastmile worker on one database competes for the same lock.
WORKER_LOCK_KEY = int.from_bytes(hashlib.sha256(b"lastmile-worker").digest()[:8], signed=True)
LOCK_FILE = "worker.lock"
POLL_SECONDS = 0.5
LOG_EVERY_SECONDS = 30.0


class WorkerLockError(RuntimeError):
    """The worker lock was not taken (stopped or timed out while waiting), or was lost."""


def holder_name() -> str:
    """How this process names itself to a worker waiting for its lock."""
    return f"lastmile-worker {socket.gethostname()} pid {os.getpid()}"


@dataclass
class HeldLock:
    """The lock this process holds; `check()` raises when it was lost (PostgreSQL went away)."""

    holder: str
    store: str
    _connection: psycopg.Connection[tuple[object, ...]] | None = None

    def check(self) -> None:
        if self._connection is None:
            return
        try:
            self._connection.execute("SELECT 1")
        except psycopg.Error as error:
            raise WorkerLockError(f"lost the worker lock: {error}") from error


@contextmanager
def worker_lock(
    settings: Settings,
    *,
    stop: threading.Event | None = None,
    timeout: float | None = None,
    log_every: float = LOG_EVERY_SECONDS,
) -> Iterator[HeldLock]:
    """Hold the worker lock for the block; wait (and say so) while another process holds it."""
    waiter = _Waiter(stop, timeout, log_every)
    url = settings.psycopg_url
    if url is not None:
        with _advisory_lock(url, waiter) as held:
            yield held
    else:
        with _file_lock(settings.data_dir.resolve(), waiter) as held:
            yield held


class _Waiter:
    """Paces the attempts, logs the wait now and then, gives up on stop or timeout."""

    def __init__(self, stop: threading.Event | None, timeout: float | None, log_every: float):
        self.stop = stop or threading.Event()
        self.deadline = None if timeout is None else time.monotonic() + timeout
        self.log_every = log_every
        self.started = time.monotonic()
        self.last_log: float | None = None

    def wait(self, holder: str) -> None:
        """After a failed attempt: log if due, then sleep; raise when waiting should end."""
        now = time.monotonic()
        if self.last_log is None or now - self.last_log >= self.log_every:
            self.last_log = now
            log.info(
                "waiting for the worker lock held by %s",
                holder,
                extra={
                    "action": "lock_wait",
                    "holder": holder,
                    "waited_seconds": round(now - self.started, 1),
                },
            )
        if self.deadline is not None and now >= self.deadline:
            raise WorkerLockError(f"gave up waiting for the worker lock held by {holder}")
        if self.stop.wait(POLL_SECONDS):
            raise WorkerLockError("stopped while waiting for the worker lock")

    def acquired(self, holder: str) -> None:
        log.info(
            "holding the worker lock as %s",
            holder,
            extra={
                "action": "lock_acquired",
                "holder": holder,
                "waited_seconds": round(time.monotonic() - self.started, 1),
            },
        )


@contextmanager
def _advisory_lock(url: str, waiter: _Waiter) -> Iterator[HeldLock]:
    me = holder_name()
    # The lock belongs to this session: it is held exactly as long as this connection lives,
    # so a killed worker's lock is released by the server when its connection drops.
    with psycopg.connect(url, autocommit=True, application_name=me[:63]) as connection:
        while not _try_advisory_lock(connection):
            waiter.wait(_advisory_holder(connection))
        waiter.acquired(me)
        try:
            yield HeldLock(me, "postgresql", connection)
        finally:
            if not connection.closed:
                connection.execute("SELECT pg_advisory_unlock(%s)", (WORKER_LOCK_KEY,))
            _released(me)


def _try_advisory_lock(connection: psycopg.Connection[tuple[object, ...]]) -> bool:
    row = connection.execute("SELECT pg_try_advisory_lock(%s)", (WORKER_LOCK_KEY,)).fetchone()
    return bool(row and row[0])


def _advisory_holder(connection: psycopg.Connection[tuple[object, ...]]) -> str:
    """The process holding the lock, as the server knows it (its application name)."""
    unsigned = WORKER_LOCK_KEY & 0xFFFF_FFFF_FFFF_FFFF
    row = connection.execute(
        """
        SELECT a.application_name, a.client_addr, a.pid, a.backend_start
        FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
        WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
          AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
          AND l.classid = %s::bigint::oid AND l.objid = %s::bigint::oid
        """,
        (unsigned >> 32, unsigned & 0xFFFF_FFFF),
    ).fetchone()
    if row is None:
        return "another process (it has just let go)"
    name, address, backend_pid, since = row
    where = f" from {address}" if address else ""
    return f"{name or 'an unnamed session'} (server pid {backend_pid}{where}, since {since:%F %T})"


@contextmanager
def _file_lock(data_dir: Path, waiter: _Waiter) -> Iterator[HeldLock]:
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / LOCK_FILE
    owner = data_dir / f"{LOCK_FILE}.owner"
    me = holder_name()
    # thread_local=False: the lock is the process's, whichever thread releases it.
    lock = FileLock(path, thread_local=False)
    while True:
        try:
            lock.acquire(timeout=0)
            break
        except Timeout:
            waiter.wait(_file_holder(owner))
    try:
        since = datetime.now(UTC).isoformat(timespec="seconds")
        owner.write_text(json.dumps({"holder": me, "since": since}), encoding="utf-8")
        waiter.acquired(me)
        yield HeldLock(me, "sqlite")
    finally:
        owner.unlink(missing_ok=True)
        lock.release()
        _released(me)


def _released(holder: str) -> None:
    log.info("released the worker lock", extra={"action": "lock_released", "holder": holder})


def _file_holder(owner: Path) -> str:
    try:
        recorded = json.loads(owner.read_text(encoding="utf-8"))
        return f"{recorded['holder']} (since {recorded['since']})"
    except (OSError, ValueError, KeyError, TypeError):
        return f"another process (lock file {owner.with_suffix('')})"
