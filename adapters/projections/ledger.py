"""Ledger rows (整改台账) from finding events: one reducer per event type.

The aggregate keeps what decisions need; a ledger row keeps what reports need (when each
step happened, counters, and the overdue working days each holder has run up), computed
once per event so that reports are plain SQL sums.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from domain.calendar import WorkingCalendar, local_date
from domain.findings import Finding
from domain.policies import DeadlineRule, deadline_for

Row = dict[str, Any]
DEPARTMENT, EVALUATOR = "department", "evaluator"
_DIGITS = re.compile(r"\d+")


class LedgerReducer:
    """Applies finding events to ledger rows, with the calendar that counts working days."""

    def __init__(self, calendar: WorkingCalendar, verification: DeadlineRule) -> None:
        self.calendar = calendar
        self.verification = verification
        self._handlers: dict[type[Any], Callable[[Row, Any], None]] = {
            Finding.Acknowledged: self._acknowledged,
            Finding.ProgressReported: lambda r, e: r.update(progress_percent=e.percent),
            Finding.EvidenceAttached: lambda r, e: _add(r, "evidence_count"),
            Finding.ExtensionRequested: lambda r, e: _add(r, "extensions_requested"),
            Finding.ExtensionGranted: self._extension_granted,
            Finding.ExtensionDenied: lambda r, e: _add(r, "extensions_denied"),
            Finding.Rectified: self._rectified,
            Finding.Verified: self._verified,
            Finding.Rejected: self._rejected,
            Finding.Escalated: self._escalated,
            Finding.ReminderSent: self._reminder_sent,
            Finding.InterviewRecorded: lambda r, e: _add(r, "interviews"),
            Finding.AccountabilityDecided: lambda r, e: _add(r, "decisions"),
            Finding.Reopened: self._reopened,
            Finding.Withdrawn: self._withdrawn,
        }

    def issued(self, event: Finding.Issued, position: int) -> Row:
        due = event.deadline.due_on
        row: Row = {
            "id": str(event.originator_id),
            "order_ref": event.order_ref,
            "ref": event.ref,
            "ref_sort": int(m.group()) if (m := _DIGITS.search(event.ref)) else 0,
            "evaluation": event.evaluation,
            "department": event.department,
            "title": event.title,
            "description": event.description,
            "category": event.category,
            "rectification_class": event.rectification_class,
            "requirement": event.requirement,
            "responsible_person": "",
            "status": "issued",
            "cycle": 1,
            "issued_on": event.issued_on,
            "issued_at": event.timestamp,
            "cycle_started_on": event.issued_on,
            "acknowledge_due_on": event.acknowledge_deadline.due_on,
            "original_due_on": due,
            "due_on": due,
            "due_wdn": self.calendar.working_day_number(due),
            "progress_percent": 0,
            "amount_recovered": Decimal("0"),
            "department_periods": [],
            "ladder_keys": [],
            **dict.fromkeys(_NULLABLE),
            **dict.fromkeys(_COUNTERS, 0),
        }
        self._hold(row, DEPARTMENT, event.timestamp)
        self._stamp(row, event, position)
        return row

    def apply(self, row: Row, event: Finding.Event, position: int) -> None:
        """Change the row as the event changed the finding; unknown events only stamp it."""
        handler = self._handlers.get(type(event))
        if handler is not None:
            handler(row, event)
        self._stamp(row, event, position)

    # -- handlers -----------------------------------------------------------------

    def _acknowledged(self, row: Row, event: Finding.Acknowledged) -> None:
        row.update(status="acknowledged", responsible_person=event.responsible_person)
        if row["acknowledged_at"] is None:
            row.update(acknowledged_at=event.timestamp, acknowledged_on=local_date(event.timestamp))

    def _extension_granted(self, row: Row, event: Finding.ExtensionGranted) -> None:
        _add(row, "extensions_granted")
        due = event.deadline.due_on
        row.update(due_on=due, due_wdn=self.calendar.working_day_number(due))
        # Lateness is judged against the deadline in force, for past periods too, as the
        # finding's own overdue count does.
        row["department_overdue_days"] = _overdue(row["department_periods"], row["due_wdn"])

    def _rectified(self, row: Row, event: Finding.Rectified) -> None:
        _add(row, "submissions")
        submitted_on = local_date(event.timestamp)
        verify_due = deadline_for("verification", self.verification, submitted_on, self.calendar)
        row.update(
            status="rectified",
            submitted_at=event.timestamp,
            verify_due_on=verify_due.due_on,
            verify_due_wdn=self.calendar.working_day_number(verify_due.due_on),
            amount_recovered=event.amount_recovered,
            rules_improved=event.rules_improved,
        )
        self._hold(row, EVALUATOR, event.timestamp)

    def _verified(self, row: Row, event: Finding.Verified) -> None:
        verified_on = local_date(event.timestamp)
        row.update(
            status="verified",
            verified_at=event.timestamp,
            verified_on=verified_on,
            rectification_days=self.calendar.working_days_between(
                row["cycle_started_on"], verified_on
            ),
        )
        self._hold(row, None, event.timestamp)

    def _rejected(self, row: Row, event: Finding.Rejected) -> None:
        _add(row, "rejections")
        row["status"] = "acknowledged"
        self._hold(row, DEPARTMENT, event.timestamp)

    def _escalated(self, row: Row, event: Finding.Escalated) -> None:
        row["escalation_level"] = event.level
        _add(row, f"escalations_{event.level}")

    @staticmethod
    def _reminder_sent(row: Row, event: Finding.ReminderSent) -> None:
        _add(row, "reminders")
        # A new list, not an append: earlier version rows of this batch share the old one.
        row["ladder_keys"] = [*row["ladder_keys"], event.key]

    def _reopened(self, row: Row, event: Finding.Reopened) -> None:
        self._hold(row, None, event.timestamp)
        due = event.deadline.due_on
        row.update(
            status="acknowledged",
            cycle=row["cycle"] + 1,
            cycle_started_on=local_date(event.timestamp),
            original_due_on=due,
            due_on=due,
            due_wdn=self.calendar.working_day_number(due),
            verified_at=None,
            verified_on=None,
            rectification_days=None,
            escalation_level=0,
            earlier_cycles_overdue_days=(
                row["earlier_cycles_overdue_days"] + row["department_overdue_days"]
            ),
            department_periods=[],
            department_overdue_days=0,
            ladder_keys=[],
        )
        self._hold(row, DEPARTMENT, event.timestamp)

    def _withdrawn(self, row: Row, event: Finding.Withdrawn) -> None:
        row.update(status="withdrawn", withdrawn_at=event.timestamp)
        self._hold(row, None, event.timestamp)

    # -- the clock's holder ----------------------------------------------------------

    def _hold(self, row: Row, holder: str | None, at: datetime) -> None:
        """Close the current holder's period at `at` and start the next holder's."""
        now = self.calendar.working_day_number(local_date(at))
        if row["holder"] == DEPARTMENT:
            row["department_periods"] = [*row["department_periods"], [row["held_since_wdn"], now]]
            row["department_overdue_days"] = _overdue(row["department_periods"], row["due_wdn"])
        elif row["holder"] == EVALUATOR:
            late = now - max(row["verify_due_wdn"], row["held_since_wdn"])
            row["evaluator_overdue_days"] += max(0, late)
        row.update(holder=holder, held_since_wdn=now if holder else None)

    @staticmethod
    def _stamp(row: Row, event: Finding.Event, position: int) -> None:
        row.update(version=event.originator_version, position=position, changed_at=event.timestamp)


def _overdue(periods: list[list[int]], due_wdn: int) -> int:
    """Working days after the deadline that fell inside the department's periods."""
    return sum(max(0, end - max(start, due_wdn)) for start, end in periods)


def _add(row: Row, counter: str) -> None:
    row[counter] += 1


_NULLABLE = (
    "acknowledged_at", "acknowledged_on", "submitted_at", "verify_due_on", "verify_due_wdn",
    "verified_at", "verified_on", "withdrawn_at", "rectification_days", "holder",
    "held_since_wdn",
)  # fmt: skip
_COUNTERS = (
    "evidence_count", "submissions", "rejections", "extensions_requested", "extensions_granted",
    "extensions_denied", "escalation_level", "escalations_1", "escalations_2", "escalations_3",
    "reminders", "interviews", "decisions", "rules_improved", "department_overdue_days",
    "earlier_cycles_overdue_days", "evaluator_overdue_days",
)  # fmt: skip
