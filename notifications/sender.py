"""Send due outbox rows over SMTP: claimed, committed `sent` before the end of DATA, retried.

A row's life: pending → sending (claimed, attempts + 1) → sent | pending (4xx, server away;
with backoff) | failed (5xx, or still failing after the give-up age) | superseded (a
reminder whose finding moved on). See notifications/delivery.py for why `sent` is committed
just before the final ".".
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from aiosmtplib import SMTP, SMTPException, SMTPResponseException
from sqlalchemy import Engine, select, update

from notifications.compose import build_message
from notifications.delivery import UnconfirmedDeliveryError, send_data
from notifications.smtp_config import SmtpConfig, parse_smtp_url
from notifications.tables import (
    FAILED,
    PENDING,
    SENDING,
    SENT,
    SUPERSEDED,
    OutboxRow,
    mail_outbox,
)

log = logging.getLogger(__name__)
COMPLETED = 250
BATCH_SIZE = 50

__all__ = ["MailSender", "SendReport", "SmtpConfig", "parse_smtp_url"]


class LostClaimError(RuntimeError):
    """The row was taken back from this sender (reclaimed as stale) before it could be sent."""


@dataclass
class SendReport:
    """What one round of sending did."""

    sent: int = 0
    retried: int = 0  # back to pending, to try again after a backoff
    failed: int = 0
    superseded: int = 0
    reclaimed: int = 0  # found `sending` from a sender that stopped, made pending again
    unconfirmed: int = 0  # sent, but the server's final reply never came


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff (1, 2, 4 … minutes, capped) and when to give up."""

    first: timedelta = timedelta(minutes=1)
    cap: timedelta = timedelta(hours=1)
    give_up_after: timedelta = timedelta(days=3)  # counted from the row's creation
    lease: timedelta = timedelta(minutes=15)  # a `sending` row older than this is stale

    def delay(self, attempts: int) -> timedelta:
        doubled: timedelta = self.first * 2 ** max(attempts - 1, 0)
        return min(doubled, self.cap)


class MailSender:
    """Delivers due outbox rows, one SMTP connection per round."""

    def __init__(
        self,
        engine: Engine,
        config: SmtpConfig,
        clock: Callable[[], datetime],
        on_permanent_failure: Callable[[OutboxRow], None] | None = None,
        *,
        mail_from: str = "lastmile@localhost",
        relevance: Callable[[OutboxRow], bool] | None = None,
        retry: RetryPolicy = RetryPolicy(),  # frozen, so one shared default is safe
        batch_size: int = BATCH_SIZE,
    ) -> None:
        self.engine, self.config, self.clock = engine, config, clock
        self.on_permanent_failure = on_permanent_failure
        self.mail_from = mail_from
        self.relevance = relevance
        self.retry = retry
        self.batch_size = batch_size

    def send_due(self) -> SendReport:
        """Send what is due now, from synchronous code (the worker's jobs, `lastmile tick`)."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(self.send_due_async())
        # This thread already runs a loop (a caller inside async code): use a thread of our own.
        with ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(asyncio.run, self.send_due_async()).result()

    async def send_due_async(self) -> SendReport:
        report = SendReport(reclaimed=self.recover(stale_only=True))
        self._report_failures()
        candidates = [row for row in self._due() if not self._superseded(row, report)]
        if not candidates:
            return report
        smtp = self._client()
        try:
            await smtp.connect()
        except (OSError, SMTPException) as error:
            for row in candidates:
                self._after_error(row, f"cannot reach {self.config}: {error}", None, report)
            return report
        try:
            for row in candidates:
                claimed = self._claim(row)
                if claimed is not None:
                    await self._send_one(smtp, claimed, report)
                if not smtp.is_connected:
                    break  # the rest stay pending, untouched, for the next round
        finally:
            await _hang_up(smtp)
        return report

    def recover(self, *, stale_only: bool = False) -> int:
        """Make rows left `sending` pending again (at start: all; each round: stale ones).

        The server cannot hold such a message whole: its end-of-data mark is written only
        after the row is committed `sent`.
        """
        query = update(mail_outbox).where(mail_outbox.c.status == SENDING)
        if stale_only:
            query = query.where(mail_outbox.c.claimed_at < self.clock() - self.retry.lease)
        with self.engine.begin() as connection:
            return int(connection.execute(query.values(status=PENDING, claimed_at=None)).rowcount)

    # -- one message --------------------------------------------------------------

    async def _send_one(self, smtp: SMTP, row: OutboxRow, report: SendReport) -> None:
        message = build_message(row, self.mail_from).as_bytes()
        try:
            await smtp.mail(self.mail_from)
            await smtp.rcpt(row.recipient)
            reply = await send_data(smtp, message, lambda: self._mark_sent(row), smtp.timeout)
        except SMTPResponseException as error:  # refused before the end of data
            self._after_error(row, f"{error.code} {error.message}", error.code, report)
            await _reset(smtp)
            return
        except UnconfirmedDeliveryError as error:
            # The whole message went out; resending risks a second copy, so it stays sent.
            note = f"no reply after the end of data ({error}); kept as sent"
            self._settle(replace(row, status=SENT), last_error=note)
            report.unconfirmed += 1
            smtp.close()
            return
        except (OSError, SMTPException, LostClaimError) as error:
            smtp.close()  # mid-transaction: dropping the connection discards it server-side
            if not isinstance(error, LostClaimError):
                self._after_error(row, f"connection failed: {error}", None, report)
            return
        except BaseException:
            smtp.close()  # never leave the end-of-data mark to chance
            raise
        if reply.code == COMPLETED:
            report.sent += 1
        else:
            refused = f"{reply.code} {reply.message}"
            self._after_error(replace(row, status=SENT), refused, reply.code, report)

    def _mark_sent(self, row: OutboxRow) -> None:
        """Commit `sent`: the last thing before the server may accept the message."""
        if not self._settle(row, status=SENT, sent_at=self.clock(), last_error=None):
            raise LostClaimError(f"outbox row {row.id} was reclaimed meanwhile")

    # -- outcomes -----------------------------------------------------------------

    def _after_error(
        self, row: OutboxRow, error: str, code: int | None, report: SendReport
    ) -> None:
        """4xx and lost connections wait and try again; 5xx and old rows fail for good.

        `row` is as the database holds it now: pending (never claimed, so this attempt is
        counted here), sending, or sent (the server refused after the end of data).
        """
        now = self.clock()
        attempts = row.attempts + (row.status == PENDING)
        if (code is not None and 500 <= code < 600) or (
            now - row.created_at >= self.retry.give_up_after
        ):
            self._settle(row, status=FAILED, last_error=error, attempts=attempts, sent_at=None)
            report.failed += 1
            self._report_failures()
            return
        self._settle(
            row,
            status=PENDING,
            attempts=attempts,
            next_attempt_at=now + self.retry.delay(attempts),
            last_error=error,
            claimed_at=None,
            sent_at=None,
        )
        report.retried += 1

    def _settle(self, row: OutboxRow, **values: Any) -> bool:
        """Update the row if it is still as this sender saw it (same status, same claim)."""
        query = (
            update(mail_outbox)
            .where(mail_outbox.c.id == row.id, mail_outbox.c.status == row.status)
            .where(mail_outbox.c.attempts == row.attempts)
            .values(**values)
        )
        with self.engine.begin() as connection:
            return bool(connection.execute(query).rowcount == 1)

    def _report_failures(self) -> None:
        """Tell on_permanent_failure of each failed row once (again after a crash in between)."""
        if self.on_permanent_failure is None:
            return
        query = (
            select(mail_outbox)
            .where(mail_outbox.c.status == FAILED, mail_outbox.c.failure_reported_at.is_(None))
            .where(mail_outbox.c.finding_id.is_not(None))
            .order_by(mail_outbox.c.created_at)
        )
        with self.engine.connect() as connection:
            rows = [OutboxRow.from_row(row) for row in connection.execute(query)]
        for row in rows:
            try:
                self.on_permanent_failure(row)
            except Exception:
                log.exception("could not record the failed mail %s; will try again", row.id)
                continue
            with self.engine.begin() as connection:
                connection.execute(
                    update(mail_outbox)
                    .where(mail_outbox.c.id == row.id)
                    .values(failure_reported_at=self.clock())
                )

    # -- choosing rows ---------------------------------------------------------------

    def _due(self) -> list[OutboxRow]:
        query = (
            select(mail_outbox)
            .where(mail_outbox.c.status == PENDING)
            .where(mail_outbox.c.next_attempt_at <= self.clock())
            # Oldest due first, and within that in the order the events happened, so a
            # department reads "signed" before "overdue" even after an outage.
            .order_by(mail_outbox.c.next_attempt_at, mail_outbox.c.event_position, mail_outbox.c.id)
            .limit(self.batch_size)
        )
        with self.engine.connect() as connection:
            return [OutboxRow.from_row(row) for row in connection.execute(query)]

    def _superseded(self, row: OutboxRow, report: SendReport) -> bool:
        if self.relevance is None or self.relevance(row):
            return False
        if self._settle(row, status=SUPERSEDED):
            report.superseded += 1
        return True

    def _claim(self, row: OutboxRow) -> OutboxRow | None:
        """Take the row for this sender (pending → sending, attempts + 1); None if taken."""
        now = self.clock()
        claimed = replace(row, status=SENDING, attempts=row.attempts + 1, claimed_at=now)
        taken = self._settle(row, status=SENDING, attempts=claimed.attempts, claimed_at=now)
        return claimed if taken else None

    def _client(self) -> SMTP:
        config = self.config
        return SMTP(
            hostname=config.host,
            port=config.port,
            username=config.username,
            password=config.password,
            use_tls=config.use_tls,
            start_tls=config.start_tls,
            timeout=config.timeout,
            local_hostname=config.local_hostname,
        )


async def _reset(smtp: SMTP) -> None:
    """RSET after a refusal, so the next message starts a clean transaction."""
    if smtp.is_connected:
        try:
            await smtp.rset()
        except SMTPException:
            smtp.close()


async def _hang_up(smtp: SMTP) -> None:
    if smtp.is_connected:
        with contextlib.suppress(SMTPException):
            await smtp.quit()
    smtp.close()
