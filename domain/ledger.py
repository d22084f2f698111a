"""Importing a ledger (整改台账): every evaluation and order judged together, saved together."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.calendar import WorkingCalendar
from domain.errors import DomainError, ValidationError
from domain.findings import finding_id
from domain.orders import issue_findings
from domain.policies import DeadlinePolicy
from domain.registry import Evaluation
from domain.values import Actor, ObjectType
from domain.views import (
    EvaluationDraft,
    EvaluationView,
    FindingDraft,
    ImportResult,
    LedgerDraft,
    LedgerProblem,
    OrderDraft,
)

MESSAGES_IN_SUMMARY = 5
COMPARED_FACTS = ("title", "year", "score", "object_type", "budget_amount")


class LedgerRefusedError(ValidationError):
    """A ledger with problems; nothing of it was saved, and `problems` names every one."""

    def __init__(self, problems: Sequence[LedgerProblem]) -> None:
        self.problems = tuple(problems)
        shown = "; ".join(p.message for p in self.problems[:MESSAGES_IN_SUMMARY])
        more = len(self.problems) - MESSAGES_IN_SUMMARY
        tail = f" (and {more} more)" if more > 0 else ""
        super().__init__(f"The ledger was not imported, nothing of it was saved: {shown}{tail}")


@dataclass(frozen=True)
class LedgerFacts:
    """What the event log already holds about the keys a ledger names."""

    departments: frozenset[str]  # registered codes, upper case
    evaluations: Mapping[str, EvaluationView]  # recorded evaluations, by number
    issued: frozenset[UUID]  # findings issued before


@dataclass(frozen=True)
class LedgerPlan:
    """The aggregates a ledger would record, or every problem that stops it."""

    aggregates: tuple[Aggregate, ...]
    result: ImportResult
    problems: tuple[LedgerProblem, ...]


def ledger_finding_ids(ledger: LedgerDraft) -> list[UUID]:
    return [finding_id(o.ref, f.ref) for o in ledger.orders for f in o.findings]


def plan_ledger(
    actor: Actor,
    now: datetime,
    ledger: LedgerDraft,
    facts: LedgerFacts,
    calendar: WorkingCalendar,
    policy: DeadlinePolicy,
) -> LedgerPlan:
    """Build what the ledger records, collecting every problem rather than stopping at one."""
    problems: list[LedgerProblem] = []
    evaluations = []
    for stated in ledger.evaluations:
        evaluation, found = _evaluation(actor, now, stated, facts)
        problems += found
        evaluations += [evaluation] if evaluation else []
    known = {*facts.evaluations, *(e.ref.strip() for e in ledger.evaluations)}
    findings, seen = [], set[UUID]()
    for order in ledger.orders:
        problems += _order_problems(order, facts, known)
        for draft in order.findings:
            issued, found = _finding(actor, now, order, draft, facts, seen, (calendar, policy))
            problems += found
            findings += issued
    result = ImportResult(
        evaluations=tuple(e.ref for e in evaluations),
        orders=tuple(dict.fromkeys(o.ref.strip() for o in ledger.orders)),
        findings=tuple(f.id for f in findings),
    )
    return LedgerPlan((*evaluations, *findings), result, tuple(problems))


def _evaluation(
    actor: Actor, now: datetime, draft: EvaluationDraft, facts: LedgerFacts
) -> tuple[Evaluation | None, list[LedgerProblem]]:
    ref = draft.ref.strip()
    recorded = facts.evaluations.get(ref)
    if recorded is not None:
        return None, list(_differences(draft, recorded))
    problems = []
    if draft.department.strip().upper() not in facts.departments:
        problems.append(_unknown_department(draft.department, evaluation_ref=ref))
    try:
        evaluation = Evaluation.record(
            actor,
            now,
            ref=draft.ref,
            title=draft.title,
            year=draft.year,
            object_type=draft.object_type or ObjectType.PROJECT.value,
            department=draft.department,
            budget_amount=Decimal("0") if draft.budget_amount is None else draft.budget_amount,
            score=draft.score,
        )
    except DomainError as error:
        return None, [*problems, LedgerProblem("invalid", str(error), evaluation_ref=ref)]
    return (None if problems else evaluation), problems


def _differences(draft: EvaluationDraft, recorded: EvaluationView) -> Iterator[LedgerProblem]:
    """An evaluation never changes once recorded: the ledger must state the same facts."""
    for name in COMPARED_FACTS:
        stated, fact = getattr(draft, name), getattr(recorded, name)
        if isinstance(stated, str):
            stated = stated.strip()
        if stated is not None and stated != fact:
            yield LedgerProblem(
                "evaluation-differs",
                f"Evaluation {recorded.ref} was recorded with {name} {fact}, "
                f"not {stated}; an evaluation cannot be changed by an import.",
                evaluation_ref=recorded.ref,
                field=name,
            )


def _order_problems(
    order: OrderDraft, facts: LedgerFacts, evaluations: set[str]
) -> list[LedgerProblem]:
    problems = []
    if order.department.strip().upper() not in facts.departments:
        problems.append(_unknown_department(order.department, order_ref=order.ref.strip()))
    if order.evaluation.strip() not in evaluations:
        problems.append(
            LedgerProblem(
                "unknown-evaluation",
                f"Evaluation {order.evaluation.strip()} is neither recorded nor in the ledger.",
                order_ref=order.ref.strip(),
                field="evaluation",
            )
        )
    return problems


def _finding(
    actor: Actor,
    now: datetime,
    order: OrderDraft,
    draft: FindingDraft,
    facts: LedgerFacts,
    seen: set[UUID],
    rules: tuple[WorkingCalendar, DeadlinePolicy],
) -> tuple[list[Aggregate], list[LedgerProblem]]:
    """Issue one finding exactly as issue_order would, or say why it cannot be."""
    where = {"order_ref": order.ref.strip(), "finding_ref": draft.ref.strip()}
    key = finding_id(order.ref, draft.ref)
    if key in seen:
        message = f"Finding {draft.ref.strip()} of order {order.ref.strip()} is listed twice."
        return [], [LedgerProblem("repeated", message, field="ref", **where)]
    seen.add(key)
    if key in facts.issued:
        message = (
            f"Finding {draft.ref.strip()} of order {order.ref.strip()} was already issued "
            f"(id {key}); a finding cannot be issued twice."
        )
        return [], [LedgerProblem("issued", message, field="ref", **where)]
    department, evaluation = order.department.strip().upper(), order.evaluation.strip()
    single = replace(order, findings=[draft])
    try:
        issued = issue_findings(actor, now, single, department, evaluation, *rules)
    except DomainError as error:
        return [], [LedgerProblem("invalid", str(error), **where)]
    return list(issued), []


def _unknown_department(code: str, **where: str) -> LedgerProblem:
    return LedgerProblem(
        "unknown-department",
        f"Department {code.strip().upper()} is not registered.",
        field="department",
        **where,
    )
