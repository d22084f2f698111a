"""Budget linkage decisions: a finance user confirms one suggestion per evaluation and year."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal
from uuid import UUID

import pytest

from adapters.policy import load_linkage_policy
from domain.application import LastmileApplication
from domain.budget import (
    EvaluationFacts,
    FindingFact,
    LinkageAction,
    Suggestion,
    cutoff_moment,
    suggestion_for,
)
from domain.budget_decisions import BudgetDecision, budget_decision_id
from domain.errors import AlreadyExistsError, NotFoundError, ValidationError
from domain.values import Actor, Role
from tests.application.builders import CLERK, EVALUATOR, ORDER_REF, VERIFIER, Clock, attach

LINKAGE = load_linkage_policy()
FINANCE = Actor("qian.finance", Role.SUPERVISOR)
BUDGET_YEAR = 2026
EVALUATION = "LX-2025-PJ-001"  # graded 中 (78.5), budget 1,200,000.00


def stored(app: LastmileApplication) -> int:
    return app.recorder.max_notification_id() or 0


def suggest(
    app: LastmileApplication, findings: Sequence[UUID] = (), ref: str = EVALUATION
) -> Suggestion:
    """The suggestion for an evaluation, with its findings as they stood at the cut-off."""
    evaluation = app.evaluation(ref)
    moment = cutoff_moment(BUDGET_YEAR, LINKAGE)
    views = [app.finding(f, as_of=moment) for f in findings]
    facts = EvaluationFacts(
        ref=evaluation.ref,
        title=evaluation.title,
        department=evaluation.department,
        year=evaluation.year,
        grade=evaluation.grade,
        score=evaluation.score,
        budget_amount=evaluation.budget_amount,
        findings=tuple(
            FindingFact(v.id, v.ref, v.order_ref, v.status == "verified", v.status == "withdrawn")
            for v in views
        ),
    )
    return suggestion_for(facts, BUDGET_YEAR, LINKAGE)


def test_confirming_a_suggestion_records_the_decision(
    registered: LastmileApplication, finding: UUID
) -> None:
    # The finding is still open at the cut-off: hold 10% of 1,200,000.00 until rectified.
    suggestion = suggest(registered, [finding])
    assert (suggestion.rule_id, suggestion.cut_amount) == ("R-UNVERIFIED", Decimal("120000.00"))

    decision_id = registered.confirm_budget_decision(FINANCE, suggestion, accepted=True)

    assert decision_id == budget_decision_id(BUDGET_YEAR, EVALUATION)
    view = registered.budget_decision(BUDGET_YEAR, EVALUATION)
    assert view is not None
    assert (view.accepted, view.amount, view.note) == (True, Decimal("120000.00"), "")
    assert (view.confirmed_by, view.confirmed_role) == ("qian.finance", "supervisor")
    assert view.suggestion == suggestion
    assert view.covered_finding_ids == frozenset({finding})


def test_the_event_records_rule_policy_version_and_inputs(
    registered: LastmileApplication, finding: UUID
) -> None:
    suggestion = suggest(registered, [finding])

    decision_id = registered.confirm_budget_decision(FINANCE, suggestion, accepted=True)

    (event,) = registered.events.get(decision_id)
    assert isinstance(event, BudgetDecision.Confirmed)
    assert (event.actor, event.role, event.accepted) == ("qian.finance", "supervisor", True)
    recorded = event.suggestion
    assert (recorded.rule_id, recorded.policy_version) == ("R-UNVERIFIED", "2025.1")
    assert recorded.action is LinkageAction.HOLD_UNTIL_RECTIFIED
    assert (recorded.cut_percent, recorded.cut_amount) == (Decimal("10"), Decimal("120000.00"))
    assert recorded.finding_ids == (finding,)
    assert recorded.inputs["cutoff"] == "2025-10-31"
    assert recorded.inputs["findings_unverified_at_cutoff"] == f"{ORDER_REF} #1"
    assert recorded == suggestion  # stored and read back whole


def test_a_second_confirmation_is_refused_and_stores_nothing(
    registered: LastmileApplication, finding: UUID
) -> None:
    suggestion = suggest(registered, [finding])
    registered.confirm_budget_decision(FINANCE, suggestion, accepted=True)
    before = stored(registered)

    with pytest.raises(
        AlreadyExistsError,
        match="The 2026 budget decision on evaluation LX-2025-PJ-001 was already confirmed",
    ):
        registered.confirm_budget_decision(FINANCE, suggestion, False, note="改变主意")

    assert stored(registered) == before
    view = registered.budget_decision(BUDGET_YEAR, EVALUATION)
    assert view is not None
    assert view.accepted


@pytest.mark.parametrize(
    ("accepted", "amount", "message"),
    [
        (False, None, "Turning a suggestion down needs a note"),
        (True, Decimal("50000"), "Confirming 50000.00 instead of the suggested 120000.00 needs"),
    ],
)
def test_a_note_is_required_when_turning_down_or_changing_the_amount(
    registered: LastmileApplication,
    finding: UUID,
    accepted: bool,
    amount: Decimal | None,
    message: str,
) -> None:
    suggestion = suggest(registered, [finding])
    before = stored(registered)

    # Step 1: without a note nothing is stored.
    with pytest.raises(ValidationError, match=message):
        registered.confirm_budget_decision(FINANCE, suggestion, accepted, amount, note="  ")
    assert stored(registered) == before

    # Step 2: with one it is.
    registered.confirm_budget_decision(FINANCE, suggestion, accepted, amount, note="已整改过半")
    view = registered.budget_decision(BUDGET_YEAR, EVALUATION)
    assert view is not None
    assert (view.accepted, view.amount, view.note) == (accepted, amount, "已整改过半")


def test_accepting_the_suggested_amount_written_differently_needs_no_note(
    registered: LastmileApplication, finding: UUID
) -> None:
    registered.confirm_budget_decision(
        FINANCE, suggest(registered, [finding]), True, Decimal("120000")
    )

    view = registered.budget_decision(BUDGET_YEAR, EVALUATION)
    assert view is not None
    assert str(view.amount) == "120000.00"


@pytest.mark.parametrize(
    ("accepted", "amount", "message"),
    [
        (True, Decimal("-1"), "between 0 and the budget of 1200000.00, not -1"),
        (True, Decimal("1200000.01"), "between 0 and the budget"),
        (True, Decimal("10.005"), "more than two decimal places"),
        (False, Decimal("0"), "A suggestion turned down confirms no amount"),
    ],
)
def test_an_impossible_amount_is_refused(
    registered: LastmileApplication,
    finding: UUID,
    accepted: bool,
    amount: Decimal,
    message: str,
) -> None:
    with pytest.raises(ValidationError, match=message):
        registered.confirm_budget_decision(
            FINANCE, suggest(registered, [finding]), accepted, amount, note="说明"
        )
    assert registered.budget_decision(BUDGET_YEAR, EVALUATION) is None


def test_a_finding_verified_by_the_cutoff_leaves_the_grade_rule(
    registered: LastmileApplication, finding: UUID, clock: Clock
) -> None:
    # The department rectifies and the evaluator verifies before 31 October.
    registered.acknowledge(finding, CLERK, "张三")
    attach(registered, finding)
    registered.submit_rectification(finding, CLERK, "收回资金", ["a" * 64])
    clock.set("2025-10-20 10:00")
    registered.verify(finding, VERIFIER)

    suggestion = suggest(registered, [finding])
    registered.confirm_budget_decision(FINANCE, suggestion, accepted=True)

    view = registered.budget_decision(BUDGET_YEAR, EVALUATION)
    assert view is not None
    assert (view.suggestion.rule_id, view.amount) == ("R-GRADE-中", Decimal("120000.00"))
    assert view.suggestion.inputs["findings_verified_by_cutoff"] == f"{ORDER_REF} #1"
    assert view.covered_finding_ids == frozenset()  # a grade cut, not a finding's


def test_a_suggestion_that_cuts_nothing_confirms_zero(registered: LastmileApplication) -> None:
    registered.record_evaluation(
        EVALUATOR,
        ref="LX-2025-PJ-002",
        title="2025 年农村饮水项目绩效评价",
        year=2025,
        object_type="project",
        department="SLJ",
        budget_amount=Decimal("800000.00"),
        score=Decimal("86"),
    )

    suggestion = suggest(registered, ref="LX-2025-PJ-002")
    registered.confirm_budget_decision(FINANCE, suggestion, accepted=True)

    view = registered.budget_decision(BUDGET_YEAR, "LX-2025-PJ-002")
    assert view is not None
    assert (view.suggestion.action, view.amount) == (LinkageAction.MAINTAIN, Decimal("0.00"))
    assert registered.budget_decision(BUDGET_YEAR, EVALUATION) is None  # decided one by one


def test_a_suggestion_from_other_facts_is_refused(
    registered: LastmileApplication, finding: UUID
) -> None:
    suggestion = suggest(registered, [finding])

    with pytest.raises(ValidationError, match="differ from the recorded evaluation"):
        registered.confirm_budget_decision(
            FINANCE, replace(suggestion, budget_amount=Decimal("9000000.00")), True
        )
    with pytest.raises(NotFoundError, match="Evaluation LX-0 does not exist"):
        registered.confirm_budget_decision(
            FINANCE, replace(suggestion, evaluation_ref="LX-0"), True
        )
    assert stored(registered) == 3  # department, evaluation, finding
