"""The optional daily digest: one message per department contact listing their open findings."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Engine

from domain.calendar import local_date
from domain.views import FindingView
from notifications.compose import Composer
from notifications.directory import Directory
from notifications.outbox import insert_rows, message_id, outbox_id
from notifications.tables import PENDING

OPEN = frozenset({"issued", "acknowledged", "rectified"})


@dataclass(frozen=True)
class DigestItem:
    """One open finding as the digest lists it (a ledger row or a FindingView gives these)."""

    id: str
    order_ref: str
    ref: str
    title: str
    department: str
    status: str
    due_on: date
    overdue_days: int

    @classmethod
    def from_view(cls, view: FindingView) -> DigestItem:
        title = view.title or view.description[:60]
        return cls(
            str(view.id),
            view.order_ref,
            view.ref,
            title,
            view.department,
            view.status,
            view.due_on,
            view.overdue_days,
        )


class DigestWriter:
    """Writes today's digests into the outbox; a second run on the same day adds nothing."""

    def __init__(
        self,
        engine: Engine,
        directory: Directory,
        composer: Composer,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.engine, self.directory, self.composer, self.clock = engine, directory, composer, clock

    def write(self, findings: Iterable[DigestItem], today: date | None = None) -> int:
        """Queue one digest per contact address for a China date (default today); rows added."""
        now = self.clock()
        today = today or local_date(now)
        by_contact: dict[str, list[DigestItem]] = {}
        names: dict[str, list[str]] = {}
        for item in findings:
            department = self.directory.department(item.department)
            if item.status not in OPEN or department is None or not department.contact_email:
                continue
            contact = department.contact_email.strip()
            by_contact.setdefault(contact.lower(), []).append(item)
            known = names.setdefault(contact.lower(), [contact])
            if department.name not in known:
                known.append(department.name)
        rows = [
            self._row(names[key][0], "、".join(names[key][1:]), items, today, now)
            for key, items in by_contact.items()
        ]
        with self.engine.begin() as connection:
            return insert_rows(connection, rows)

    def _row(
        self,
        contact: str,
        department_name: str,
        items: list[DigestItem],
        today: date,
        now: datetime,
    ) -> dict[str, Any]:
        items = sorted(items, key=lambda i: (-i.overdue_days, i.due_on, i.order_ref, i.ref))
        listed = [{**vars(item), "link": self.composer.finding_link(item.id)} for item in items]
        rendered = self.composer.render(
            "digest",
            department_name=department_name,
            today=today,
            items=listed,
            overdue_count=sum(1 for i in items if i.overdue_days),
        )
        row_id = outbox_id(f"digest:{today.isoformat()}", contact, "digest")
        return {
            "id": row_id,
            "message_id": message_id(row_id),
            "finding_id": None,
            "event_position": None,
            "event_type": "Digest",
            "about": f"Digest {today.isoformat()}",
            "template": "digest",
            "recipient": contact,
            "language": self.composer.language,
            "subject": rendered.subject,
            "text_body": rendered.text,
            "html_body": rendered.html,
            "status": PENDING,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
