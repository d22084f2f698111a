"""Reports as bureaus read them: columns with Chinese headings, charts, the moment and digest."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from adapters.projections.linkage import Linkage
from adapters.projections.moments import Moment
from adapters.projections.queries import LedgerFilter, ReadModels
from adapters.projections.scorecard import TOTAL
from adapters.reports.model import Chart, Column, Report

LEDGER_EXPORT_LIMIT = 100_000
CLASS_NAMES = {
    "immediate": "立行立改",
    "phased": "分阶段整改",
    "long_term": "持续整改",
    None: "全部",
}
STATUS_NAMES = {
    "issued": "已下达(待签收)",
    "acknowledged": "整改中",
    "rectified": "待核查",
    "verified": "已销号",
    "withdrawn": "已撤销",
}

LEDGER_COLUMNS = (
    Column("department_name", "整改责任单位", "Department", width=16),
    Column("order_ref", "整改通知文号", "Order", width=20),
    Column("ref", "问题编号", "No.", width=6),
    Column("evaluation", "评价项目编号", "Evaluation", width=16),
    Column("evaluation_title", "评价项目名称", "Evaluation title", width=30),
    Column("evaluation_grade", "评价等级", "Grade", width=6),
    Column("category", "问题类型", "Category", width=18),
    Column("class_name", "整改类型", "Class", width=10),
    Column("description", "问题描述", "Description", width=40),
    Column("requirement", "整改要求", "Requirement", width=30),
    Column("responsible_person", "责任人", "Responsible", width=10),
    Column("issued_on", "下达日期", "Issued", "date", 11),
    Column("original_due_on", "原定期限", "Original deadline", "date", 11),
    Column("due_on", "当前期限", "Current deadline", "date", 11),
    Column("status_name", "整改状态", "Status", width=12),
    Column("overdue_days", "逾期工作日", "Overdue (working days)", "int", 8),
    Column("escalation_level", "督办等级", "Escalation", "int", 6),
    Column("rejections", "退回次数", "Rejections", "int", 6),
    Column("evidence_count", "佐证材料数", "Evidence", "int", 6),
    Column("amount_recovered", "收回金额(元)", "Recovered (yuan)", "decimal", 14),
    Column("rules_improved", "完善制度数", "Rules improved", "int", 6),
    Column("verified_on", "销号日期", "Verified", "date", 11),
)

SCORECARD_COLUMNS = (
    Column("department_name", "单位", "Department", width=16),
    Column("class_name", "整改类型", "Class", width=10),
    Column("issued", "下达数", "Issued", "int", 7),
    Column("due", "到期数", "Due", "int", 7),
    Column("verified", "销号数", "Verified", "int", 7),
    Column("rectification_rate", "整改率", "Rectification rate", "percent", 8),
    Column("on_time_rate", "按期整改率", "On time", "percent", 9),
    Column("on_time_rate_original", "按原期限整改率", "On time (original)", "percent", 10),
    Column("closure_rate", "销号率", "Closure rate", "percent", 8),
    Column("acknowledgement_rate", "签收及时率", "Signed on time", "percent", 9),
    Column("overdue", "逾期数", "Overdue", "int", 7),
    Column("ageing.1-10", "逾期1-10日", "Late 1-10", "int", 8),
    Column("ageing.11-30", "逾期11-30日", "Late 11-30", "int", 8),
    Column("ageing.>30", "逾期30日以上", "Late >30", "int", 8),
    Column("average_rectification_days", "平均整改时长(工作日)", "Avg. days", "decimal", 10),
    Column("rejection_rate", "退回率", "Rejection rate", "percent", 8),
    Column("extensions_requested", "申请延期", "Extensions asked", "int", 8),
    Column("extensions_granted", "批准延期", "Extensions granted", "int", 8),
    Column("escalations.1", "督办", "Level 1", "int", 6),
    Column("escalations.2", "约谈", "Level 2", "int", 6),
    Column("escalations.3", "问责", "Level 3", "int", 6),
    Column("amount_recovered", "收回金额(元)", "Recovered (yuan)", "decimal", 14),
    Column("rules_improved", "完善制度数", "Rules improved", "int", 7),
    Column("overdue_days_department", "单位逾期工作日", "Late days (department)", "int", 9),
    Column("overdue_days_evaluator", "核查逾期工作日", "Late days (evaluator)", "int", 9),
)

ACCOUNTABILITY_COLUMNS = (
    Column("department", "单位", "Department", width=12),
    Column("responsible_person", "责任人", "Responsible", width=12),
    Column("findings", "问题数", "Findings", "int", 7),
    Column("late", "逾期未按期整改", "Late", "int", 9),
    Column("reminders", "提醒次数", "Reminders", "int", 7),
    Column("escalations.1", "督办", "Level 1", "int", 6),
    Column("escalations.2", "约谈", "Level 2", "int", 6),
    Column("escalations.3", "问责", "Level 3", "int", 6),
    Column("rejections", "退回次数", "Rejections", "int", 7),
    Column("interviews", "约谈记录", "Interviews", "int", 7),
    Column("decisions", "问责处理", "Decisions", "int", 7),
)


def ledger_report(read: ReadModels, moment: Moment, where: LedgerFilter) -> Report:
    page = read.ledger(moment, where, page=1, size=LEDGER_EXPORT_LIMIT)
    rows = [
        {
            **r,
            "class_name": CLASS_NAMES.get(r["rectification_class"]),
            "status_name": STATUS_NAMES.get(r["status"]),
        }
        for r in page.rows
    ]
    return _report("ledger", "整改台账", "Rectification ledger", moment, LEDGER_COLUMNS, rows)


def scorecard_report(read: ReadModels, moment: Moment, department: str | None = None) -> Report:
    """Every department's scorecard and the total; with `department`, that one's rows only."""
    rows = [
        {**r, "class_name": CLASS_NAMES.get(r["class"])}
        for r in read.scorecard(moment)
        if department is None or r["department"] == department
    ]
    departments = [r for r in rows if r["class"] is None and r["department"] != TOTAL]
    names = [r["department_name"] for r in departments]
    charts = (
        Chart(
            "整改率与按期整改率",
            "Rectification and on-time rates",
            names,
            {
                "整改率": [r["rectification_rate"] or 0 for r in departments],
                "按期整改率": [r["on_time_rate"] or 0 for r in departments],
            },
            percent=True,
        ),
        Chart(
            "逾期账龄（工作日）",
            "Overdue ageing (working days)",
            names,
            {
                bucket: [r["ageing"][bucket] for r in departments]
                for bucket in ("1-10", "11-30", ">30")
            },
            stacked=True,
        ),
        Chart(
            "督办、约谈、问责",
            "Escalations by level",
            names,
            {
                label: [r["escalations"][level] for r in departments]
                for level, label in (("1", "督办"), ("2", "约谈"), ("3", "问责"))
            },
        ),
    )
    notes = ("到期数：当前期限已过或已销号的问题；已撤销的问题不计入任何指标。",)
    return _report(
        "departments",
        "部门整改评分表",
        "Department scorecard",
        moment,
        SCORECARD_COLUMNS,
        rows,
        charts,
        notes,
    )


def accountability_report(
    read: ReadModels,
    moment: Moment,
    since: date,
    until: date,
    by_person: bool,
    department: str | None = None,
) -> Report:
    """Who was late and how often warned; with `department`, that department's rows only."""
    rows = [
        r
        for r in read.accountability(moment, since, until, by_person)
        if department is None or r["department"] == department
    ]
    columns = [c for c in ACCOUNTABILITY_COLUMNS if by_person or c.key != "responsible_person"]
    notes = (f"统计期间：{since.isoformat()} 至 {until.isoformat()}",)
    return _report(
        "accountability",
        "问责追踪",
        "Accountability trail",
        moment,
        columns,
        rows,
        notes=notes,
        extra={"since": since.isoformat(), "until": until.isoformat()},
    )


LINKAGE_COLUMNS = (
    Column("evaluation", "评价项目编号", "Evaluation", width=16),
    Column("title", "评价项目名称", "Title", width=30),
    Column("department", "单位", "Department", width=8),
    Column("grade", "评价等级", "Grade", width=6),
    Column("score", "评价得分", "Score", "decimal", 7),
    Column("budget_amount", "预算金额(元)", "Budget (yuan)", "decimal", 14),
    Column("unverified", "截止日未销号问题", "Not verified by cut-off", width=24),
    Column("suggestion", "结果应用建议", "Suggestion", width=24),
    Column("cut_amount", "建议调减金额(元)", "Suggested cut (yuan)", "decimal", 14),
    Column("rule_id", "规则", "Rule", width=14),
    Column("policy_version", "规则版本", "Policy version", width=8),
    Column("decision", "财政确认", "Confirmed", width=10),
    Column("confirmed_amount", "确认金额(元)", "Confirmed amount", "decimal", 14),
)


def linkage_report(linkages: Sequence[Linkage], budget_year: int, moment: Moment) -> Report:
    rows = [_linkage_row(linkage) for linkage in linkages]
    notes = (
        f"{budget_year} 年度预算；评价结果与截止日整改状态按规则表给出建议，须经财政部门确认。",
        "同一问题在同一预算年度只触发一次调减。",
    )
    return _report(
        "budget-linkage",
        f"{budget_year}年度结果应用建议",
        f"Budget linkage {budget_year}",
        moment,
        LINKAGE_COLUMNS,
        rows,
        notes=notes,
        extra={"budget_year": budget_year},
    )


def _linkage_row(linkage: Linkage) -> dict[str, Any]:
    s, decision = linkage.suggestion, linkage.decision
    status = "待确认" if decision is None else ("已采纳" if decision.accepted else "未采纳")
    return {
        "evaluation": s.evaluation_ref,
        "title": s.evaluation_title,
        "department": s.department,
        "grade": s.grade,
        "score": s.score,
        "budget_amount": s.budget_amount,
        "unverified": "、".join(s.unverified),
        "suggestion": s.text,
        "action": s.action,
        "cut_percent": s.cut_percent,
        "cut_amount": s.cut_amount,
        "rule_id": s.rule_id,
        "policy_version": s.policy_version,
        "basis": s.basis,
        "inputs": dict(s.inputs),
        "decision": status,
        "confirmed_amount": decision.amount if decision else None,
        "confirmed_by": decision.confirmed_by if decision else None,
    }


def _report(
    kind: str,
    title: str,
    title_en: str,
    moment: Moment,
    columns: Sequence[Column],
    rows: Sequence[dict[str, Any]],
    charts: Sequence[Chart] = (),
    notes: Sequence[str] = (),
    extra: dict[str, Any] | None = None,
) -> Report:
    return Report(
        kind=kind,
        title=title,
        title_en=title_en,
        as_of=moment.at,
        digest=moment.digest,
        position=moment.position,
        columns=columns,
        rows=rows,
        charts=charts,
        notes=notes,
        extra=extra or {},
    )
