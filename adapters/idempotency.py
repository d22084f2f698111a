"""Responses kept per (user, Idempotency-Key), so a retried request is answered, not redone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import (
    Column,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    delete,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from adapters.projections.tables import UTCDateTime

IN_PROGRESS = 0
metadata = MetaData()
responses = Table(
    "lastmile_idempotency",
    metadata,
    Column("user_name", String(64), primary_key=True),
    Column("key", String(200), primary_key=True),
    Column("request", String(64), nullable=False),  # digest of method, path and body
    Column("status", Integer, nullable=False),  # IN_PROGRESS until answered
    Column("body", Text, nullable=False),
    Column("headers", Text, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)


@dataclass(frozen=True)
class Kept:
    status: int  # IN_PROGRESS while the first request is still running
    body: str
    headers: str
    same_request: bool


class IdempotencyStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create_tables(self) -> None:
        metadata.create_all(self.engine)

    def claim(self, user: str, key: str, request: str) -> Kept | None:
        """Claim the key for this request; None when claimed, else what is kept under it."""
        row = {
            "user_name": user,
            "key": key,
            "request": request,
            "status": IN_PROGRESS,
            "body": "",
            "headers": "",
            "created_at": datetime.now(UTC),
        }
        try:
            with self.engine.begin() as connection:
                connection.execute(responses.insert().values(**row))
            return None
        except IntegrityError:
            with self.engine.connect() as connection:
                kept = connection.execute(
                    select(responses).where(responses.c.user_name == user, responses.c.key == key)
                ).one()
            return Kept(kept.status, kept.body, kept.headers, kept.request == request)

    def keep(self, user: str, key: str, status: int, body: str, headers: str) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                update(responses)
                .where(responses.c.user_name == user, responses.c.key == key)
                .values(status=status, body=body, headers=headers)
            )

    def release(self, user: str, key: str) -> None:
        """Forget a claim whose request failed unexpectedly, so a retry can run again."""
        with self.engine.begin() as connection:
            connection.execute(
                delete(responses).where(responses.c.user_name == user, responses.c.key == key)
            )
