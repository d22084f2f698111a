"""Outbox tables: mail's own MetaData, so `lastmile rebuild` of the read models never touches it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    MetaData,
    Row,
    String,
    Table,
    Text,
    TypeDecorator,
)
from sqlalchemy.engine import Dialect

# The same type as the read models' UTCDateTime: notifications may not import adapters
# (tests/test_architecture.py), so the few lines are repeated here.


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes stored as UTC: SQLite keeps no offset, and mixed offsets compare wrong."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"refusing a naive datetime: {value!r}")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None else None


metadata = MetaData()
BIG = BigInteger().with_variant(Integer(), "sqlite")

PENDING, SENDING, SENT, FAILED, SUPERSEDED = "pending", "sending", "sent", "failed", "superseded"
STATUSES = (PENDING, SENDING, SENT, FAILED, SUPERSEDED)

mail_tracking = Table(
    "mail_tracking",
    metadata,
    Column("processor", String(64), primary_key=True),
    Column("position", BIG, nullable=False),  # last notification id turned into mail
)

mail_outbox = Table(
    "mail_outbox",
    metadata,
    # sha256 of (finding, event version, recipient, template): a replayed event collides.
    Column("id", String(64), primary_key=True),  # 40 hex digits
    Column("message_id", String(100), nullable=False),  # <id@lastmile>, the same every time
    Column("finding_id", String(36)),  # None for a digest
    Column("event_position", BIG),  # notification id of the event; None for a digest
    Column("event_type", String(40), nullable=False),  # ReminderSent, Escalated, …, Digest
    Column("about", String(100), nullable=False),  # e.g. "ReminderSent v7"
    Column("template", String(40), nullable=False),  # e.g. reminder_due_soon
    Column("kind", String(40)),  # the reminder's kind, for the relevance check
    Column("key", String(200)),  # the reminder's key
    Column("due_on", Date),  # the finding's deadline when the event happened
    Column("recipient", String(254), nullable=False),
    Column("language", String(8), nullable=False),
    Column("subject", String(500), nullable=False),
    Column("text_body", Text, nullable=False),
    Column("html_body", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UTCDateTime(), nullable=False),
    Column("claimed_at", UTCDateTime()),  # when a sender took it (status sending)
    Column("last_error", Text),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("sent_at", UTCDateTime()),
    Column("failure_reported_at", UTCDateTime()),  # NotificationFailed recorded on the trail
    Index("mail_outbox_due", "status", "next_attempt_at"),
    Index("mail_outbox_finding", "finding_id"),
)


@dataclass(frozen=True)
class OutboxRow:
    """One outbox row as read back; what senders, relevance checks and failure hooks get."""

    id: str
    message_id: str
    finding_id: str | None
    event_position: int | None
    event_type: str
    about: str
    template: str
    kind: str | None
    key: str | None
    due_on: date | None
    recipient: str
    language: str
    subject: str
    text_body: str
    html_body: str
    status: str
    attempts: int
    next_attempt_at: datetime
    claimed_at: datetime | None
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    failure_reported_at: datetime | None

    @classmethod
    def from_row(cls, row: Row[Any]) -> OutboxRow:
        return cls(**row._mapping)
