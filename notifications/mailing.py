"""Which events mail whom, with which template: the rules, apart from storage and SMTP."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from domain.findings import Finding
from domain.ladder import LadderPolicy, Recipient
from domain.views import FindingView
from notifications.directory import Directory, unique_addresses

CONTACT, HEAD = Recipient.DEPARTMENT_CONTACT, Recipient.DEPARTMENT_HEAD
REMINDER_KINDS = frozenset({"unacknowledged", "due_soon", "due_today", "overdue", "verification"})
MAILING_EVENTS: tuple[type[Finding.Event], ...] = (
    Finding.Issued,
    Finding.ReminderSent,
    Finding.Escalated,
    Finding.Rejected,
    Finding.Verified,
    Finding.ExtensionGranted,
    Finding.ExtensionDenied,
)
MAILING_TOPICS = tuple(str(getattr(cls, "TOPIC")) for cls in MAILING_EVENTS)  # noqa: B009


@dataclass(frozen=True)
class Mailing:
    """One event's message: its template, its addresses and what the template reads."""

    template: str
    addresses: tuple[str, ...]
    context: dict[str, Any] = field(default_factory=dict)
    kind: str | None = None  # a reminder's kind and key, for the relevance check
    key: str | None = None


def mailing_for(
    event: Finding.Event,
    view: FindingView,
    directory: Directory,
    ladder: LadderPolicy,
    days_left: int,
) -> Mailing | None:
    """The message an event calls for, or None (NotificationFailed and most events mail nobody)."""
    match event:
        case Finding.Issued():
            return _mailing("issued", (CONTACT,), view, directory)
        case Finding.ReminderSent(kind=kind, key=key, recipients=recipients):
            template = f"reminder_{kind}" if kind in REMINDER_KINDS else "reminder"
            mailing = _mailing(
                template,
                recipients,
                view,
                directory,
                days_left=days_left,
                overdue_days=view.overdue_days,
            )
            return Mailing(mailing.template, mailing.addresses, mailing.context, kind, key)
        case Finding.Escalated(level=level, reason=reason):
            recipients = ladder.escalation_recipients(level)
            return _mailing(f"escalation_{level}", recipients, view, directory, reason=reason)
        case Finding.Rejected(reason=reason):
            roles = (CONTACT, Recipient.RESPONSIBLE_PERSON)
            return _mailing("rejected", roles, view, directory, reason=reason)
        case Finding.Verified(note=note):
            return _mailing("verified", (CONTACT,), view, directory, reason=note)
        case Finding.ExtensionGranted(n=n, note=note) | Finding.ExtensionDenied(n=n, note=note):
            template = (
                "extension_granted"
                if isinstance(event, Finding.ExtensionGranted)
                else "extension_denied"
            )
            requester = [x.requested_by for x in view.extensions if x.n == n]
            extra = directory.emails_of(requester)
            return _mailing(template, (CONTACT,), view, directory, extra, reason=note)
    return None


def _mailing(
    template: str,
    roles: Sequence[str],
    view: FindingView,
    directory: Directory,
    extra: Sequence[str] = (),
    **context: Any,
) -> Mailing:
    found = [address for role in roles for address in directory.addresses(role, view)]
    return Mailing(template, tuple(unique_addresses([*found, *extra])), context)
