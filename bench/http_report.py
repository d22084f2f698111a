"""The HTTP benchmark's report: a table per store on stdout and a JSON document."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from bench.commands import Skipped
from bench.http import HttpMeasured, HttpOutcome, HttpPlan
from bench.http_commands import RATIO_GOAL, CommandsMeasured
from bench.http_reads import P99_GOAL_MS, ReadsMeasured
from bench.loadgen import Percentiles
from bench.report import machine_facts

HEADER = ("measure", "figure", "goal", "met")
READS = {
    "list_evaluator": "GET /findings page 1 (50), evaluator",
    "list_department": "GET /findings page 1 (50), department",
    "scorecard": "GET /reports/departments (json)",
}
NOTES = [
    "HTTP: `lastmile serve` (uvicorn, one API process, its read-model runner in a child "
    "process) on a fresh store; "
    "concurrent keep-alive http.client connections in this process POST "
    "/api/v1/findings/{id}/progress as a department user, round-robin over acknowledged "
    "findings. app: LastmileApplication.report_progress in this process, one thread, on a "
    "second fresh store of the same kind (bench.workloads). Rounds alternate, order flipped "
    "each round; ratio = median HTTP cmd/s / median app cmd/s. Latency percentiles pool every "
    "timed HTTP request. Between rounds the server's read models catch up, untimed; how long "
    "that took after each round is reported.",
    "Reads: a seeded history (bench.history), read models brought current by the server's "
    "own runner, then each path requested one at a time over a keep-alive connection after "
    "a warm-up; met is judged on p99.",
]


def tables(outcomes: list[HttpOutcome], plan: HttpPlan) -> str:
    return "\n\n".join(_store_table(outcome, plan) for outcome in outcomes)


def _store_table(outcome: HttpOutcome, plan: HttpPlan) -> str:
    if isinstance(outcome, Skipped):
        return f"{outcome.store}: skipped: {outcome.reason}"
    r = outcome.reads
    title = (
        f"{outcome.store} {outcome.version}: HTTP {plan.commands.workers} clients × "
        f"{plan.commands.rounds} rounds of {plan.commands.requests} commands; reads at "
        f"{r.findings:,} findings / {r.events:,} events (store run {outcome.seconds:.0f} s; "
        f"load average {outcome.load[0]:.1f} at its start, {outcome.load[1]:.1f} at its end "
        f"on {os.cpu_count()} CPUs)"
    )
    rows = [HEADER, *_command_rows(outcome.commands, plan), *_read_rows(r)]
    dead = (
        "" if r.dead_rows is None else f"\nrm_findings dead rows when reads began: {r.dead_rows:,}"
    )
    return f"{title}\n{_grid(rows)}{dead}"


def _command_rows(c: CommandsMeasured, plan: HttpPlan) -> list[tuple[str, str, str, str]]:
    workers = plan.commands.workers
    unexpected = ", ".join(f"{n}× {status}" for status, n in sorted(c.unexpected.items()))
    rows = [
        (f"POST progress over HTTP ({workers} clients)", f"{c.http.median:,.0f} cmd/s", "-", "-"),
        ("report_progress in process (1 thread)", f"{c.app.median:,.0f} cmd/s", "-", "-"),
        ("ratio HTTP / application", f"{c.ratio:.2f}", f"≥ {RATIO_GOAL:.2f}", _yes(c.met)),
        ("HTTP command latency", _percentiles(c.latency), "-", "-"),
    ]
    if c.catch_up_seconds:
        catch_up = f"max {max(c.catch_up_seconds):.2f} s"
        rows.append(("read models caught up after each round (untimed)", catch_up, "-", "-"))
    if unexpected:
        rows.append(("answers other than 200", unexpected, "none", "no"))
    return rows


def _read_rows(r: ReadsMeasured) -> list[tuple[str, str, str, str]]:
    rows = []
    for key, label in READS.items():
        if key == "list_department":
            label += f" {r.department} ({r.department_findings:,} findings)"
        latency = r.latencies[key]
        met = _yes(latency.p99 < P99_GOAL_MS)
        rows.append((label, _percentiles(latency), f"p99 < {P99_GOAL_MS:.0f} ms", met))
    return rows


def _percentiles(p: Percentiles) -> str:
    return f"p50 {p.p50:.1f} / p95 {p.p95:.1f} / p99 {p.p99:.1f} ms"


def _yes(value: bool) -> str:
    return "yes" if value else "no"


def _grid(rows: Sequence[tuple[str, ...]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


def document(outcomes: list[HttpOutcome], plan: HttpPlan) -> dict[str, Any]:
    return {
        "benchmark": "http",
        "goals": {"ratio_http_to_app": RATIO_GOAL, "read_p99_ms": P99_GOAL_MS},
        "notes": NOTES,
        "machine": machine_facts(),
        "code": code_state(),
        "plan": asdict(plan),
        "stores": [_entry(outcome) for outcome in outcomes],
    }


def code_state() -> dict[str, Any]:
    """The commit measured, and whether the working tree had changes on top of it."""
    try:
        commit = _git("rev-parse", "HEAD")
        changed = _git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.CalledProcessError):
        return {"commit": None, "changes": None}
    return {"commit": commit, "changes": changed.splitlines()}


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], capture_output=True, text=True, check=True).stdout.strip()


def _entry(outcome: HttpOutcome) -> dict[str, Any]:
    if isinstance(outcome, Skipped):
        return {"store": outcome.store, "skipped": outcome.reason}
    return {
        "store": outcome.store,
        "server_version": outcome.version,
        "seconds": round(outcome.seconds, 1),
        "load_average": list(outcome.load),
        "commands": _commands(outcome),
        "reads": _reads(outcome),
    }


def _commands(m: HttpMeasured) -> dict[str, Any]:
    c = m.commands
    return {
        "http_commands_per_s": round(c.http.median, 1),
        "app_commands_per_s": round(c.app.median, 1),
        "ratio": round(c.ratio, 3),
        "met": c.met,
        "http_per_round": [round(x, 1) for x in c.http.per_round],
        "app_per_round": [round(x, 1) for x in c.app.per_round],
        "http_latency_ms": _latency(c.latency, None),
        "unexpected_statuses": {str(k): v for k, v in c.unexpected.items()},
        "read_models_caught_up_after_round_seconds": [round(x, 2) for x in c.catch_up_seconds],
    }


def _reads(m: HttpMeasured) -> dict[str, Any]:
    r = m.reads
    return {
        "findings": r.findings,
        "events": r.events,
        "history_written_seconds": round(r.write_seconds, 1),
        "read_models_caught_up_seconds": round(r.catch_up_seconds, 1),
        "department": r.department,
        "department_findings": r.department_findings,
        "rm_findings_dead_rows": r.dead_rows,
        "met": r.met,
        "latencies_ms": {k: _latency(v, P99_GOAL_MS) for k, v in r.latencies.items()},
    }


def _latency(p: Percentiles, p99_goal: float | None) -> dict[str, Any]:
    figures: dict[str, Any] = {
        "p50": round(p.p50, 2),
        "p95": round(p.p95, 2),
        "p99": round(p.p99, 2),
        "requests": p.count,
    }
    if p99_goal is not None:
        figures["met"] = p.p99 < p99_goal
    return figures
