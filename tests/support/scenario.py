"""Small builders shared by storage-facing tests: one department, one evaluation, one order."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

from domain.application import LastmileApplication
from domain.values import Actor, Role
from domain.views import FindingDraft, OrderDraft

EVALUATOR = Actor("pingjia.li", Role.EVALUATOR)
OTHER_EVALUATOR = Actor("pingjia.wang", Role.EVALUATOR)
DEPARTMENT_USER = Actor("slj.jingban", Role.DEPARTMENT)
SUPERVISOR = Actor("jiandu.zhao", Role.SUPERVISOR)
EVIDENCE = "e" * 64


def register_basics(app: LastmileApplication) -> None:
    app.register_department(EVALUATOR, "SLJ", "泸溪县水利局", "slj@example.cn")
    app.record_evaluation(
        EVALUATOR,
        ref="LX-2025-PJ-001",
        title="2025年农村饮水安全巩固提升工程项目支出绩效评价",
        year=2025,
        object_type="project",
        department="SLJ",
        budget_amount=Decimal("12000000.00"),
        score=Decimal("78.5"),
    )


def issue_order(
    app: LastmileApplication, ref: str = "泸财绩〔2025〕12号", count: int = 3
) -> list[UUID]:
    findings = [
        FindingDraft(
            str(n), "", f"问题{n}：预算执行率低", "过程/预算执行率低", "立行立改", "加快执行"
        )
        for n in range(1, count + 1)
    ]
    return app.issue_order(EVALUATOR, OrderDraft(ref, "LX-2025-PJ-001", "SLJ", findings))


def submit(app: LastmileApplication, finding: UUID) -> None:
    app.attach_evidence(
        finding, DEPARTMENT_USER, EVIDENCE, "执行情况表.pdf", 1024, "application/pdf"
    )
    app.submit_rectification(finding, DEPARTMENT_USER, "已加快拨付", [EVIDENCE])
