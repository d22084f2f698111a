"""Budget linkage (结果应用): the one budget suggestion an evaluation earns for a budget year."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from types import MappingProxyType
from uuid import UUID

from domain.budget_policy import LinkageAction, LinkagePolicy, LinkageRule
from domain.calendar import end_of_day
from domain.errors import ValidationError
from domain.values import Grade

# The rule table lives in its own module; re-exported so callers need only domain.budget.
__all__ = [
    "EvaluationFacts",
    "FindingFact",
    "LinkageAction",
    "LinkagePolicy",
    "LinkageRule",
    "Suggestion",
    "covered_findings",
    "cut_amount_for",
    "cutoff_for",
    "cutoff_moment",
    "evaluation_year_for",
    "suggestion_for",
]

CENT = Decimal("0.01")
NO_CUT = Decimal("0.00")
NOTHING = "无"  # how an empty list of findings reads in a suggestion's inputs


@dataclass(frozen=True)
class FindingFact:
    """One finding of the evaluation, as it stood at the budget cut-off."""

    id: UUID
    ref: str
    order_ref: str
    verified_by_cutoff: bool
    withdrawn: bool

    @property
    def label(self) -> str:
        return f"{self.order_ref} #{self.ref}"


@dataclass(frozen=True)
class EvaluationFacts:
    """What the rules look at for one evaluation."""

    ref: str
    title: str
    department: str
    year: int
    grade: str
    score: Decimal
    budget_amount: Decimal
    findings: tuple[FindingFact, ...] = ()


@dataclass(frozen=True)
class Suggestion:
    """One evaluation's budget suggestion, naming its rule, policy version and inputs."""

    budget_year: int
    evaluation_ref: str
    evaluation_title: str
    department: str
    grade: str
    score: Decimal
    budget_amount: Decimal
    rule_id: str
    policy_version: str
    text: str  # the rule's suggestion, e.g. 核减
    action: LinkageAction
    basis: str
    cut_percent: Decimal | None
    cut_amount: Decimal | None
    unverified: tuple[str, ...]  # labels "文号 #ref" of the findings counted as unverified
    finding_ids: tuple[UUID, ...]  # the same findings, by id
    inputs: Mapping[str, str]

    @property
    def suggested_amount(self) -> Decimal:
        """The cut a plain acceptance confirms (0.00 when the rule cuts nothing)."""
        return NO_CUT if self.cut_amount is None else self.cut_amount


def cutoff_for(budget_year: int, policy: LinkagePolicy) -> date:
    """The budget preparation cut-off: in the year before the budget year."""
    month, day = policy.cutoff
    return date(budget_year - 1, month, day)


def cutoff_moment(budget_year: int, policy: LinkagePolicy) -> datetime:
    """The moment a finding's state is judged: a finding verified by then counts as verified."""
    return end_of_day(cutoff_for(budget_year, policy))


def evaluation_year_for(budget_year: int, policy: LinkagePolicy) -> int:
    """The year whose evaluations feed this budget year."""
    return budget_year - policy.evaluation_year_lag


def cut_amount_for(budget_amount: Decimal, percent: Decimal | None) -> Decimal | None:
    """budget_amount × percent ÷ 100, rounded half up to the cent; None when no cut."""
    if percent is None:
        return None
    return (budget_amount * percent / 100).quantize(CENT, rounding=ROUND_HALF_UP)


def suggestion_for(
    facts: EvaluationFacts,
    budget_year: int,
    policy: LinkagePolicy,
    already_decided: frozenset[UUID] = frozenset(),
) -> Suggestion:
    """The one most severe rule that applies to an evaluation at the budget year's cut-off.

    Withdrawn findings count nowhere. Findings in already_decided are covered by a cut
    confirmed for this budget year and are not counted again, so no finding triggers two
    cuts in one budget year; and one rule per evaluation means one evaluation, one cut.
    """
    _check_feeds(facts, budget_year, policy)
    _check_grade(facts)
    counted = _unverified(facts.findings, already_decided)
    applying = policy.rules_applying(facts.grade, bool(counted))
    # Overlapping rules never share a severity (LinkagePolicy checks), so max() is one rule.
    rule = max(applying, key=lambda r: r.severity)
    return Suggestion(
        budget_year=budget_year,
        evaluation_ref=facts.ref,
        evaluation_title=facts.title,
        department=facts.department,
        grade=facts.grade,
        score=facts.score,
        budget_amount=facts.budget_amount,
        rule_id=rule.id,
        policy_version=policy.version,
        text=rule.suggestion,
        action=rule.action,
        basis=rule.basis,
        cut_percent=rule.cut_percent,
        cut_amount=cut_amount_for(facts.budget_amount, rule.cut_percent),
        unverified=tuple(f.label for f in counted),
        finding_ids=tuple(f.id for f in counted),
        inputs=MappingProxyType(_inputs(facts, budget_year, policy, already_decided, applying)),
    )


def covered_findings(
    suggestion: Suggestion, accepted: bool, amount: Decimal | None
) -> frozenset[UUID]:
    """The findings a confirmed decision has cut for: none unless money was actually cut."""
    if accepted and amount is not None and amount > 0:
        return frozenset(suggestion.finding_ids)
    return frozenset()


def _check_feeds(facts: EvaluationFacts, budget_year: int, policy: LinkagePolicy) -> None:
    expected = evaluation_year_for(budget_year, policy)
    if facts.year != expected:
        raise ValidationError(
            f"Evaluation {facts.ref} is of {facts.year}; the {budget_year} budget takes "
            f"evaluations of {expected} (evaluation_year_lag = {policy.evaluation_year_lag})."
        )


def _check_grade(facts: EvaluationFacts) -> None:
    if facts.grade not in {g.value for g in Grade}:
        choices = "、".join(g.value for g in Grade)
        raise ValidationError(f"Evaluation {facts.ref} has grade {facts.grade!r}, not {choices}.")


def _unverified(
    findings: Iterable[FindingFact], already_decided: frozenset[UUID]
) -> tuple[FindingFact, ...]:
    return tuple(
        f
        for f in findings
        if not f.withdrawn and not f.verified_by_cutoff and f.id not in already_decided
    )


def _inputs(
    facts: EvaluationFacts,
    budget_year: int,
    policy: LinkagePolicy,
    already_decided: frozenset[UUID],
    applying: Iterable[LinkageRule],
) -> dict[str, str]:
    """Everything the choice looked at, as text, so a reader can redo it by hand."""
    counted = _unverified(facts.findings, already_decided)
    return {
        "budget_year": str(budget_year),
        "cutoff": cutoff_for(budget_year, policy).isoformat(),
        "evaluation_year": str(facts.year),
        "evaluation_year_lag": str(policy.evaluation_year_lag),
        "grade": facts.grade,
        "score": str(facts.score),
        "budget_amount": str(facts.budget_amount),
        **_finding_inputs(facts.findings, already_decided),
        "unverified_findings": "true" if counted else "false",
        "rules_applying": "、".join(f"{r.id} (severity {r.severity})" for r in applying),
        "cut_formula": "budget_amount × cut_percent ÷ 100, ROUND_HALF_UP to 0.01",
    }


def _finding_inputs(
    findings: tuple[FindingFact, ...], already_decided: frozenset[UUID]
) -> dict[str, str]:
    live = [f for f in findings if not f.withdrawn]
    open_ = [f for f in live if not f.verified_by_cutoff]
    return {
        "findings_withdrawn": _labels(f for f in findings if f.withdrawn),
        "findings_verified_by_cutoff": _labels(f for f in live if f.verified_by_cutoff),
        "findings_already_decided": _labels(f for f in open_ if f.id in already_decided),
        "findings_unverified_at_cutoff": _labels(f for f in open_ if f.id not in already_decided),
    }


def _labels(findings: Iterable[FindingFact]) -> str:
    return "、".join(f.label for f in findings) or NOTHING
