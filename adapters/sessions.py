"""Browser sessions and login throttling, kept in the records database so every process agrees."""

from __future__ import annotations

import hashlib
import math
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    Engine,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    delete,
    func,
    select,
)

from adapters.projections.tables import UTCDateTime
from adapters.settings import Settings

CLIENT_LENGTH = 64
metadata = MetaData()
sessions_table = Table(
    "lastmile_sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),  # SHA-256 of the cookie; never the id
    Column("user_name", String(64), nullable=False, index=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False, index=True),
)
# One row per login attempt until it succeeds; a row that stays is a failure. Unknown user
# names are recorded too, so probing for names is throttled like guessing passwords.
attempts_table = Table(
    "lastmile_login_attempts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_name", String(64), nullable=False),
    Column("client", String(CLIENT_LENGTH), nullable=False),
    Column("at", UTCDateTime(), nullable=False, index=True),
    Index("ix_lastmile_login_attempts_user_at", "user_name", "at"),
    Index("ix_lastmile_login_attempts_client_at", "client", "at"),
)


@dataclass(frozen=True)
class LoginPolicy:
    """How many failed logins a window allows (per user name and per client), and session life."""

    attempts: int = 5
    window: timedelta = timedelta(minutes=15)
    session: timedelta = timedelta(hours=8)


def login_policy(settings: Settings) -> LoginPolicy:
    return LoginPolicy(
        attempts=settings.login_attempts,
        window=timedelta(minutes=settings.login_window_minutes),
        session=timedelta(hours=settings.session_hours),
    )


class LoginLockedError(Exception):
    """Too many failed logins for this user name or from this client; try again later."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"Too many failed sign-ins; try again in {retry_after} seconds.")
        self.retry_after = retry_after  # whole seconds, at least 1


def session_hash(session_id: str) -> str:
    # A session id is 256 random bits, so a fast hash suffices; a leaked table opens nothing.
    return hashlib.sha256(session_id.encode()).hexdigest()


class SessionStore:
    """Login attempts and sessions by user name; passwords are the UserStore's business."""

    def __init__(self, engine: Engine, clock: Callable[[], datetime], policy: LoginPolicy) -> None:
        self.engine, self.clock, self.policy = engine, clock, policy

    def create_tables(self) -> None:
        metadata.create_all(self.engine)

    def admit(self, name: str, client: str) -> None:
        """Record an attempt before the password is checked, or refuse when locked.

        Recording first means concurrent guesses count against each other at once.
        """
        now, client = self.clock(), client[:CLIENT_LENGTH]
        with self.engine.begin() as connection:
            self._forget_old_attempts(connection, now)
            retry_at = self._locked_until(connection, name, client, now)
            if retry_at is not None:
                raise LoginLockedError(max(1, math.ceil((retry_at - now).total_seconds())))
            connection.execute(
                attempts_table.insert().values(user_name=name, client=client, at=now)
            )

    def forget_failures(self, name: str) -> None:
        """A successful login clears the name's failures from every address.

        Failures on other names stay counted against their address, so an attacker who
        also holds a valid account cannot reset the lock on their address by signing in.
        """
        with self.engine.begin() as connection:
            connection.execute(delete(attempts_table).where(attempts_table.c.user_name == name))

    def start(self, name: str) -> str:
        """A new session for the user; the returned id goes in the cookie and nowhere else."""
        session_id, now = secrets.token_urlsafe(32), self.clock()
        with self.engine.begin() as connection:
            connection.execute(delete(sessions_table).where(sessions_table.c.expires_at <= now))
            connection.execute(
                sessions_table.insert().values(
                    id_hash=session_hash(session_id),
                    user_name=name,
                    created_at=now,
                    expires_at=now + self.policy.session,
                )
            )
        return session_id

    def end(self, session_id: str) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                delete(sessions_table).where(sessions_table.c.id_hash == session_hash(session_id))
            )

    @staticmethod
    def end_all(connection: Connection, name: str) -> int:
        """End every session of the user, in the caller's transaction; returns how many."""
        ended = connection.execute(delete(sessions_table).where(sessions_table.c.user_name == name))
        return ended.rowcount

    def _forget_old_attempts(self, connection: Connection, now: datetime) -> None:
        # SKIP LOCKED (PostgreSQL; SQLite serialises writers anyway): concurrent logins each
        # prune what no one else is pruning, instead of waiting on or deadlocking each other.
        old = (
            select(attempts_table.c.id)
            .where(attempts_table.c.at <= now - self.policy.window)
            .with_for_update(skip_locked=True)
        )
        connection.execute(
            delete(attempts_table).where(attempts_table.c.id.in_(old.scalar_subquery()))
        )

    def _locked_until(
        self, connection: Connection, name: str, client: str, now: datetime
    ) -> datetime | None:
        """When the later of the two locks (name, client) lifts; None when neither is locked."""
        since = now - self.policy.window
        by_name, by_client = attempts_table.c.user_name == name, attempts_table.c.client == client
        lifts = [self._lifts_at(connection, key, since) for key in (by_name, by_client)]
        return max((t for t in lifts if t is not None), default=None)

    def _lifts_at(
        self, connection: Connection, key: ColumnElement[bool], since: datetime
    ) -> datetime | None:
        recent = select(attempts_table.c.at).where(key, attempts_table.c.at > since)
        count = connection.execute(select(func.count()).select_from(recent.subquery())).scalar_one()
        if count < self.policy.attempts:
            return None
        # The lock lifts when enough of the recent failures have left the window.
        oldest = recent.order_by(attempts_table.c.at).offset(count - self.policy.attempts).limit(1)
        at: datetime = connection.execute(oldest).scalar_one()
        return at + self.policy.window
