"""import_ledger: new evaluations and every order issued in one save, or every problem named."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from domain.application import LastmileApplication
from domain.findings import finding_id
from domain.ledger import LedgerRefusedError
from domain.views import EvaluationDraft, FindingDraft, LedgerDraft, OrderDraft
from tests.application.builders import EVALUATOR, ORDER_REF


def finding(ref: str, category: str = "过程/资金闲置沉淀") -> FindingDraft:
    return FindingDraft(ref, "", "资金闲置", category, "立行立改", "清理结转资金")


NEW_EVALUATION = EvaluationDraft(
    "LX-2025-PJ-009", "2025年部门整体支出绩效评价", 2025, Decimal("91"), "SLJ", "department"
)


def ledger(*findings: FindingDraft, evaluation: str = "LX-2025-PJ-009") -> LedgerDraft:
    order = OrderDraft(ORDER_REF, evaluation, "SLJ", findings, date(2025, 9, 24))
    return LedgerDraft([NEW_EVALUATION], [order])


def events(app: LastmileApplication) -> int:
    return app.recorder.max_notification_id() or 0


def test_a_ledger_records_its_evaluation_and_issues_its_orders(
    registered: LastmileApplication,
) -> None:
    result = registered.import_ledger(EVALUATOR, ledger(finding("1"), finding("2")))

    assert result.evaluations == ("LX-2025-PJ-009",)
    assert result.orders == (ORDER_REF,)
    assert result.findings == (finding_id(ORDER_REF, "1"), finding_id(ORDER_REF, "2"))
    assert registered.evaluation("LX-2025-PJ-009").object_type == "department"
    issued = registered.finding(result.findings[1])
    assert (issued.issued_on, issued.rectification_class) == (date(2025, 9, 24), "immediate")


def test_a_dry_run_saves_nothing(registered: LastmileApplication) -> None:
    before = events(registered)

    result = registered.import_ledger(EVALUATOR, ledger(finding("1")), dry_run=True)

    assert (result.dry_run, len(result.findings)) == (True, 1)
    assert events(registered) == before


def test_every_problem_is_named_and_nothing_is_saved(registered: LastmileApplication) -> None:
    registered.import_ledger(EVALUATOR, ledger(finding("1")))
    before = events(registered)
    draft = LedgerDraft(
        [replace(NEW_EVALUATION, score=Decimal("60"))],
        [
            OrderDraft(ORDER_REF, "LX-2025-PJ-009", "SLJ", [finding("1"), finding("2")]),
            OrderDraft("泸财绩〔2025〕20号", "LX-2025-PJ-404", "GTJ", [finding("1", category="")]),
        ],
    )

    with pytest.raises(LedgerRefusedError) as refused:
        registered.import_ledger(EVALUATOR, draft)

    found = [
        (p.code, p.evaluation_ref or p.order_ref, p.finding_ref, p.field)
        for p in refused.value.problems
    ]
    assert found == [
        ("evaluation-differs", "LX-2025-PJ-009", "", "score"),
        ("issued", ORDER_REF, "1", "ref"),
        ("unknown-department", "泸财绩〔2025〕20号", "", "department"),
        ("unknown-evaluation", "泸财绩〔2025〕20号", "", "evaluation"),
        ("invalid", "泸财绩〔2025〕20号", "1", ""),
    ]
    assert "category" in refused.value.problems[-1].message
    assert events(registered) == before
