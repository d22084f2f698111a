"""The ledger's Chinese column headers (PRODUCT.md §7) and which of them must be present."""

from __future__ import annotations

SEQ = "序号"
EVALUATION = "评价项目编号"
EVALUATION_TITLE = "评价项目名称"
YEAR = "评价年度"
SCORE = "评价得分"
ORDER = "整改通知文号"
ISSUED_ON = "下达日期"
DEPARTMENT = "整改责任单位代码"
DEPARTMENT_NAME = "整改责任单位"
FINDING = "问题编号"
DESCRIPTION = "问题描述"
CATEGORY = "问题类型"
CLASS = "整改类型"
REQUIREMENT = "整改要求"
DUE_ON = "整改时限"
BUDGET = "预算金额"  # optional: the evaluated budget in yuan; a new evaluation otherwise records 0

REQUIRED = (
    EVALUATION,
    EVALUATION_TITLE,
    YEAR,
    SCORE,
    ORDER,
    ISSUED_ON,
    DEPARTMENT,
    FINDING,
    DESCRIPTION,
    CATEGORY,
    CLASS,
)
OPTIONAL = (SEQ, DEPARTMENT_NAME, REQUIREMENT, DUE_ON, BUDGET)
KNOWN = frozenset(REQUIRED + OPTIONAL)

# Cells every row must fill; the evaluation's name, year and score only when it is new.
REQUIRED_CELLS = (EVALUATION, ORDER, ISSUED_ON, DEPARTMENT, FINDING, DESCRIPTION, CATEGORY, CLASS)

ENGLISH = {
    SEQ: "No.",
    EVALUATION: "evaluation number",
    EVALUATION_TITLE: "evaluation name",
    YEAR: "evaluation year",
    SCORE: "score",
    ORDER: "order number",
    ISSUED_ON: "notice date",
    DEPARTMENT: "department code",
    DEPARTMENT_NAME: "department name",
    FINDING: "finding number",
    DESCRIPTION: "description",
    CATEGORY: "category",
    CLASS: "rectification class",
    REQUIREMENT: "requirement",
    DUE_ON: "deadline",
    BUDGET: "budget amount",
}
# The order of PRODUCT.md §7, in which a row's problems are listed.
IN_ORDER = (
    SEQ,
    EVALUATION,
    EVALUATION_TITLE,
    YEAR,
    SCORE,
    ORDER,
    ISSUED_ON,
    DEPARTMENT,
    DEPARTMENT_NAME,
    FINDING,
    DESCRIPTION,
    CATEGORY,
    CLASS,
    REQUIREMENT,
    DUE_ON,
    BUDGET,
)
