"""Outbox rows reach a real SMTP server once: retried while it is away, never doubled."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from domain.ladder import Recipient
from notifications.sender import MailSender, RetryPolicy
from notifications.tables import OutboxRow, mail_outbox
from tests.conftest import ManualClock
from tests.notifications.conftest import CLERK, CONTACT, EVALUATOR, RESPONSIBLE, SYSTEM, Mail
from tests.smtp import SmtpServer


def test_a_message_arrives_once_in_readable_chinese(mail: Mail, smtp_server: SmtpServer) -> None:
    (finding,) = mail.issue()
    mail.deriver.derive()
    sender = mail.sender(smtp_server)

    report = sender.send_due()
    again = sender.send_due()

    assert (report.sent, again.sent) == (1, 0)
    (received,) = smtp_server.received
    (row,) = mail.rows()
    assert (row.status, row.attempts, row.sent_at) == ("sent", 1, mail.clock.now)
    assert received.recipients == (CONTACT,)
    assert received.mail_from == "lastmile@czj.example.cn"
    message = received.message
    assert message["Subject"] == "【整改通知】泸财绩〔2025〕12号 第1项：请于2025年9月30日前签收"
    assert message["Message-ID"] == row.message_id == f"<{row.id}@lastmile>"
    assert message["From"] == "lastmile@czj.example.cn"
    assert message.get_content_type() == "multipart/alternative"
    assert "整改通知文号：泸财绩〔2025〕12号" in received.text
    assert "问题：第1项 预算执行率低（问题1）" in received.text
    assert "整改责任单位：泸溪县水利局" in received.text
    assert f"http://127.0.0.1:8000/findings/{finding}" in received.text
    assert f'<a href="http://127.0.0.1:8000/findings/{finding}">' in received.html


def test_while_the_server_is_down_mail_waits_with_backoff_then_arrives_once(
    mail: Mail, smtp_server: SmtpServer, clock: ManualClock
) -> None:
    mail.issue()
    mail.deriver.derive()
    sender = mail.sender(smtp_server)
    smtp_server.stop()

    first = sender.send_due()
    (row,) = mail.rows()
    assert (first.retried, row.status, row.attempts) == (1, "pending", 1)
    assert row.next_attempt_at == clock.now + timedelta(minutes=1)
    assert row.last_error is not None
    assert "cannot reach" in row.last_error

    clock.advance(seconds=59)
    assert sender.send_due().retried == 0  # not due yet
    clock.advance(seconds=1)
    sender.send_due()
    (row,) = mail.rows()
    assert (row.attempts, row.next_attempt_at) == (2, clock.now + timedelta(minutes=2))

    smtp_server.start()
    clock.advance(minutes=2)
    assert sender.send_due().sent == 1
    assert sender.send_due().sent == 0
    clock.advance(hours=1)
    assert sender.send_due().sent == 0

    assert len(smtp_server.received) == 1
    assert mail.rows()[0].status == "sent"


def test_the_backoff_doubles_up_to_its_cap() -> None:
    retry = RetryPolicy()

    delays = [retry.delay(n) for n in range(1, 10)]

    assert delays[:4] == [timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert delays[-1] == timedelta(hours=1)


def test_a_temporary_refusal_is_retried_and_delivered_once(
    mail: Mail, smtp_server: SmtpServer, clock: ManualClock
) -> None:
    mail.issue()
    mail.deriver.derive()
    sender = mail.sender(smtp_server)
    smtp_server.answer = "421 4.3.0 Try again later"

    report = sender.send_due()

    (row,) = mail.rows()
    assert (report.retried, row.status, row.sent_at) == (1, "pending", None)
    assert row.last_error is not None
    assert row.last_error.startswith("421")
    smtp_server.answer = None
    clock.advance(minutes=1)
    assert sender.send_due().sent == 1
    assert len(smtp_server.received) == 1


def test_a_permanent_refusal_fails_the_row_and_is_reported_once(
    mail: Mail, smtp_server: SmtpServer, clock: ManualClock
) -> None:
    mail.issue()
    mail.deriver.derive()
    sender = mail.sender(smtp_server)
    smtp_server.answer = "550 5.1.1 Mailbox unavailable"

    report = sender.send_due()
    clock.advance(days=1)
    sender.send_due()

    (row,) = mail.rows()
    assert (report.failed, row.status, row.sent_at) == (1, "failed", None)
    assert row.failure_reported_at is not None
    assert [failure.id for failure in mail.failures] == [row.id]
    assert mail.failures[0].last_error == "550 5.1.1 Mailbox unavailable"
    assert smtp_server.received == []


def test_mail_that_keeps_failing_is_given_up_after_the_give_up_age(
    mail: Mail, smtp_server: SmtpServer, clock: ManualClock
) -> None:
    mail.issue()
    mail.deriver.derive()
    sender = mail.sender(smtp_server, RetryPolicy(give_up_after=timedelta(hours=2)))
    smtp_server.stop()

    for _ in range(8):
        sender.send_due()
        clock.advance(minutes=30)

    (row,) = mail.rows()
    assert row.status == "failed"
    assert len(mail.failures) == 1


def test_the_failure_lands_on_the_findings_trail_through_the_hook(
    mail: Mail, smtp_server: SmtpServer
) -> None:
    (finding,) = mail.issue()
    mail.deriver.derive()
    app = mail.lastmile.app

    def record(row: OutboxRow) -> None:
        assert row.finding_id is not None
        error = row.last_error or "delivery failed"
        app.record_notification_failure(
            finding, SYSTEM, row.recipient, row.subject, error, row.about
        )

    sender = MailSender(mail.lastmile.records, smtp_server.config(), mail.clock, record)
    smtp_server.answer = "554 5.7.1 Rejected"
    sender.send_due()

    failed = [e for e in app.history(finding) if e.type == "NotificationFailed"]
    assert [(e.fields["recipient"], e.fields["about"]) for e in failed] == [(CONTACT, "Issued v1")]
    mail.deriver.derive()  # and NotificationFailed itself mails nobody
    assert len(mail.rows()) == 1


class SimulatedCrashError(RuntimeError):
    """Stands for the process dying at the commit point."""


class CrashAtCommit(MailSender):
    def _mark_sent(self, row: OutboxRow) -> None:
        raise SimulatedCrashError("killed before the row was committed sent")


def test_a_crash_before_the_sent_commit_leaves_the_server_nothing_and_resends_once(
    mail: Mail, smtp_server: SmtpServer, clock: ManualClock
) -> None:
    mail.issue()
    mail.deriver.derive()
    crashing = CrashAtCommit(mail.lastmile.records, smtp_server.config(), clock)

    with pytest.raises(SimulatedCrashError):
        crashing.send_due()

    # The server had the whole message but no end-of-data mark: it dropped it.
    assert smtp_server.received == []
    (row,) = mail.rows()
    assert row.status == "sending"

    restarted = mail.sender(smtp_server)
    assert restarted.recover() == 1
    assert restarted.send_due().sent == 1
    assert restarted.send_due().sent == 0
    assert len(smtp_server.received) == 1
    assert mail.rows()[0].attempts == 2


def test_rows_left_sending_by_a_vanished_sender_are_retried_after_the_lease(
    mail: Mail, smtp_server: SmtpServer, clock: ManualClock
) -> None:
    mail.issue()
    mail.deriver.derive()
    with mail.lastmile.records.begin() as connection:
        connection.execute(
            update(mail_outbox).values(status="sending", attempts=1, claimed_at=clock.now)
        )
    sender = mail.sender(smtp_server)

    assert sender.send_due().sent == 0  # another sender may still be at it
    clock.advance(minutes=16)
    report = sender.send_due()

    assert (report.reclaimed, report.sent) == (1, 1)
    assert len(smtp_server.received) == 1


def test_a_reminder_is_superseded_when_the_finding_moved_on(
    mail: Mail, smtp_server: SmtpServer
) -> None:
    first, second = mail.issue(count=2)
    app = mail.lastmile.app
    contact = [Recipient.DEPARTMENT_CONTACT.value]
    for finding in (first, second):
        app.record_reminder(finding, SYSTEM, "unacknowledged", contact, "ack-3wd")
    app.acknowledge(first, CLERK, RESPONSIBLE)  # after the reminder was recorded
    mail.deriver.derive()

    report = mail.sender(smtp_server).send_due()

    statuses = {(r.finding_id, r.template): r.status for r in mail.rows()}
    assert statuses[(str(first), "reminder_unacknowledged")] == "superseded"
    assert statuses[(str(second), "reminder_unacknowledged")] == "sent"
    assert (report.superseded, report.sent) == (1, 3)
    subjects = sorted(str(r.message["Subject"]) for r in smtp_server.received)
    assert subjects.count("【签收提醒】泸财绩〔2025〕12号 第2项：整改通知尚未签收") == 1
    assert not any("第1项：整改通知尚未签收" in s for s in subjects)


def test_a_deadline_reminder_is_superseded_by_an_extension(
    mail: Mail, smtp_server: SmtpServer
) -> None:
    (finding,) = mail.issue()
    app = mail.lastmile.app
    due_on = app.finding(finding).due_on
    contact = [Recipient.DEPARTMENT_CONTACT.value]
    app.record_reminder(finding, SYSTEM, "due_soon", contact, f"due-5wd:{due_on}")
    app.request_extension(finding, CLERK, due_on + timedelta(days=30), "汛期施工受阻")
    app.decide_extension(finding, EVALUATOR, 1, approved=True)
    mail.deriver.derive()

    mail.sender(smtp_server).send_due()

    reminder = next(r for r in mail.rows() if r.template == "reminder_due_soon")
    assert reminder.status == "superseded"
