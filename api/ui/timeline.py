"""A finding's history as a timeline a person reads: labels, who, when, and the details."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from api.ui.i18n import Translator
from domain.policies import DeadlineCalculation
from domain.views import HistoryEntry

# The fields worth showing per event, in reading order.
SHOWN: dict[str, tuple[str, ...]] = {
    "Issued": ("deadline",),
    "Acknowledged": ("responsible_person", "plan"),
    "ProgressReported": ("percent", "note"),
    "EvidenceAttached": ("name", "size"),
    "ExtensionRequested": ("n", "new_due_on", "reason"),
    "ExtensionGranted": ("n", "deadline", "note"),
    "ExtensionDenied": ("n", "note"),
    "Rectified": ("measures", "evidence", "amount_recovered", "rules_improved"),
    "Verified": ("note",),
    "Rejected": ("reason",),
    "Escalated": ("reason", "trigger"),
    "ReminderSent": ("kind", "recipients"),
    "NotificationFailed": ("recipient", "subject", "error"),
    "InterviewRecorded": ("held_on", "note"),
    "AccountabilityDecided": ("decision", "note"),
    "Reopened": ("reason", "deadline"),
    "Withdrawn": ("reason",),
}
# Events that warn or press: drawn in the warning colour.
PRESSING = frozenset({"Escalated", "ReminderSent", "NotificationFailed", "Rejected"})


@dataclass(frozen=True)
class Entry:
    label: str
    at: datetime
    actor: str
    role: str
    details: list[tuple[str, str]]
    pressing: bool


def timeline(history: Sequence[HistoryEntry], t: Translator) -> list[Entry]:
    """Newest first: what happened last is what a reader looks for."""
    return [_entry(e, t) for e in reversed(history)]


def _entry(event: HistoryEntry, t: Translator) -> Entry:
    key = f"event.{event.type}"
    if event.type == "Escalated":
        key = f"event.Escalated.{event.fields.get('level', 1)}"
    details = [
        (t(f"field.{name}"), _value(name, event.fields[name], t))
        for name in SHOWN.get(event.type, ())
        if _worth_showing(name, event.fields.get(name))
    ]
    return Entry(
        label=t.get(key) or event.type,
        at=event.at,
        actor=event.actor,
        role=t.get(f"role.{event.role}") or event.role,
        details=details,
        pressing=event.type in PRESSING,
    )


def _worth_showing(name: str, value: object) -> bool:
    if name in ("amount_recovered", "rules_improved") and not value:
        return False  # nothing recovered, no rules: not worth a line
    return value not in (None, "", ())


def _value(name: str, value: object, t: Translator) -> str:
    if isinstance(value, DeadlineCalculation):
        return value.due_on.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:,.2f}"
    if name == "percent":
        return f"{value}%"
    if name == "size" and isinstance(value, int):
        return f"{value / 1024:.1f} KB"
    if name == "evidence" and isinstance(value, Sequence):
        return t("timeline.files", n=len(value))
    if name == "recipients" and isinstance(value, Sequence) and not isinstance(value, str):
        return ", ".join(str(v) for v in value)
    if name in ("trigger", "kind"):
        return t.get(f"{name}.{value}") or str(value)
    return str(value)
