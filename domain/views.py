"""Plain, frozen views that queries return; never aggregates."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from domain.budget import Suggestion
from domain.policies import DeadlineCalculation


@dataclass(frozen=True)
class CommandResult:
    """What a write returns: the aggregate, its new version, and its log position."""

    id: UUID
    version: int
    position: int | None  # notification id of the last event saved; None when nothing changed
    finding: FindingView | None = None  # the finding right after the command, when one


@dataclass(frozen=True)
class LadderClimb:
    """What climbing one finding's ladder recorded."""

    finding: UUID
    version: int  # the finding's version afterwards
    events: int  # reminders and escalations recorded now; 0 when none was due
    position: int | None  # notification id of the last of them; None when none


@dataclass(frozen=True)
class FindingDraft:
    """One finding as written on an order, before it is issued."""

    ref: str
    title: str
    description: str
    category: str
    rectification_class: str
    requirement: str
    due_on: date | None = None


@dataclass(frozen=True)
class OrderDraft:
    """A rectification order (整改通知书) to issue: one department, many findings."""

    ref: str
    evaluation: str
    department: str
    findings: Sequence[FindingDraft]
    issued_on: date | None = None


@dataclass(frozen=True)
class EvidenceView:
    sha256: str
    name: str
    size: int
    media_type: str
    attached_at: datetime
    cycle: int


@dataclass(frozen=True)
class ExtensionView:
    n: int
    new_due_on: date
    reason: str
    requested_by: str
    decision: str


@dataclass(frozen=True)
class FindingView:
    """A finding as of a moment, with overdue derived from that moment."""

    id: UUID
    ref: str
    order_ref: str
    evaluation: str
    department: str
    title: str
    description: str
    category: str
    rectification_class: str
    requirement: str
    status: str
    issued_on: date
    issued_by: str
    due_on: date
    original_due_on: date
    acknowledge_due_on: date
    deadline: DeadlineCalculation
    original_deadline: DeadlineCalculation
    overdue: bool
    overdue_days: int
    escalation_level: int
    rejections: int
    submissions: int
    cycle: int
    responsible_person: str
    progress_percent: int
    amount_recovered: Decimal
    rules_improved: int
    version: int
    as_of: datetime
    evidence: tuple[EvidenceView, ...] = ()
    extensions: tuple[ExtensionView, ...] = ()


@dataclass(frozen=True)
class HistoryEntry:
    """One event of a finding's trail, in plain fields."""

    version: int
    type: str
    at: datetime
    actor: str
    role: str
    fields: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DepartmentView:
    id: UUID
    code: str
    name: str
    contact_email: str
    head_email: str


@dataclass(frozen=True)
class EvaluationView:
    id: UUID
    ref: str
    title: str
    year: int
    object_type: str
    department: str
    budget_amount: Decimal
    score: Decimal
    grade: str


@dataclass(frozen=True)
class BudgetDecisionView:
    """A confirmed decision on one evaluation's budget suggestion for one budget year."""

    id: UUID
    budget_year: int
    evaluation_ref: str
    suggestion: Suggestion  # as confirmed: rule, policy version, inputs, suggested cut
    accepted: bool
    amount: Decimal | None  # the cut confirmed; None when the suggestion was turned down
    note: str
    confirmed_by: str
    confirmed_role: str
    confirmed_at: datetime
    covered_finding_ids: frozenset[UUID]  # findings not to be counted again this budget year


@dataclass(frozen=True)
class EvaluationDraft:
    """An evaluation as a ledger names it: recorded when its number is new."""

    ref: str
    title: str
    year: int
    score: Decimal
    department: str
    object_type: str | None = None  # None: not stated; a new evaluation is then a project
    budget_amount: Decimal | None = None  # None: not stated; a new evaluation then records 0


@dataclass(frozen=True)
class LedgerDraft:
    """A whole ledger (整改台账) to import at once: new evaluations and the orders to issue."""

    evaluations: Sequence[EvaluationDraft]
    orders: Sequence[OrderDraft]


@dataclass(frozen=True)
class LedgerProblem:
    """One reason a ledger cannot be imported, located by the natural keys it concerns."""

    # invalid | unknown-department | unknown-evaluation | evaluation-differs | issued | repeated
    code: str
    message: str
    evaluation_ref: str = ""
    order_ref: str = ""
    finding_ref: str = ""
    field: str = ""  # the draft attribute concerned (e.g. "score", "issued_on"), when known


@dataclass(frozen=True)
class ImportResult:
    """What a ledger import recorded (or, on a dry run, would record)."""

    evaluations: tuple[str, ...]  # numbers of the evaluations newly recorded
    orders: tuple[str, ...]  # 文号 of the orders issued
    findings: tuple[UUID, ...]
    dry_run: bool = False
