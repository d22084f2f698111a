"""Turning a rectification order (整改通知书) into issued findings with computed deadlines."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime

from domain.calendar import WorkingCalendar, local_date
from domain.errors import ValidationError
from domain.findings import Finding
from domain.policies import DeadlineCalculation, DeadlinePolicy, deadline_for, explicit_deadline
from domain.values import Actor, RectificationClass, optional_text, required_text
from domain.views import FindingDraft, OrderDraft

CLASS_LABELS = {
    "立行立改": RectificationClass.IMMEDIATE,
    "分阶段整改": RectificationClass.PHASED,
    "持续整改": RectificationClass.LONG_TERM,
}
TITLE_FROM_DESCRIPTION = 40


def rectification_class(value: str) -> RectificationClass:
    """Accept the code (immediate) or the label a ledger uses (立行立改)."""
    text = value.strip()
    if text in CLASS_LABELS:
        return CLASS_LABELS[text]
    try:
        return RectificationClass(text)
    except ValueError:
        choices = ", ".join([c.value for c in RectificationClass] + list(CLASS_LABELS))
        raise ValidationError(f"Rectification class {value!r} is not one of {choices}.") from None


def issue_findings(
    actor: Actor,
    now: datetime,
    order: OrderDraft,
    department: str,
    evaluation: str,
    calendar: WorkingCalendar,
    policy: DeadlinePolicy,
) -> list[Finding]:
    """Validate the whole order first, so a bad finding issues none of them."""
    order_ref = required_text(order.ref, "The order number (文号)", 100)
    issued_on = _issued_on(order.issued_on, local_date(now))
    _check_findings_listed(order)
    acknowledge = deadline_for("acknowledge", policy.acknowledge, issued_on, calendar)
    return [
        Finding.issue(
            actor=actor,
            at=now,
            order_ref=order_ref,
            evaluation=evaluation,
            department=department,
            issued_on=issued_on,
            acknowledge_deadline=acknowledge,
            **_finding_fields(draft, issued_on, calendar, policy),
        )
        for draft in order.findings
    ]


def _issued_on(given: date | None, today: date) -> date:
    if given is None:
        return today
    if given > today:
        raise ValidationError(f"The notice date {given} is in the future (today is {today}).")
    return given


def _check_findings_listed(order: OrderDraft) -> None:
    if not order.findings:
        raise ValidationError(f"Order {order.ref} lists no findings; an order needs at least one.")
    repeated = [ref for ref, n in Counter(d.ref.strip() for d in order.findings).items() if n > 1]
    if repeated:
        raise ValidationError(f"Finding numbers repeat within the order: {', '.join(repeated)}.")


def _finding_fields(
    draft: FindingDraft, issued_on: date, calendar: WorkingCalendar, policy: DeadlinePolicy
) -> dict[str, object]:
    label = f"Finding {draft.ref.strip() or '?'}"
    description = required_text(draft.description, f"{label}: the description")
    kind = rectification_class(draft.rectification_class)
    return {
        "ref": required_text(draft.ref, "The finding number", 50),
        "title": optional_text(draft.title, f"{label}: the title", 500)
        or description[:TITLE_FROM_DESCRIPTION],
        "description": description,
        "category": required_text(draft.category, f"{label}: the category (问题类型)", 100),
        "rectification_class": kind.value,
        "requirement": optional_text(draft.requirement, f"{label}: the requirement"),
        "deadline": _deadline(label, kind, draft.due_on, issued_on, calendar, policy),
    }


def _deadline(
    label: str,
    kind: RectificationClass,
    due_on: date | None,
    issued_on: date,
    calendar: WorkingCalendar,
    policy: DeadlinePolicy,
) -> DeadlineCalculation:
    if due_on is None:
        return deadline_for(f"class:{kind.value}", policy.classes[kind.value], issued_on, calendar)
    if due_on <= issued_on:
        raise ValidationError(
            f"{label}: the deadline {due_on} must be after the notice date {issued_on}."
        )
    return explicit_deadline(due_on, issued_on, calendar)
