"""What the worker asks of notifications: derive the outbox, send what is due, the digest."""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from adapters.projections.queries import LedgerFilter, ReadModels
from adapters.settings import Settings
from adapters.users import UserStore
from domain.application import LastmileApplication
from domain.values import Actor, Role
from notifications.compose import Composer
from notifications.digest import DigestItem, DigestWriter
from notifications.directory import Directory
from notifications.outbox import MailDeriver
from notifications.relevance import ReminderRelevance
from notifications.sender import MailSender, RetryPolicy, SendReport
from notifications.smtp_config import parse_smtp_url
from notifications.tables import OutboxRow

log = logging.getLogger("lastmile.worker")
SEND_RUN_SECONDS = 20.0
MAILER = Actor("system:mailer", Role.SYSTEM)
DIGEST_STATUSES = ("issued", "acknowledged", "rectified")


@dataclass(frozen=True)
class MailJobs:
    """The mail jobs, bound to their outbox; each returns something worth logging."""

    derive: Callable[[], Any]  # turn new events into outbox rows
    send: Callable[[], Any] | None  # send the mail that is due now; None: no SMTP server
    digest: Callable[[date], Any] | None = None  # the daily digest for a China date


def mail_jobs(
    settings: Settings, app: LastmileApplication, users: UserStore, read_models: ReadModels
) -> MailJobs:
    """The outbox's deriver, sender (when LASTMILE_SMTP_URL is set) and digest writer."""
    engine = read_models.engine
    directory = Directory(app, users)
    composer = Composer(settings.language, settings.base_url)
    deriver = MailDeriver(app, engine, directory, composer, clock=app.clock)
    # Every process creates the outbox at start-up, so on a new store it exists before the
    # first event and every event is mailed; a store that had events before mail existed
    # starts at its head instead of mailing years of old notices at once.
    deriver.create_tables(skip_history=True)
    send = None
    if settings.smtp_url:
        sender = MailSender(
            engine,
            parse_smtp_url(settings.smtp_url),
            app.clock,
            lambda row: _record_failure(app, row),
            mail_from=settings.mail_from,
            relevance=ReminderRelevance(app),
            retry=RetryPolicy(first=timedelta(seconds=settings.mail_retry_seconds)),
        )
        send = _Sending(sender)
    writer = DigestWriter(engine, directory, composer, app.clock)

    def digest(today: date) -> int:
        return writer.write(_open_findings(read_models, app.clock()), today)

    return MailJobs(deriver.derive, send, digest)


class _Sending:
    """The send job; its first round makes rows left `sending` by a killed process pending.

    Only the holder of the worker lock sends (the worker, `lastmile tick`), so when this
    process first sends, a `sending` row is the claim of a process that is gone: it was
    killed before committing `sent`, and its end-of-data mark was never written, so the
    server discarded that message. Without this the row would wait out the sender's lease
    (15 minutes) before going out.
    """

    def __init__(self, sender: MailSender) -> None:
        self.sender = sender
        self.recovered = False

    def __call__(self) -> SendReport:
        total = SendReport()
        if not self.recovered:
            total.reclaimed = self.sender.recover()
            self.recovered = True
        # Batch after batch while there is a backlog, so one run is not capped at one batch
        # per interval; bounded in time, so a stop request waits seconds, not minutes.
        give_up_at = time.monotonic() + SEND_RUN_SECONDS
        while True:
            report = self.sender.send_due()
            for name, value in dataclasses.asdict(report).items():
                setattr(total, name, getattr(total, name) + value)
            handled = report.sent + report.retried + report.failed + report.superseded
            if handled < self.sender.batch_size or time.monotonic() >= give_up_at:
                return total


def _record_failure(app: LastmileApplication, row: OutboxRow) -> None:
    """A mail given up on goes on its finding's trail (NotificationFailed)."""
    assert row.finding_id is not None  # the sender reports finding mail only
    error = row.last_error or "delivery failed"
    app.record_notification_failure(
        UUID(row.finding_id), MAILER, row.recipient, row.subject, error, row.about
    )


def _open_findings(read_models: ReadModels, now: datetime) -> Iterator[DigestItem]:
    """Every open finding as the digest lists it, page by page from the ledger."""
    moment = read_models.moment(now)
    for status in DIGEST_STATUSES:
        page = 1
        while rows := read_models.ledger(moment, LedgerFilter(status=status), page, 500).rows:
            for row in rows:
                yield DigestItem(
                    str(row["id"]), row["order_ref"], row["ref"], row["title"],
                    row["department"], row["status"], row["due_on"], row["overdue_days"],
                )  # fmt: skip
            page += 1
