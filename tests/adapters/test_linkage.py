"""Budget-linkage suggestions read from the projections, judged at the cut-off."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from adapters.bootstrap import Lastmile
from adapters.projections.linkage import budget_linkage
from domain.calendar import CHINA_TZ
from tests.conftest import ManualClock
from tests.support.scenario import (
    DEPARTMENT_USER,
    OTHER_EVALUATOR,
    SUPERVISOR,
    issue_order,
    register_basics,
    submit,
)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=CHINA_TZ)


def test_findings_not_verified_by_the_cut_off_hold_the_budget_once(
    lastmile: Lastmile, clock: ManualClock
) -> None:
    # Given an evaluation graded 中 (78.5) with three findings; one verified before the
    # 2025-10-31 cut-off for budget year 2026, one verified after it, one never
    register_basics(lastmile.app)
    first, second, third = issue_order(lastmile.app, count=3)
    for finding in (first, second):
        lastmile.app.acknowledge(finding, DEPARTMENT_USER, "张建国")
        submit(lastmile.app, finding)
    clock.now = at("2025-10-20 10:00")
    lastmile.app.verify(first, OTHER_EVALUATOR, "通过")
    clock.now = at("2025-11-10 10:00")
    lastmile.app.verify(second, OTHER_EVALUATOR, "通过")
    lastmile.projections.catch_up()
    moment = lastmile.read_models.moment(clock.now)

    # When the suggestions for budget year 2026 are computed
    (linkage,) = budget_linkage(
        lastmile.read_models, lastmile.app, lastmile.linkage_policy, 2026, moment
    )

    # Then two findings were open at the cut-off, and they hold 10% of the budget, once
    suggestion = linkage.suggestion
    assert suggestion.evaluation_ref == "LX-2025-PJ-001"
    assert len(suggestion.unverified) == 2
    assert suggestion.cut_amount == Decimal("1200000.00")
    assert linkage.decision is None

    # And once a finance user confirms it, the report shows the decision, not a new cut
    clock.now = at("2025-11-11 10:00")
    lastmile.app.confirm_budget_decision(SUPERVISOR, suggestion, accepted=True)
    again = budget_linkage(
        lastmile.read_models, lastmile.app, lastmile.linkage_policy, 2026, moment
    )
    assert again[0].decision is None  # the report's moment precedes the confirmation
    later = lastmile.read_models.moment(clock.now)
    (confirmed,) = budget_linkage(
        lastmile.read_models, lastmile.app, lastmile.linkage_policy, 2026, later
    )
    assert confirmed.decision is not None
    assert confirmed.decision.amount == Decimal("1200000.00")
    assert confirmed.suggestion == suggestion
    assert third  # the never-verified finding is among those counted
