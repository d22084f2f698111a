"""Turn aggregates and stored events into the plain views that queries return."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from domain.budget_decisions import BudgetDecision
from domain.calendar import WorkingCalendar, end_of_day, local_date
from domain.findings import Finding
from domain.ladder import ClockState
from domain.registry import Department, Evaluation
from domain.values import Status
from domain.views import (
    BudgetDecisionView,
    DepartmentView,
    EvaluationView,
    EvidenceView,
    ExtensionView,
    FindingView,
    HistoryEntry,
)

# The department holds the clock only while it still has to act; once the report is
# submitted the clock is the evaluator's (PRODUCT.md §5), so it is not overdue.
DEPARTMENT_HOLDS = frozenset({Status.ISSUED, Status.ACKNOWLEDGED})
_ENVELOPE = frozenset({"originator_id", "originator_version", "timestamp", "actor", "role"})


def is_overdue(finding: Finding, now: datetime) -> bool:
    return finding.status in DEPARTMENT_HOLDS and now > end_of_day(finding.deadline.due_on)


def overdue_days(finding: Finding, now: datetime, calendar: WorkingCalendar) -> int:
    """Working days the department has missed since the current deadline; 0 when not overdue.

    Working days, so a finding due the day before a holiday has missed none during it;
    and only the department's days: while a submitted report waited for the evaluator
    (until it was sent back), the clock was the evaluator's.
    """
    if not is_overdue(finding, now):
        return 0
    due, today = finding.deadline.due_on, local_date(now)
    waited = sum(
        calendar.working_days_between(max(due, local_date(start)), min(today, local_date(end)))
        for start, end in finding.review_periods
    )
    return calendar.working_days_between(due, today) - waited


def clock_state(finding: Finding, at: datetime, calendar: WorkingCalendar) -> ClockState:
    """What the ladder needs to decide on the finding at a moment, from the aggregate itself."""
    submitted = finding.rectified_at if finding.status is Status.RECTIFIED else None
    return ClockState(
        status=finding.status,
        acknowledge_due_on=finding.acknowledge_deadline.due_on,
        due_on=finding.deadline.due_on,
        department_holds_clock=finding.status in DEPARTMENT_HOLDS,
        overdue_days=overdue_days(finding, at, calendar),
        submitted_on=local_date(submitted) if submitted is not None else None,
        escalation_level=finding.escalation_level,
        # One review period per report sent back this cycle; a reopened cycle starts at none.
        rejections=len(finding.review_periods),
        done_keys=frozenset(finding.reminder_keys),
    )


def finding_view(finding: Finding, as_of: datetime, calendar: WorkingCalendar) -> FindingView:
    late = is_overdue(finding, as_of)
    return FindingView(
        id=finding.id,
        ref=finding.ref,
        order_ref=finding.order_ref,
        evaluation=finding.evaluation,
        department=finding.department,
        title=finding.title,
        description=finding.description,
        category=finding.category,
        rectification_class=finding.rectification_class.value,
        requirement=finding.requirement,
        status=finding.status.value,
        issued_on=finding.issued_on,
        issued_by=finding.issued_by,
        due_on=finding.deadline.due_on,
        original_due_on=finding.original_deadline.due_on,
        acknowledge_due_on=finding.acknowledge_deadline.due_on,
        deadline=finding.deadline,
        original_deadline=finding.original_deadline,
        overdue=late,
        overdue_days=overdue_days(finding, as_of, calendar),
        escalation_level=finding.escalation_level,
        rejections=finding.rejections,
        submissions=finding.submissions,
        cycle=finding.cycle,
        responsible_person=finding.responsible_person,
        progress_percent=finding.progress_percent,
        amount_recovered=finding.amount_recovered,
        rules_improved=finding.rules_improved,
        version=finding.version,
        as_of=as_of,
        evidence=tuple(EvidenceView(**dataclasses.asdict(e)) for e in finding.evidence.values()),
        extensions=tuple(ExtensionView(**dataclasses.asdict(x)) for x in finding.extensions),
    )


def history_entry(event: Finding.Event) -> HistoryEntry:
    fields: dict[str, Any] = {
        name: value for name, value in vars(event).items() if name not in _ENVELOPE
    }
    fields.pop("originator_topic", None)
    return HistoryEntry(
        version=event.originator_version,
        type=type(event).__name__,
        at=event.timestamp,
        actor=event.actor,
        role=event.role,
        fields=fields,
    )


def department_view(department: Department) -> DepartmentView:
    return DepartmentView(
        id=department.id,
        code=department.code,
        name=department.name,
        contact_email=department.contact_email,
        head_email=department.head_email,
    )


def evaluation_view(evaluation: Evaluation) -> EvaluationView:
    return EvaluationView(
        id=evaluation.id,
        ref=evaluation.ref,
        title=evaluation.title,
        year=evaluation.year,
        object_type=evaluation.object_type.value,
        department=evaluation.department,
        budget_amount=evaluation.budget_amount,
        score=evaluation.score,
        grade=evaluation.grade.value,
    )


def budget_decision_view(decision: BudgetDecision) -> BudgetDecisionView:
    return BudgetDecisionView(
        id=decision.id,
        budget_year=decision.budget_year,
        evaluation_ref=decision.evaluation_ref,
        suggestion=decision.suggestion,
        accepted=decision.accepted,
        amount=decision.amount,
        note=decision.note,
        confirmed_by=decision.confirmed_by,
        confirmed_role=decision.confirmed_role,
        confirmed_at=decision.created_on,
        covered_finding_ids=decision.covered_finding_ids,
    )
