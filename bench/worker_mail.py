"""Mail delivery: MailSender's messages/s against raw aiosmtplib sends of the same messages.

The outbox rows are a sample of those the first scan's reminders and escalations call for,
derived by MailDeriver.rows_for (copied, with new ids, when there are fewer than asked).
Every workload sends to one aiosmtpd server on loopback, in a process of its own, that
answers 250 to everything (bench.worker_smtpd). MailSender is set up as the worker sets it
up (ReminderRelevance, mail_from) and called as the worker calls it, send_due(), until
every row is sent; then again without the relevance check, to show that check's share.
Each row is claimed and committed `sent` on its own, by design (notifications/delivery.py).
The baseline sends the same messages, built from the rows beforehand, with
SMTP.send_message on one connection, and touches no database. The rows are made pending
again before each MailSender round; the workloads take turns going first.
"""

from __future__ import annotations

import asyncio
import socket
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from email.message import EmailMessage
from typing import Any

from aiosmtplib import SMTP
from sqlalchemy import select, update

from adapters.bootstrap import Lastmile
from domain.findings import Finding
from notifications.compose import Composer, build_message
from notifications.directory import Directory
from notifications.mailing import MAILING_TOPICS
from notifications.outbox import (
    MailDeriver,
    create_outbox_tables,
    insert_rows,
    message_id,
    outbox_id,
)
from notifications.relevance import ReminderRelevance
from notifications.sender import MailSender, SendReport
from notifications.smtp_config import SmtpConfig
from notifications.tables import PENDING, OutboxRow, mail_outbox

HOST = "127.0.0.1"
Say = Callable[[str], None]


@dataclass(frozen=True)
class MailPlan:
    messages: int = 500
    rounds: int = 3


@dataclass(frozen=True)
class MailRun:
    """Messages/s per round of each workload, and what was sent."""

    messages: int
    derived: int  # rows derived from the scan's events; the rest are copies of them
    mean_bytes: int  # the messages' mean size as MailSender writes them
    templates: dict[str, int]
    reminders: int  # rows the relevance check re-judges (it loads their finding)
    sender: tuple[float, ...]  # messages/s, as the worker sets MailSender up
    unchecked: tuple[float, ...]  # MailSender without the relevance check
    raw: tuple[float, ...]
    send_due_calls: int  # calls of MailSender.send_due per round
    accepted: int  # messages the server accepted in all

    @property
    def sender_median(self) -> float:
        return statistics.median(self.sender)

    @property
    def raw_median(self) -> float:
        return statistics.median(self.raw)

    @property
    def unchecked_median(self) -> float:
        return statistics.median(self.unchecked)

    @property
    def ratio(self) -> float:
        return self.sender_median / self.raw_median


def measure_mail(lastmile: Lastmile, after: int, plan: MailPlan, say: Say) -> MailRun:
    """Send plan.messages outbox rows, MailSender and raw alternately, plan.rounds each."""
    engine = lastmile.records
    create_outbox_tables(engine)
    derived = outbox_rows(lastmile, after, plan.messages)
    with engine.begin() as connection:
        insert_rows(connection, derived.rows)
    rows = _read_rows(lastmile)
    config = SmtpConfig(HOST, _free_port(), timeout=30.0, local_hostname="lastmile.bench")
    mail_from = lastmile.settings.mail_from
    relevance = ReminderRelevance(lastmile.app)
    senders = {
        name: MailSender(engine, config, lastmile.app.clock, mail_from=mail_from, relevance=check)
        for name, check in (("sender", relevance), ("unchecked", None))
    }
    messages = [(row.recipient, build_message(row, mail_from)) for row in rows]
    rates: dict[str, list[float]] = {"sender": [], "unchecked": [], "raw": []}
    calls = 0
    with SmtpServerProcess(config.port) as server:
        for n in range(plan.rounds):
            names = list(rates)[n % 3 :] + list(rates)[: n % 3]  # each goes first in turn
            for name in names:
                if name == "raw":
                    seconds = _raw_seconds(config, mail_from, messages)
                else:
                    seconds, calls = _sender_seconds(lastmile, senders[name], len(rows))
                rates[name].append(len(rows) / seconds)
    expected = len(rates) * plan.rounds * len(rows)
    if server.accepted != expected:
        raise RuntimeError(f"the server accepted {server.accepted} messages, not {expected}")
    run = MailRun(
        messages=len(rows),
        derived=derived.derived,
        mean_bytes=round(
            statistics.mean(len(build_message(r, mail_from).as_bytes()) for r in rows)
        ),
        templates=dict(Counter(r.template for r in rows).most_common()),
        reminders=sum(r.event_type == "ReminderSent" for r in rows),
        sender=tuple(rates["sender"]),
        unchecked=tuple(rates["unchecked"]),
        raw=tuple(rates["raw"]),
        send_due_calls=calls,
        accepted=server.accepted,
    )
    say(
        f"mail: MailSender {run.sender_median:,.0f} msg/s, raw aiosmtplib "
        f"{run.raw_median:,.0f} msg/s, ratio {run.ratio:.2f} ({len(rows)} messages)"
    )
    return run


@dataclass(frozen=True)
class Derived:
    rows: list[dict[str, Any]]
    derived: int


def outbox_rows(lastmile: Lastmile, after: int, count: int) -> Derived:
    """`count` outbox rows of the mailing events after log position `after`.

    Every event's rows are derived, and those with the lowest ids kept: a sample that is the
    same on every store (ids hash the event and recipient), whatever order the scan climbed
    the findings in. Copies of them make up any shortfall.
    """
    app = lastmile.app
    deriver = MailDeriver(
        app,
        lastmile.records,
        Directory(app, lastmile.users),
        Composer(lastmile.settings.language, lastmile.settings.base_url),
        clock=app.clock,
    )
    rows: list[dict[str, Any]] = []
    start = after
    while notifications := app.recorder.select_notifications(
        start=start, limit=500, topics=MAILING_TOPICS, inclusive_of_start=False
    ):
        for notification in notifications:
            event = app.mapper.to_domain_event(notification)
            if isinstance(event, Finding.Event):
                rows += deriver.rows_for(notification.id, event)
        start = notifications[-1].id
    if not rows:
        raise RuntimeError("the first scan's events call for no mail; nothing to send")
    rows = sorted(rows, key=lambda row: str(row["id"]))[:count]
    derived = len(rows)
    for n in range(derived, count):
        rows.append(_copy(rows[n % derived], n))
    return Derived(rows, derived)


def _copy(row: dict[str, Any], n: int) -> dict[str, Any]:
    row_id = outbox_id(f"bench-copy-{n}", row["recipient"], row["template"])
    return {**row, "id": row_id, "message_id": message_id(row_id)}


def _read_rows(lastmile: Lastmile) -> list[OutboxRow]:
    with lastmile.records.connect() as connection:
        query = select(mail_outbox).order_by(mail_outbox.c.next_attempt_at, mail_outbox.c.id)
        return [OutboxRow.from_row(row) for row in connection.execute(query)]


def _sender_seconds(lastmile: Lastmile, sender: MailSender, expected: int) -> tuple[float, int]:
    """Make every row pending again, then call send_due until all are sent; (s, calls)."""
    with lastmile.records.begin() as connection:
        connection.execute(
            update(mail_outbox).values(
                status=PENDING,
                attempts=0,
                claimed_at=None,
                sent_at=None,
                last_error=None,
                next_attempt_at=mail_outbox.c.created_at,
            )
        )
    total, calls = SendReport(), 0
    started = time.perf_counter()
    while total.sent < expected:
        report = sender.send_due()
        calls += 1
        total = _add(total, report)
        if report.sent == 0 or report.retried or report.failed or report.superseded:
            raise RuntimeError(f"MailSender did not send every row: {total}")
    return time.perf_counter() - started, calls


def _add(total: SendReport, report: SendReport) -> SendReport:
    return replace(
        total,
        sent=total.sent + report.sent,
        retried=total.retried + report.retried,
        failed=total.failed + report.failed,
        superseded=total.superseded + report.superseded,
    )


def _raw_seconds(
    config: SmtpConfig, mail_from: str, messages: list[tuple[str, EmailMessage]]
) -> float:
    started = time.perf_counter()
    asyncio.run(_send_raw(config, mail_from, messages))
    return time.perf_counter() - started


async def _send_raw(
    config: SmtpConfig, mail_from: str, messages: list[tuple[str, EmailMessage]]
) -> None:
    smtp = SMTP(
        hostname=config.host,
        port=config.port,
        timeout=config.timeout,
        local_hostname=config.local_hostname,
    )
    await smtp.connect()
    for recipient, message in messages:
        await smtp.send_message(message, sender=mail_from, recipients=[recipient])
    await smtp.quit()


class SmtpServerProcess:
    """bench.worker_smtpd in a child process, for the length of a `with` block."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.accepted = 0
        self.process: subprocess.Popen[str] | None = None

    def __enter__(self) -> SmtpServerProcess:
        command = [sys.executable, "-m", "bench.worker_smtpd", str(self.port)]
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert self.process.stdout is not None
        if self.process.stdout.readline().strip() != "ready":
            self.process.kill()
            raise RuntimeError("the benchmark's SMTP server did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.process is not None
        output, _ = self.process.communicate(timeout=30)
        self.accepted = int(output.strip() or 0)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])
