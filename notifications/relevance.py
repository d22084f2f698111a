"""Is a reminder still worth sending? Checked against the finding's state just before sending."""

from __future__ import annotations

from datetime import date
from typing import Protocol
from uuid import UUID

from domain.errors import NotFoundError
from domain.values import Status
from domain.views import FindingView
from notifications.tables import OutboxRow

DEPARTMENT_HOLDS_CLOCK = frozenset({Status.ISSUED.value, Status.ACKNOWLEDGED.value})
DEADLINE_KINDS = frozenset({"due_soon", "due_today", "overdue"})


class Findings(Protocol):
    def finding(self, finding: UUID) -> FindingView: ...


def reminder_still_due(kind: str | None, due_on: date | None, finding: FindingView) -> bool:
    """A reminder stops mattering once the finding moved on (acknowledged, extended, closed…)."""
    if kind == "unacknowledged":
        return finding.status == Status.ISSUED.value
    if kind in DEADLINE_KINDS:
        return finding.status in DEPARTMENT_HOLDS_CLOCK and finding.due_on == due_on
    if kind == "verification":
        return finding.status == Status.RECTIFIED.value
    return finding.status in DEPARTMENT_HOLDS_CLOCK | {Status.RECTIFIED.value}


class ReminderRelevance:
    """MailSender's relevance check: reminders are re-judged, every other mail always goes."""

    def __init__(self, findings: Findings) -> None:
        self.findings = findings

    def __call__(self, row: OutboxRow) -> bool:
        if row.event_type != "ReminderSent" or row.finding_id is None:
            return True
        try:
            finding = self.findings.finding(UUID(row.finding_id))
        except NotFoundError:
            return False
        return reminder_still_due(row.kind, row.due_on, finding)
