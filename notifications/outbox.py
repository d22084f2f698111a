"""Derive the outbox from the event log: rows and position advance together, exactly once.

Like adapters/projections/runner.py: each batch inserts its outbox rows and advances
`mail_tracking` in ONE transaction, from the position the batch started at; a crash rolls
both back, and a second deriver racing this one has its batch refused, never doubled.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, Select, select, update
from sqlalchemy.dialects import postgresql, sqlite

from domain.application import LastmileApplication
from domain.calendar import local_date
from domain.findings import Finding
from domain.ladder import LadderPolicy
from domain.readers import finding_view
from domain.views import FindingView
from notifications.compose import Composer, finding_context
from notifications.directory import Directory
from notifications.mailing import (
    MAILING_TOPICS,
    Mailing,
    mailing_for,
)
from notifications.tables import PENDING, mail_outbox, mail_tracking, metadata

NAME = "mail"
BATCH_SIZE = 200


class MailConflictError(RuntimeError):
    """Another deriver advanced the mail position first; this batch was rolled back."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


def outbox_id(subject_key: str, recipient: str, template: str) -> str:
    """The row id: the same (event, recipient, template) always gives the same id."""
    seed = f"{subject_key}\x1f{recipient.lower()}\x1f{template}"
    # 160 bits: collision-free in practice, and short enough for an unfolded Message-ID header.
    return hashlib.sha256(seed.encode()).hexdigest()[:40]


def message_id(row_id: str) -> str:
    return f"<{row_id}@lastmile>"


def create_outbox_tables(engine: Engine) -> None:
    metadata.create_all(engine)


def insert_rows(connection: Connection, rows: Sequence[dict[str, Any]]) -> int:
    """Insert rows whose id is new; a row already there (same event, same mail) is kept."""
    if not rows:
        return 0
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(mail_outbox)
        .on_conflict_do_nothing(index_elements=["id"])
        .returning(mail_outbox.c.id)
    )
    # rowcount is not reliable for a batch on PostgreSQL; RETURNING counts the new rows.
    return len(connection.execute(statement, list(rows)).all())


class MailDeriver:
    """Turns mailing events into outbox rows, one per (event, recipient)."""

    def __init__(
        self,
        app: LastmileApplication,
        engine: Engine,
        directory: Directory,
        composer: Composer,
        *,
        ladder: LadderPolicy | None = None,
        clock: Callable[[], datetime] = _utc_now,
        batch_size: int = BATCH_SIZE,
    ) -> None:
        self.app, self.engine = app, engine
        self.directory, self.composer = directory, composer
        self.ladder = ladder or app.policy.ladder
        self.clock = clock
        self.batch_size = batch_size

    def create_tables(self, *, skip_history: bool = False) -> None:
        """Create the outbox; skip_history starts after today's log (no mail for old events)."""
        create_outbox_tables(self.engine)
        with self.engine.begin() as connection:
            if connection.execute(_position_query()).first() is None:
                start = (self.app.recorder.max_notification_id() or 0) if skip_history else 0
                connection.execute(mail_tracking.insert().values(processor=NAME, position=start))

    def position(self) -> int:
        with self.engine.connect() as connection:
            return int(connection.execute(_position_query()).scalar_one())

    def derive(self) -> int:
        """Write the outbox rows of every event recorded so far; returns how many were new."""
        inserted = 0
        while True:
            try:
                batch = self._derive_next_batch()
            except MailConflictError:
                continue  # another deriver moved on; read from its position
            if batch is None:
                return inserted
            inserted += batch

    def _derive_next_batch(self) -> int | None:
        with self.engine.begin() as connection:
            start = _lock_position(connection)
            notifications = self.app.recorder.select_notifications(
                start=start, limit=self.batch_size, topics=MAILING_TOPICS, inclusive_of_start=False
            )
            if not notifications:
                return None
            rows: list[dict[str, Any]] = []
            for notification in notifications:
                event = self.app.mapper.to_domain_event(notification)
                if isinstance(event, Finding.Event):
                    rows += self.rows_for(notification.id, event)
            inserted = insert_rows(connection, rows)
            advanced = connection.execute(
                update(mail_tracking)
                .where(mail_tracking.c.processor == NAME, mail_tracking.c.position == start)
                .values(position=notifications[-1].id)
            )
            if advanced.rowcount != 1:
                raise MailConflictError(f"mail moved past {start} meanwhile")
        return inserted

    def rows_for(self, position: int, event: Finding.Event) -> list[dict[str, Any]]:
        """The outbox rows of one event (none for events that mail nobody)."""
        view = self._view_at(event)
        # Days left when the reminder was recorded, not the step's nominal count: after a
        # scheduler outage a "5 days before" step may be recorded with 2 days to go.
        days_left = self.app.calendar.working_days_between(local_date(event.timestamp), view.due_on)
        mailing = mailing_for(event, view, self.directory, self.ladder, days_left)
        if mailing is None or not mailing.addresses:
            return []
        about = f"{type(event).__name__} v{event.originator_version}"
        rendered = self.composer.render(mailing.template, **self._context(view, mailing))
        subject_key = f"{event.originator_id}:{event.originator_version}"
        now = self.clock()
        return [
            _row(
                outbox_id(subject_key, address, mailing.template),
                address,
                mailing,
                rendered.subject,
                rendered.text,
                rendered.html,
                language=self.composer.language,
                finding_id=str(event.originator_id),
                event_position=position,
                event_type=type(event).__name__,
                about=about,
                due_on=view.due_on,
                created_at=now,
            )
            for address in mailing.addresses
        ]

    def _view_at(self, event: Finding.Event) -> FindingView:
        """The finding as it stood right after the event (its later history is not this mail's)."""
        finding: Finding = self.app.repository.get(
            event.originator_id, version=event.originator_version
        )
        return finding_view(finding, event.timestamp, self.app.calendar)

    def _context(self, view: FindingView, mailing: Mailing) -> dict[str, Any]:
        department = self.directory.department(view.department)
        name = department.name if department else view.department
        link = self.composer.finding_link(view.id)
        return {**finding_context(view, name, link), **mailing.context}


def _row(
    row_id: str,
    address: str,
    mailing: Mailing,
    subject: str,
    text: str,
    html: str,
    **fields: Any,
) -> dict[str, Any]:
    return {
        "id": row_id,
        "message_id": message_id(row_id),
        "template": mailing.template,
        "kind": mailing.kind,
        "key": mailing.key,
        "recipient": address,
        "subject": subject,
        "text_body": text,
        "html_body": html,
        "status": PENDING,
        "attempts": 0,
        "next_attempt_at": fields["created_at"],
        **fields,
    }


def _lock_position(connection: Connection) -> int:
    """Read the position, holding the lock that makes a second deriver wait its turn."""
    query = _position_query()
    if connection.dialect.name == "postgresql":
        query = query.with_for_update()
    else:
        # SQLite has no row locks: a write takes the database's write lock first.
        connection.execute(
            update(mail_tracking)
            .where(mail_tracking.c.processor == NAME)
            .values(position=mail_tracking.c.position)
        )
    return int(connection.execute(query).scalar_one())


def _position_query() -> Select[tuple[int]]:
    return select(mail_tracking.c.position).where(mail_tracking.c.processor == NAME)
