"""Outbox counts for /healthz and /metrics."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, func, select

from notifications.tables import PENDING, STATUSES, mail_outbox


@dataclass(frozen=True)
class MailHealth:
    counts: dict[str, int]  # every status, zero included
    oldest_pending_at: datetime | None  # when the longest-waiting pending mail was written

    @property
    def pending(self) -> int:
        return self.counts["pending"]

    @property
    def failed(self) -> int:
        return self.counts["failed"]


def mail_health(engine: Engine) -> MailHealth:
    """Rows per status and the oldest pending one, in two cheap queries."""
    counts = dict.fromkeys(STATUSES, 0)
    with engine.connect() as connection:
        query = select(mail_outbox.c.status, func.count()).group_by(mail_outbox.c.status)
        for status, count in connection.execute(query):
            counts[status] = int(count)
        oldest = connection.execute(
            select(func.min(mail_outbox.c.created_at)).where(mail_outbox.c.status == PENDING)
        ).scalar()
    # func.min loses the column type: give the SQLite value its UTC zone back.
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=UTC)
    return MailHealth(counts, oldest)
