"""Outbox rows are derived from events: the right people, once per event, whatever happens."""

from __future__ import annotations

import dataclasses
import threading
from datetime import date, datetime

from sqlalchemy import update

from adapters.bootstrap import bootstrap
from adapters.settings import Settings
from domain.calendar import CHINA_TZ
from domain.ladder import Recipient
from domain.views import FindingDraft, OrderDraft
from notifications.outbox import MailDeriver, message_id, outbox_id
from notifications.tables import mail_outbox, mail_tracking
from tests.conftest import ManualClock
from tests.notifications.conftest import (
    CLERK,
    CLERK_MAIL,
    CONTACT,
    EVALUATOR,
    EVALUATOR_MAIL,
    HEAD,
    OTHER_EVALUATOR,
    RESPONSIBLE,
    RESPONSIBLE_MAIL,
    SUPERVISOR,
    SUPERVISOR_MAIL,
    SYSTEM,
    Mail,
    make_mail,
)


def test_issuing_mails_the_department_contact(mail: Mail) -> None:
    mail.issue(count=2)

    assert mail.deriver.derive() == 2

    assert mail.addressed() == [("issued", CONTACT), ("issued", CONTACT)]
    row = mail.rows()[0]
    assert row.subject == "【整改通知】泸财绩〔2025〕12号 第1项：请于2025年9月30日前签收"
    assert (row.about, row.event_type, row.status) == ("Issued v1", "Issued", "pending")
    assert row.message_id == f"<{row.id}@lastmile>"


def test_a_reminder_mails_its_recorded_recipients(mail: Mail) -> None:
    (finding,) = mail.issue()
    app = mail.lastmile.app
    app.acknowledge(finding, CLERK, RESPONSIBLE)
    due_on = app.finding(finding).due_on
    assert due_on == date(2025, 10, 27)  # 30 days from 26 September, off a Sunday
    mail.clock.now = datetime(2025, 10, 20, 9, tzinfo=CHINA_TZ)  # 21-24 and 27 Oct to go
    roles = [Recipient.DEPARTMENT_CONTACT.value, Recipient.RESPONSIBLE_PERSON.value]
    app.record_reminder(finding, SYSTEM, "due_soon", roles, f"due-5wd:{due_on}")

    mail.deriver.derive()

    reminders = [r for r in mail.rows() if r.event_type == "ReminderSent"]
    assert sorted(r.recipient for r in reminders) == sorted([CONTACT, RESPONSIBLE_MAIL])
    assert reminders[0].subject == ("【整改提醒】泸财绩〔2025〕12号 第1项：距整改期限还有5个工作日")
    assert (reminders[0].kind, reminders[0].due_on) == ("due_soon", due_on)
    assert reminders[0].about == "ReminderSent v3"


def test_an_escalation_mails_the_ladder_recipients_once_each(mail: Mail) -> None:
    (finding,) = mail.issue()
    mail.lastmile.app.escalate(finding, SUPERVISOR, 1, "逾期未整改")

    mail.deriver.derive()

    escalations = [(t, r) for t, r in mail.addressed() if t == "escalation_1"]
    # Head, issuing evaluator, supervisors with an address; the one without is skipped.
    assert escalations == sorted(
        [
            ("escalation_1", HEAD),
            ("escalation_1", EVALUATOR_MAIL),
            ("escalation_1", SUPERVISOR_MAIL),
        ]
    )


def test_the_ladder_policy_decides_who_hears_of_an_escalation(
    mail: Mail, clock: ManualClock
) -> None:
    app, records = mail.lastmile.app, mail.lastmile.records
    supervisors_only = dataclasses.replace(
        app.policy.ladder,
        escalation=tuple(
            dataclasses.replace(rule, recipients=(Recipient.SUPERVISORS, Recipient.SUPERVISORS))
            for rule in app.policy.ladder.escalation
        ),
    )
    deriver = MailDeriver(
        app, records, mail.directory, mail.composer, ladder=supervisors_only, clock=clock
    )
    (finding,) = mail.issue()
    app.escalate(finding, SUPERVISOR, 2, "两次退回")

    deriver.derive()

    assert [(t, r) for t, r in mail.addressed() if t != "issued"] == [
        ("escalation_2", SUPERVISOR_MAIL)
    ]


def test_rejection_verification_and_extension_decisions_mail_the_department(mail: Mail) -> None:
    first, second = mail.issue(count=2)
    app = mail.lastmile.app
    app.acknowledge(first, CLERK, RESPONSIBLE)
    mail.submit(first)
    app.reject(first, EVALUATOR, "佐证材料不完整")
    mail.submit(first)
    app.verify(first, OTHER_EVALUATOR, "整改到位")
    due_on = app.finding(second).due_on
    app.request_extension(second, CLERK, due_on.replace(year=due_on.year + 1), "工程尚未完工")
    app.decide_extension(second, EVALUATOR, 1, approved=True, note="同意延期")

    mail.deriver.derive()

    addressed = [(t, r) for t, r in mail.addressed() if t != "issued"]
    assert addressed == sorted(
        [
            ("rejected", CONTACT),
            ("rejected", RESPONSIBLE_MAIL),
            ("verified", CONTACT),
            ("extension_granted", CONTACT),
            ("extension_granted", CLERK_MAIL),
        ]
    )
    rejected = next(r for r in mail.rows() if r.template == "rejected")
    assert "退回理由：佐证材料不完整" in rejected.text_body
    granted = next(r for r in mail.rows() if r.template == "extension_granted")
    assert f"整改期限延至{due_on.year + 1}年" in granted.subject


def test_a_denied_extension_reaches_the_requester_too(mail: Mail) -> None:
    (finding,) = mail.issue()
    app = mail.lastmile.app
    due_on = app.finding(finding).due_on
    app.request_extension(finding, CLERK, due_on.replace(year=due_on.year + 1), "工程尚未完工")
    app.decide_extension(finding, EVALUATOR, 1, approved=False, note="理由不充分")

    mail.deriver.derive()

    denied = sorted(r.recipient for r in mail.rows() if r.template == "extension_denied")
    assert denied == sorted([CONTACT, CLERK_MAIL])


def test_other_events_and_notification_failures_mail_nobody(mail: Mail) -> None:
    (finding,) = mail.issue()
    app = mail.lastmile.app
    app.acknowledge(finding, CLERK, RESPONSIBLE)
    app.report_progress(finding, CLERK, "已拨付50%", 50)
    app.record_notification_failure(
        finding, SYSTEM, CONTACT, "主题", "550 no such user", "Issued v1"
    )
    app.withdraw(finding, EVALUATOR, "重复下达")

    mail.deriver.derive()

    assert mail.addressed() == [("issued", CONTACT)]


def test_deriving_again_adds_nothing_and_a_replay_gives_the_same_ids(mail: Mail) -> None:
    mail.issue(count=3)
    assert mail.deriver.derive() == 3
    assert mail.deriver.derive() == 0
    before = [(r.id, r.message_id) for r in mail.rows()]

    # Replaying the whole log (position back to 0) finds every row already there.
    with mail.lastmile.records.begin() as connection:
        connection.execute(update(mail_tracking).values(position=0))
    assert mail.deriver.derive() == 0

    assert [(r.id, r.message_id) for r in mail.rows()] == before
    finding = mail.rows()[0].finding_id
    expected = outbox_id(f"{finding}:1", CONTACT, "issued")
    assert (expected, message_id(expected)) in before


def test_two_derivers_at_once_write_each_row_once(settings: Settings, clock: ManualClock) -> None:
    first, second = bootstrap(settings, clock), bootstrap(settings, clock)
    try:
        mail = make_mail(first, clock)
        for n in range(12):
            mail.lastmile.app.issue_order(EVALUATOR, _order(f"泸财绩〔2025〕{n}号", findings=3))
        derivers = [
            MailDeriver(s.app, s.records, mail.directory, mail.composer, clock=clock, batch_size=5)
            for s in (first, second)
        ]
        counts: list[int] = []
        threads = [threading.Thread(target=lambda d=d: counts.append(d.derive())) for d in derivers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        assert sum(counts) == 36
        assert len(mail.rows()) == 36
        assert derivers[0].position() == first.app.recorder.max_notification_id()
    finally:
        first.close()
        second.close()


def test_history_can_be_skipped_when_mail_is_switched_on_later(mail: Mail) -> None:
    mail.issue(count=2)
    with mail.lastmile.records.begin() as connection:
        connection.execute(mail_tracking.delete())
        connection.execute(mail_outbox.delete())

    mail.deriver.create_tables(skip_history=True)

    assert mail.deriver.derive() == 0


def test_english_when_configured(settings: Settings, clock: ManualClock) -> None:
    lastmile = bootstrap(settings, clock)
    try:
        mail = make_mail(lastmile, clock, language="en")
        mail.issue()
        mail.deriver.derive()
        (row,) = mail.rows()
        assert row.language == "en"
        assert row.subject.startswith("[Rectification order] 泸财绩〔2025〕12号 No. 1")
        assert "Department: 泸溪县水利局" in row.text_body
    finally:
        lastmile.close()


def _order(ref: str, findings: int) -> OrderDraft:
    drafts = [
        FindingDraft(str(n), f"问题{n}", "说明", "过程/预算执行率低", "immediate", "整改")
        for n in range(1, findings + 1)
    ]
    return OrderDraft(ref, "LX-2025-PJ-001", "SLJ", drafts)
