"""A scripted history across the 2025 National Day holiday, as the worker would live it.

Two findings of one order, issued on Monday 22 September 2025 with a deadline of Friday
10 October. The holiday runs 1–8 October; Sunday 28 September and Saturday 11 October are
make-up working days (调休上班). The worker's scan runs at the moments below, each followed
by deriving and sending mail through a real SMTP server on loopback, and the test checks
every message that arrives: its subject (the Chinese text), its recipients, its order.

Finding 1 is signed late and runs past its deadline. Finding 2 is signed at once and its
deadline is extended before any reminder falls due, so it gets none.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

import pytest

from adapters.bootstrap import Lastmile, bootstrap
from adapters.settings import Settings
from adapters.worker.scan import scan
from domain.calendar import CHINA_TZ
from domain.values import Actor, Role
from domain.views import FindingDraft, OrderDraft
from notifications.tables import mail_outbox
from tests.conftest import ManualClock
from tests.smtp import HOST, SmtpServer

ORDER = "泸财绩〔2025〕30号"
CONTACT, HEAD = "slj@luxi.example.gov.cn", "head@slj.luxi.example.gov.cn"
EVALUATOR_MAIL, SUPERVISOR_MAIL = "pingjia.li@czj.example.gov.cn", "jiandu.zhao@czj.example.gov.cn"
RESPONSIBLE_MAIL = "slj.zhangwei@slj.luxi.example.gov.cn"
EVALUATOR = Actor("pingjia.li", Role.EVALUATOR)
CLERK = Actor("slj.zhangwei", Role.DEPARTMENT)


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=CHINA_TZ)


@pytest.fixture
def server() -> Iterator[SmtpServer]:
    running = SmtpServer().start()
    yield running
    running.stop()


@pytest.fixture
def worker(settings: Settings, server: SmtpServer) -> Iterator[tuple[Lastmile, ManualClock]]:
    clock = ManualClock(moment("2025-09-22T09:00"))
    configured = settings.model_copy(update={"smtp_url": f"smtp://{HOST}:{server.port}"})
    system = bootstrap(configured, clock)
    yield system, clock
    system.close()


def seed(system: Lastmile) -> tuple[UUID, UUID]:
    app, users = system.app, system.users
    app.register_department(EVALUATOR, "SLJ", "泸溪县水利局", CONTACT, HEAD)
    users.add("pingjia.li", Role.EVALUATOR, email=EVALUATOR_MAIL)
    users.add("jiandu.zhao", Role.SUPERVISOR, email=SUPERVISOR_MAIL)
    users.add("slj.zhangwei", Role.DEPARTMENT, "SLJ", RESPONSIBLE_MAIL)
    app.record_evaluation(
        EVALUATOR,
        ref="LX-2025-PJ-030",
        title="2025年防汛抗旱专项资金绩效评价",
        year=2025,
        object_type="project",
        department="SLJ",
        budget_amount=Decimal("3000000.00"),
        score=Decimal("72"),
    )
    due = date(2025, 10, 10)
    findings = [
        FindingDraft(
            "1", "预算执行率低", "执行率61%", "过程/预算执行", "immediate", "加快执行", due
        ),
        FindingDraft("2", "绩效目标不明确", "未量化", "决策/绩效目标", "immediate", "细化", due),
    ]
    first, second = app.issue_order(EVALUATOR, OrderDraft(ORDER, "LX-2025-PJ-030", "SLJ", findings))
    return first, second


def tick(system: Lastmile, clock: ManualClock, at: str) -> None:
    """One worker round as of a moment: scan the ladder, derive mail, send what is due."""
    clock.now = moment(at)
    report = scan(system, clock.now)
    assert not report.failures
    assert system.mail is not None
    assert system.mail.send is not None
    system.mail.derive()
    system.mail.send()


def delivered(server: SmtpServer, since: int = 0) -> list[tuple[str, set[str]]]:
    """Messages in the order they arrived; one event's messages (one subject) as one entry."""
    grouped: list[tuple[str, set[str]]] = []
    for message in server.received[since:]:
        subject = str(message.message["Subject"])
        if not grouped or grouped[-1][0] != subject:
            grouped.append((subject, set()))
        grouped[-1][1].update(message.recipients)
    return grouped


def test_a_national_day_history_mails_exactly_the_expected_messages_in_order(
    worker: tuple[Lastmile, ManualClock], server: SmtpServer
) -> None:
    system, clock = worker
    first, second = seed(system)
    p = f"{ORDER} 第"

    # Finding 2 is signed at once and extended to 14 November before anything falls due.
    clock.now = moment("2025-09-23T10:00")
    system.app.acknowledge(second, CLERK, "slj.zhangwei", "细化指标")
    system.app.request_extension(second, CLERK, date(2025, 11, 14), "需待汛期结束后复核指标")
    clock.now = moment("2025-09-24T15:00")
    system.app.decide_extension(second, EVALUATOR, 1, approved=True, note="同意")

    # Thursday 25 Sep: the acknowledgement deadline is today, so nothing is due yet.
    tick(system, clock, "2025-09-25T17:00")
    # The extension's decision also goes to the clerk who asked for it.
    assert delivered(server) == [
        (f"【整改通知】{p}1项：请于2025年9月25日前签收", {CONTACT}),
        (f"【整改通知】{p}2项：请于2025年9月25日前签收", {CONTACT}),
        (f"【延期批准】{p}2项：整改期限延至2025年11月14日", {CONTACT, RESPONSIBLE_MAIL}),
    ]
    seen = len(server.received)

    # Friday 26 Sep: finding 1 is unsigned past its deadline, and 5 working days are left
    # to 10 Oct (28 Sep is a make-up Sunday; 1–8 Oct are the holiday).
    tick(system, clock, "2025-09-26T09:00")
    assert delivered(server, seen) == [
        (f"【签收提醒】{p}1项：整改通知尚未签收", {CONTACT}),
        (f"【整改提醒】{p}1项：距整改期限还有5个工作日", {CONTACT}),
    ]
    seen = len(server.received)

    # Saturday 27 Sep is a rest day: reminders wait.
    tick(system, clock, "2025-09-27T09:00")
    assert delivered(server, seen) == []

    # Sunday 28 Sep is a working day: the department signs; 4 days left repeats nothing.
    clock.now = moment("2025-09-28T10:00")
    system.app.acknowledge(first, CLERK, "slj.zhangwei", "本月内完成拨付")
    tick(system, clock, "2025-09-28T17:00")
    # Through the holiday, nothing at all.
    for day in ("2025-09-30T17:00", "2025-10-01T09:00", "2025-10-05T09:00", "2025-10-08T09:00"):
        tick(system, clock, day)
    assert delivered(server, seen) == []

    # Thursday 9 Oct: one working day left, to the contact and the responsible person.
    tick(system, clock, "2025-10-09T09:00")
    assert delivered(server, seen) == [
        (f"【整改提醒】{p}1项：距整改期限还有1个工作日", {CONTACT, RESPONSIBLE_MAIL}),
    ]
    seen = len(server.received)

    # Friday 10 Oct: the deadline itself.
    tick(system, clock, "2025-10-10T09:00")
    assert delivered(server, seen) == [
        (f"【整改提醒】{p}1项：今日为整改期限", {CONTACT, RESPONSIBLE_MAIL}),
    ]
    seen = len(server.received)

    # Saturday 11 Oct is a make-up working day: one working day overdue, so the overdue
    # notice and level 1 督办 go out — five scans at the same moment send them once.
    for _ in range(5):
        tick(system, clock, "2025-10-11T09:00")
    assert delivered(server, seen) == [
        (f"【逾期提醒】{p}1项：已逾期1个工作日", {CONTACT, EVALUATOR_MAIL}),
        (f"【督办通知】{p}1项：逾期未整改，列入督办", {HEAD, EVALUATOR_MAIL, SUPERVISOR_MAIL}),
    ]
    assert len(server.received) == seen + 5  # one message per recipient, none twice
    seen = len(server.received)
    level_1 = server.received[-1]
    assert "逾期1个工作日" in level_1.text
    assert "泸溪县水利局" in level_1.text
    assert f"/findings/{first}" in level_1.text

    # Sunday 12 Oct is a rest day again; finding 2 never got a reminder for its old deadline.
    tick(system, clock, "2025-10-12T09:00")
    assert delivered(server, seen) == []
    assert not [s for s, _ in delivered(server) if "2项" in s and "提醒" in s]
    with system.records.connect() as connection:
        rows = list(connection.execute(mail_outbox.select()))
    assert {row.status for row in rows} == {"sent"}
    received_ids = [str(m.message["Message-ID"]) for m in server.received]
    assert sorted(received_ids) == sorted(row.message_id for row in rows)  # each exactly once
