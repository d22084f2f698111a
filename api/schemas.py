"""Request and response bodies; names follow PRODUCT.md §7 (add fields freely, rename none)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

Text = Annotated[str, Field(max_length=10_000)]
Short = Annotated[str, Field(min_length=1, max_length=200)]
Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


class In(BaseModel):
    """Every request body refuses unknown fields, so a typo is an error, not silently lost."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class DepartmentIn(In):
    code: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,32}$", examples=["SLJ"])]
    name: Short = Field(examples=["县水利局"])
    contact_email: Annotated[str | None, Field(max_length=254)] = None
    head_email: Annotated[str | None, Field(max_length=254)] = None


class DepartmentOut(BaseModel):
    id: UUID
    code: str
    name: str
    contact_email: str
    head_email: str


class EvaluationIn(In):
    ref: Annotated[str, Field(min_length=1, max_length=100, examples=["LX-2025-PJ-001"])]
    title: Annotated[str, Field(min_length=1, max_length=500)]
    year: Annotated[int, Field(ge=2000, le=2100)]
    object_type: Literal["project", "department", "policy", "transfer"]
    department: Annotated[str, Field(min_length=1, max_length=32)]
    budget_amount: Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=2)]
    score: Annotated[Decimal, Field(ge=0, le=100, max_digits=5, decimal_places=2)]


class EvaluationOut(BaseModel):
    id: UUID
    ref: str
    title: str
    year: int
    object_type: str
    department: str
    budget_amount: Decimal
    score: Decimal
    grade: str


class FindingIn(In):
    ref: Annotated[str, Field(min_length=1, max_length=50, examples=["1"])]
    title: Annotated[str, Field(max_length=500)] = ""
    description: Text = Field(examples=["年终预算执行率为68.07%，预算执行进度较慢"])
    category: Annotated[str, Field(min_length=1, max_length=100, examples=["过程/预算执行率低"])]
    class_: Literal["immediate", "phased", "long_term", "立行立改", "分阶段整改", "持续整改"] = (
        Field(alias="class", examples=["immediate"])
    )
    requirement: Text = ""
    due_on: date | None = None


class OrderIn(In):
    ref: Annotated[str, Field(min_length=1, max_length=100, examples=["泸财绩〔2025〕12号"])]
    evaluation: Annotated[str, Field(min_length=1, max_length=100)]
    department: Annotated[str, Field(min_length=1, max_length=32)]
    issued_on: date | None = None
    findings: Annotated[list[FindingIn], Field(min_length=1, max_length=1000)]


class EvidenceOut(BaseModel):
    sha256: str
    name: str
    size: int
    media_type: str | None = None


class FindingOut(BaseModel):
    id: UUID
    ref: str
    order_ref: str
    evaluation: str
    department: str
    title: str
    description: str
    category: str
    class_: str = Field(serialization_alias="class")
    requirement: str
    status: str
    issued_on: date
    due_on: date
    original_due_on: date
    acknowledge_due_on: date
    deadline: dict[str, Any]  # how the current deadline was computed
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
    evidence: list[EvidenceOut]
    extensions: list[dict[str, Any]]
    version: int
    as_of: datetime


class OrderOut(BaseModel):
    ref: str
    findings: list[FindingOut]


class AcknowledgementIn(In):
    responsible_person: Short
    plan: Text = ""


class ProgressIn(In):
    note: Text
    percent: Annotated[int, Field(ge=0, le=100)]


class ExtensionIn(In):
    new_due_on: date
    reason: Text


class ExtensionOut(BaseModel):
    n: int


class DecisionIn(In):
    approved: bool
    note: Text = ""


class RectificationIn(In):
    measures: Text
    evidence: Annotated[list[Sha256], Field(min_length=1, max_length=200)]
    amount_recovered: Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=2)] = Decimal(0)
    rules_improved: Annotated[int, Field(ge=0, le=10_000)] = 0


class VerificationIn(In):
    outcome: Literal["accepted", "rejected"]
    note: Text = ""


class EscalationIn(In):
    level: Annotated[int, Field(ge=1, le=3)]
    reason: Text


class InterviewIn(In):
    held_on: date
    note: Text


class AccountabilityDecisionIn(In):
    decision: Annotated[str, Field(min_length=1, max_length=2000)]
    note: Text = ""


class WithdrawalIn(In):
    reason: Text


class ReopeningIn(In):
    reason: Text
    due_on: date | None = Field(
        default=None, description="The new cycle's deadline; default: from the finding's class."
    )


class HistoryEntryOut(BaseModel):
    version: int
    type: str
    at: datetime
    actor: str
    role: str
    fields: dict[str, Any]


class PageOut(BaseModel):
    page: int
    size: int
    total: int
    as_of: datetime
    position: int
    rows: list[dict[str, Any]]


class ProblemOut(BaseModel):
    """An error (RFC 9457 problem details); `detail` says what to do about it."""

    type: str
    title: str
    status: int
    detail: str
    code: str = Field(examples=["stale-version"])
    errors: list[dict[str, str]] | None = Field(
        default=None, description="For invalid input: each field and what is wrong with it."
    )


class IntegrityOut(BaseModel):
    ok: bool
    events_checked: int
    head_id: int
    head_digest: str
    problems: list[dict[str, Any]]
