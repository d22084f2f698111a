"""The worker benchmark's report: a table per store on stdout and a JSON document."""

from __future__ import annotations

import os
from dataclasses import asdict
from typing import Any

from bench.commands import Skipped
from bench.projection_report import _grid, _yes
from bench.report import machine_facts
from bench.worker import SCAN_GOAL_S, WorkerMeasured, WorkerOutcome, WorkerPlan
from bench.worker_mail import MailRun

HEADER = ("measure", "figure", "goal", "met")
NOTES = [
    "scan: the read model holds N open findings: 1 % real findings (issued, most "
    "acknowledged) with a ladder step due at the scan's moment, the rest rows bulk-inserted "
    "with nothing due (deadline more than a week away, just issued, with the evaluator, or "
    "overdue with every step so far recorded); the overdue and long-waiting ones pass the "
    "scan's SQL pre-filter and are judged in Python. First = the scan that climbs the due "
    "findings (scan() as the worker runs it, catch-up included); steady = the median of "
    "scans at the same moment once those steps are recorded, as a worker scanning every 15 "
    "minutes finds most of the day; CPU = time.process_time() of the benchmark's process "
    "(the database server's CPU not included: on a shared or busy machine the wall figure "
    "rises with the load average shown, the CPU figure much less). Baseline: SELECT of the "
    "scan's columns for every open row through the driver, no conversion, alternating with "
    "the steady scans.",
    "mail: the first scan's reminder and escalation mail (outbox rows derived by "
    "MailDeriver.rows_for, copied to the count), sent to aiosmtpd on loopback in its own "
    "process, answering 250. MailSender as the worker sets it up, send_due() called until "
    "every row is sent; it claims and commits each row `sent` on its own, 2 commits per "
    "message, by the exactly-once design. Raw: the same messages, built beforehand, sent "
    "with aiosmtplib's SMTP.send_message on one connection, no database. Median of rounds "
    "that take turns going first.",
]


def tables(outcomes: list[WorkerOutcome]) -> str:
    return "\n\n".join(_store_table(outcome) for outcome in outcomes)


def _store_table(outcome: WorkerOutcome) -> str:
    if isinstance(outcome, Skipped):
        return f"{outcome.store}: skipped: {outcome.reason}"
    s = outcome.seeded
    title = (
        f"{outcome.store} {outcome.version}: {s.open_findings:,} open findings, {s.real:,} due "
        f"a step (seeded in {s.seconds:.0f} s; whole store run {outcome.seconds:.0f} s; load "
        f"average {outcome.load[0]:.1f} at its start, {outcome.load[1]:.1f} at its end on "
        f"{os.cpu_count()} CPUs)"
    )
    facts = ", ".join(f"{k}={v}" for k, v in outcome.database.items())
    return f"{title}\n{_grid([HEADER, *_rows(outcome)])}\n{outcome.store} settings: {facts}"


def _rows(m: WorkerMeasured) -> list[tuple[str, str, str, str]]:
    run, first, mail = m.scan, m.scan.first, m.mail
    goal = f"< {SCAN_GOAL_S:.0f} s"
    steady = run.steady[0]
    return [
        (
            f"scan, steady (median of {len(run.steady)})",
            f"{run.steady_median:.3f} s ({run.steady_cpu_median:.3f} s CPU in this process), "
            f"{steady.candidates:,} candidates read",
            goal,
            _yes(run.steady_median < SCAN_GOAL_S),
        ),
        (
            "scan, first: climbs the due findings",
            f"{first.seconds:.2f} s, {first.candidates:,} candidates, {first.due:,} due, "
            f"{first.events:,} events",
            goal,
            _yes(first.seconds < SCAN_GOAL_S),
        ),
        ("    climbing in the first scan", f"{run.climb_rate:,.0f} findings/s", "-", "-"),
        (
            "plain SELECT, scan's columns, open rows",
            f"{run.select_median:.3f} s, {run.open_rows:,} rows",
            "-",
            "-",
        ),
        ("    ratio steady scan / plain SELECT", f"{run.ratio:.2f}", "-", "-"),
        _mail_row("mail: MailSender.send_due", mail.sender_median, mail, calls=True),
        ("    raw SMTP.send_message", f"{mail.raw_median:,.0f} msg/s", "-", "-"),
        ("    ratio MailSender / raw", f"{mail.ratio:.2f}", "-", "-"),
        _mail_row("    MailSender, no relevance check", mail.unchecked_median, mail),
    ]


def _mail_row(
    label: str, rate: float, mail: MailRun, *, calls: bool = False
) -> tuple[str, str, str, str]:
    figure = f"{rate:,.0f} msg/s"
    if calls:
        figure += (
            f" ({mail.messages} messages of {mail.mean_bytes:,} bytes, {mail.reminders} "
            f"reminders; {mail.send_due_calls} send_due calls)"
        )
    else:
        figure += f" (ratio to raw {rate / mail.raw_median:.2f})"
    return (label, figure, "-", "-")


def document(outcomes: list[WorkerOutcome], plan: WorkerPlan) -> dict[str, Any]:
    return {
        "benchmark": "worker",
        "goals": {"scan_seconds": SCAN_GOAL_S},
        "notes": NOTES,
        "machine": machine_facts(),
        "plan": asdict(plan),
        "stores": [_entry(outcome) for outcome in outcomes],
    }


def _entry(outcome: WorkerOutcome) -> dict[str, Any]:
    if isinstance(outcome, Skipped):
        return {"store": outcome.store, "skipped": outcome.reason}
    run, first, mail = outcome.scan, outcome.scan.first, outcome.mail
    return {
        "store": outcome.store,
        "server_version": outcome.version,
        "seconds": round(outcome.seconds, 1),
        "database": outcome.database,
        "load_average_1min": {"start": outcome.load[0], "end": outcome.load[1]},
        "seed": asdict(outcome.seeded),
        "scan": {
            "moment": first.moment.isoformat(),
            "steady_seconds": round(run.steady_median, 4),
            "steady_runs_seconds": [round(r.seconds, 4) for r in run.steady],
            "steady_cpu_seconds": round(run.steady_cpu_median, 4),
            "steady_runs_cpu_seconds": [round(x, 4) for x in run.steady_cpu],
            "steady_met": run.steady_median < SCAN_GOAL_S,
            "candidates": run.steady[0].candidates,
            "first_seconds": round(first.seconds, 3),
            "first_met": first.seconds < SCAN_GOAL_S,
            "first_candidates": first.candidates,
            "first_due": first.due,
            "first_changed": first.changed,
            "first_events": first.events,
            "climb_findings_per_s": round(run.climb_rate, 1),
            "plain_select_seconds": round(run.select_median, 4),
            "plain_select_runs_seconds": [round(x, 4) for x in run.select_seconds],
            "plain_select_rows": run.open_rows,
            "ratio_steady_to_select": round(run.ratio, 3),
        },
        "mail": {
            "messages": mail.messages,
            "derived": mail.derived,
            "mean_bytes": mail.mean_bytes,
            "templates": mail.templates,
            "reminders": mail.reminders,
            "send_due_calls": mail.send_due_calls,
            "sender_messages_per_s": round(mail.sender_median, 1),
            "unchecked_messages_per_s": round(mail.unchecked_median, 1),
            "raw_messages_per_s": round(mail.raw_median, 1),
            "ratio": round(mail.ratio, 3),
            "sender_per_round": [round(x, 1) for x in mail.sender],
            "unchecked_per_round": [round(x, 1) for x in mail.unchecked],
            "raw_per_round": [round(x, 1) for x in mail.raw],
            "server_accepted": mail.accepted,
        },
    }
