"""The trail's labels (PRODUCT.md §3), in the reader's language, newest first."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest

from api.ui.i18n import Translator
from api.ui.timeline import timeline
from domain.calendar import CHINA_TZ
from domain.views import HistoryEntry

AT = datetime(2025, 10, 9, 10, 0, tzinfo=CHINA_TZ)


def entry(event_type: str, version: int = 1, /, **fields: Any) -> HistoryEntry:
    return HistoryEntry(version, event_type, AT, "pingjia.li", "evaluator", fields)


@pytest.mark.parametrize(
    ("kind", "fields", "label"),
    [
        ("Issued", {}, "下达整改通知"),
        ("Acknowledged", {"responsible_person": "张建国", "plan": ""}, "签收"),
        ("ProgressReported", {"note": "过半", "percent": 50}, "报送进展"),
        ("EvidenceAttached", {"name": "a.pdf", "size": 2048}, "上传佐证材料"),
        ("ExtensionRequested", {"n": 1, "new_due_on": date(2025, 12, 1)}, "申请延期"),
        ("ExtensionGranted", {"n": 1, "note": ""}, "批准延期"),
        ("ExtensionDenied", {"n": 1, "note": "理由不充分"}, "驳回延期"),
        ("Rectified", {"measures": "已整改", "evidence": ["e" * 64]}, "提交整改报告"),
        ("Verified", {"note": ""}, "核查通过·销号"),
        ("Rejected", {"reason": "缺凭证"}, "退回整改"),
        ("Escalated", {"level": 1, "reason": "逾期", "trigger": "manual"}, "督办"),
        ("Escalated", {"level": 2, "reason": "逾期", "trigger": "overdue-10wd"}, "约谈"),
        ("Escalated", {"level": 3, "reason": "逾期", "trigger": "overdue-30wd"}, "问责"),
        ("ReminderSent", {"kind": "due_soon", "recipients": ["a@b.cn"]}, "提醒"),
        ("InterviewRecorded", {"held_on": date(2025, 10, 9), "note": "约谈"}, "约谈记录"),
        ("AccountabilityDecided", {"decision": "通报批评", "note": ""}, "问责处理"),
        ("Reopened", {"reason": "回头看"}, "回头看·重新整改"),
        ("Withdrawn", {"reason": "不成立"}, "撤销"),
        ("NotificationFailed", {"recipient": "a@b.cn", "error": "550"}, "邮件投递失败"),
    ],
)
def test_each_event_has_its_chinese_label(kind: str, fields: dict[str, Any], label: str) -> None:
    (shown,) = timeline([entry(kind, **fields)], Translator("zh-CN"))
    assert shown.label == label
    assert shown.role == "评价人员"


def test_details_are_readable_and_empty_ones_left_out() -> None:
    rectified = entry(
        "Rectified",
        measures="收回资金",
        evidence=["e" * 64, "f" * 64],
        amount_recovered=Decimal("426000.00"),
        rules_improved=0,
    )
    (shown,) = timeline([rectified], Translator("zh-CN"))
    assert shown.details == [
        ("已采取的整改措施", "收回资金"),
        ("佐证材料", "2 个文件"),
        ("收回金额（元）", "426,000.00"),
    ]


def test_the_newest_event_comes_first_and_english_is_available() -> None:
    history = [entry("Issued", 1), entry("Acknowledged", 2, responsible_person="张三")]
    shown = timeline(history, Translator("en"))
    assert [e.label for e in shown] == ["Signed for", "Rectification notice issued"]
    reminder = entry("ReminderSent", 3, kind="overdue", recipients=["a@b.cn"])
    assert timeline([reminder], Translator("en"))[0].details[0] == (
        "Kind of reminder",
        "overdue notice",
    )
