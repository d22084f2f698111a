"""A realistic demo data set: a county finance bureau's last mile, in every state.

Modelled on the 泸溪县 rural drinking-water evaluation: the script replays four months of
work on a clock that starts in the past, so deadlines, holidays and overdue findings are real.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from domain.application import LastmileApplication
from domain.calendar import CHINA_TZ
from domain.values import Actor, Role
from domain.views import FindingDraft, OrderDraft

EVALUATOR = Actor("pingjia.li", Role.EVALUATOR)
SECOND_EVALUATOR = Actor("pingjia.wang", Role.EVALUATOR)
SUPERVISOR = Actor("jiandu.zhao", Role.SUPERVISOR)
ADMIN = Actor("admin", Role.ADMIN)
DEMO_PASSWORD = "lastmile-demo"

DEPARTMENTS = [
    ("SLJ", "泸溪县水利局", "slj@luxi.example.gov.cn", "slj-head@luxi.example.gov.cn"),
    ("JYJ", "泸溪县教育局", "jyj@luxi.example.gov.cn", "jyj-head@luxi.example.gov.cn"),
    ("WJJ", "泸溪县卫生健康局", "wjj@luxi.example.gov.cn", "wjj-head@luxi.example.gov.cn"),
    ("NYJ", "泸溪县农业农村局", "nyj@luxi.example.gov.cn", "nyj-head@luxi.example.gov.cn"),
]
USERS = [
    (EVALUATOR.user_id, Role.EVALUATOR, None),
    (SECOND_EVALUATOR.user_id, Role.EVALUATOR, None),
    (SUPERVISOR.user_id, Role.SUPERVISOR, None),
    (ADMIN.user_id, Role.ADMIN, None),
    *((f"{code.lower()}.jingban", Role.DEPARTMENT, code) for code, *_ in DEPARTMENTS),
]
EVALUATIONS: list[dict[str, Any]] = [
    {
        "ref": "LX-2025-PJ-001",
        "title": "2025年农村饮水安全巩固提升工程项目支出绩效评价",
        "year": 2025,
        "object_type": "project",
        "department": "SLJ",
        "budget_amount": Decimal("12000000.00"),
        "score": Decimal("78.5"),
    },
    {
        "ref": "LX-2025-PJ-002",
        "title": "2025年义务教育薄弱环节改善与能力提升项目绩效评价",
        "year": 2025,
        "object_type": "project",
        "department": "JYJ",
        "budget_amount": Decimal("8600000.00"),
        "score": Decimal("86.0"),
    },
    {
        "ref": "LX-2025-BM-003",
        "title": "2025年县卫生健康局部门整体支出绩效评价",
        "year": 2025,
        "object_type": "department",
        "department": "WJJ",
        "budget_amount": Decimal("35400000.00"),
        "score": Decimal("58.0"),
    },
    {
        "ref": "LX-2025-ZC-004",
        "title": "2025年耕地地力保护补贴政策绩效评价",
        "year": 2025,
        "object_type": "policy",
        "department": "NYJ",
        "budget_amount": Decimal("21000000.00"),
        "score": Decimal("91.5"),
    },
]


def _finding(
    ref: str, description: str, category: str, kind: str, requirement: str
) -> FindingDraft:
    return FindingDraft(ref, "", description, category, kind, requirement)


ORDERS = [
    OrderDraft(
        "泸财绩〔2025〕12号",
        "LX-2025-PJ-001",
        "SLJ",
        [
            _finding(
                "1",
                "年终预算执行率为68.07%，预算执行进度较慢",
                "过程/预算执行率低",
                "立行立改",
                "加快资金拨付进度，按月报送执行情况",
            ),
            _finding(
                "2",
                "绩效目标设置不够明确，产出指标未细化量化",
                "决策/绩效目标设置不合理",
                "分阶段整改",
                "细化量化绩效指标，报财政局备案",
            ),
            _finding(
                "3",
                "项目建成后管护制度缺失，长效管护机制未建立",
                "过程/管理制度不健全",
                "持续整改",
                "建立长效管护机制，明确管护责任主体",
            ),
            _finding(
                "4",
                "结转资金42.6万元闲置超过一年",
                "过程/资金闲置沉淀",
                "立行立改",
                "清理结转资金，按规定收回统筹",
            ),
            _finding(
                "5",
                "部分村组水质检测未按季度开展",
                "产出/产出未达标",
                "立行立改",
                "补齐水质检测，公开检测结果",
            ),
        ],
    ),
    OrderDraft(
        "泸财绩〔2025〕15号",
        "LX-2025-PJ-002",
        "JYJ",
        [
            _finding(
                "1",
                "设备采购验收资料不完整",
                "过程/管理制度不健全",
                "立行立改",
                "补全验收资料，建立验收台账",
            ),
            _finding(
                "2",
                "学生满意度调查样本量不足",
                "效益/满意度低",
                "分阶段整改",
                "扩大样本，委托第三方开展调查",
            ),
            _finding(
                "3",
                "项目资金与其他资金混用，未单独核算",
                "过程/资金管理不规范",
                "立行立改",
                "设立专账，单独核算",
            ),
        ],
    ),
    OrderDraft(
        "泸财绩〔2025〕18号",
        "LX-2025-BM-003",
        "WJJ",
        [
            _finding(
                "1",
                "部门整体绩效目标与年度工作计划脱节",
                "决策/绩效目标设置不合理",
                "分阶段整改",
                "重新编制部门整体绩效目标",
            ),
            _finding(
                "2",
                "基层医疗设备闲置率高，效益不明显",
                "效益/效益不明显",
                "立行立改",
                "盘活闲置设备，调剂使用",
            ),
            _finding("3", "专项资金沉淀156万元", "过程/资金闲置沉淀", "立行立改", "收回沉淀资金"),
        ],
    ),
    OrderDraft(
        "泸财绩〔2025〕21号",
        "LX-2025-ZC-004",
        "NYJ",
        [
            _finding(
                "1", "补贴发放公示不及时", "过程/管理制度不健全", "立行立改", "按规定及时公示"
            ),
            _finding(
                "2",
                "耕地面积核实依据不足",
                "产出/产出未达标",
                "分阶段整改",
                "开展面积核实，完善台账",
            ),
        ],
    ),
]


@dataclass
class ScriptClock:
    """A clock the demo script moves forward, so its history happens on real past dates."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def on(self, day: date, hour: int = 10) -> None:
        self.now = max(self.now, datetime.combine(day, time(hour), CHINA_TZ))


def demo_dates(today: date) -> Iterator[date]:
    """The days on which the script acts: from 120 days before today to 5 days before."""
    for days_ago in (120, 117, 112, 100, 90, 75, 60, 40, 20, 5):
        yield today - timedelta(days=days_ago)


def load_demo(
    app: LastmileApplication,
    clock: ScriptClock,
    today: date,
    add_user: Callable[[str, Role, str | None], None],
) -> dict[str, list[UUID]]:
    """Register departments, users and evaluations, issue the orders, then live the history."""
    d = list(demo_dates(today))
    # The data set is written for 2025; it is replayed as the year of its first day, so
    # the budget-linkage report for next year's budget has something to say.
    year = str(d[0].year)
    clock.on(d[0], 9)
    for code, name, contact, head in DEPARTMENTS:
        app.register_department(ADMIN, code, name, contact, head)
    for user_name, role, department in USERS:
        add_user(user_name, role, department)
    for evaluation in EVALUATIONS:
        dated = {
            k: v.replace("2025", year) if isinstance(v, str) else v for k, v in evaluation.items()
        }
        app.record_evaluation(EVALUATOR, **{**dated, "year": int(year)})
    issued = {}
    for hour, order in enumerate(ORDERS, start=10):
        notice = OrderDraft(
            order.ref.replace("2025", year),
            order.evaluation.replace("2025", year),
            order.department,
            order.findings,
            d[0],
        )
        clock.on(d[0], hour)
        issued[order.ref] = app.issue_order(EVALUATOR, notice)
    _live(app, clock, d, issued)
    return issued


def _live(
    app: LastmileApplication, clock: ScriptClock, d: list[date], issued: dict[str, list[UUID]]
) -> None:
    slj, jyj, wjj, nyj = (issued[o.ref] for o in ORDERS)
    slj_user, jyj_user, wjj_user = (
        Actor(f"{c}.jingban", Role.DEPARTMENT) for c in ("slj", "jyj", "wjj")
    )
    clock.on(d[1])
    for f in slj + jyj:
        app.acknowledge(
            f,
            slj_user if f in slj else jyj_user,
            "张建国" if f in slj else "李红梅",
            "按通知要求逐项整改",
        )
    clock.on(d[2])
    app.acknowledge(wjj[0], wjj_user, "王志强")
    app.report_progress(slj[1], slj_user, "已完成指标初稿，正在征求意见", 40)
    # SLJ #1: submitted, sent back once, resubmitted, verified (销号).
    _submit(app, slj[0], slj_user, "已拨付资金1,050万元，执行率提升至96%", "执行情况表.pdf")
    clock.on(d[3])
    app.reject(slj[0], EVALUATOR, "佐证材料缺少国库集中支付凭证，请补充")
    _submit(app, slj[0], slj_user, "补充国库集中支付凭证", "国库支付凭证.pdf")
    clock.on(d[4])
    app.verify(slj[0], EVALUATOR, "资料齐全，执行率达标，同意销号")
    # SLJ #4: money recovered and verified; JYJ #1 waits for verification.
    _submit(
        app,
        slj[3],
        slj_user,
        "收回结转资金42.6万元统筹使用",
        "资金收回文件.pdf",
        Decimal("426000.00"),
    )
    app.verify(slj[3], SECOND_EVALUATOR, "已核实收回")
    _submit(app, jyj[0], jyj_user, "补全验收资料，建立验收台账", "验收台账.xlsx", rules=1)
    # SLJ #3 (long term): an extension asked for and granted; NYJ #1 withdrawn.
    app.request_extension(
        slj[2], slj_user, d[4] + timedelta(days=420), "管护机制需县政府常务会审议"
    )
    app.decide_extension(slj[2], EVALUATOR, 1, approved=True, note="同意延期，按季度报送进展")
    app.withdraw(nyj[0], EVALUATOR, "经复核，补贴公示已按期完成，问题不成立")
    clock.on(d[5])
    # JYJ #3: an extension denied; it runs overdue and is escalated by the supervisor.
    app.request_extension(jyj[2], jyj_user, d[9] + timedelta(days=60), "财务人员调整")
    app.decide_extension(jyj[2], EVALUATOR, 1, approved=False, note="理由不充分，请按期整改")
    clock.on(d[7])
    for f in (slj[4], jyj[2], wjj[1], wjj[2]):
        app.escalate(f, SUPERVISOR, 1, "逾期未完成整改，发督办通知", "manual")
    clock.on(d[8])
    app.escalate(wjj[2], SUPERVISOR, 2, "逾期超过10个工作日，约谈单位负责人", "manual")
    app.record_interview(wjj[2], SUPERVISOR, d[8], "约谈县卫健局分管负责人，要求两周内收回沉淀资金")
    clock.on(d[9])
    app.reopen(slj[0], EVALUATOR, "回头看发现执行率回落，重新整改")


def _submit(
    app: LastmileApplication,
    finding: UUID,
    actor: Actor,
    measures: str,
    file_name: str,
    amount: Decimal = Decimal("0"),
    rules: int = 0,
) -> None:
    sha = _document_sha(finding, file_name)
    app.attach_evidence(finding, actor, sha, file_name, 184_320, "application/pdf")
    app.submit_rectification(finding, actor, measures, [sha], amount, rules)


def _document_sha(finding: UUID, name: str) -> str:
    # Evidence files themselves are stored by the API (a later issue); the demo records
    # their metadata with a stable digest so a reloaded demo matches itself.
    return hashlib.sha256(f"{finding}/{name}".encode()).hexdigest()
