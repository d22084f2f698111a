"""The benchmark's report: a table on stdout and a JSON file with the machine's facts."""

from __future__ import annotations

import json
import os
import platform
import sqlite3
from dataclasses import asdict
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

from bench.commands import GOAL, Measured, Outcome, Plan, Skipped

HEADER = (
    "store",
    "lastmile cmd/s",
    "raw saves/s",
    "ratio",
    "goal",
    "met",
    "raw get+save/s",
    "vs get+save",
)


def machine_facts() -> dict[str, Any]:
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpu_count": os.cpu_count(),
        "cpu_model": _proc_field("/proc/cpuinfo", "model name"),
        "memory_gib": _memory_gib(),
        "os": _os_name(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "platform": platform.platform(),
        "sqlite": sqlite3.sqlite_version,
        "eventsourcing": version("eventsourcing"),
        "eventsourcing_sqlalchemy": version("eventsourcing-sqlalchemy"),
        "sqlalchemy": version("sqlalchemy"),
    }


def _proc_field(path: str, name: str) -> str | None:
    """The first `name: value` line of a /proc file (Linux); None elsewhere."""
    try:
        lines = Path(path).read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        key, _, value = line.partition(":")
        if key.strip() == name:
            return value.strip()
    return None


def _memory_gib() -> float | None:
    total = _proc_field("/proc/meminfo", "MemTotal")  # "24683520 kB"
    return round(int(total.split()[0]) / 1024**2, 1) if total else None


def _os_name() -> str:
    try:
        return platform.freedesktop_os_release()["PRETTY_NAME"]
    except (OSError, KeyError):
        return f"{platform.system()} {platform.release()}"


def table(outcomes: list[Outcome]) -> str:
    rows = [HEADER, *(_row(outcome) for outcome in outcomes)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADER))]
    return "\n".join(
        "  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True))
        for row in rows
    )


def notes(outcomes: list[Outcome]) -> list[str]:
    """What the columns mean, event sizes per measured store, and why a store was skipped."""
    lines = [
        "ratio = lastmile / raw saves (the goal); vs get+save = lastmile / raw "
        "repository.get + save, the rate of a command that always reloads"
    ]
    for outcome in outcomes:
        if isinstance(outcome, Skipped):
            lines.append(f"{outcome.store}: skipped: {outcome.reason}")
        else:
            lines.append(
                f"{outcome.store} {outcome.version}: stored event bytes: "
                f"lastmile {outcome.lastmile_event_bytes}, raw {outcome.raw_event_bytes}"
            )
    return lines


def document(outcomes: list[Outcome], plan: Plan) -> dict[str, Any]:
    return {
        "benchmark": "commands",
        "goal_ratio": GOAL,
        "notes": notes(outcomes)[:1],
        "machine": machine_facts(),
        "plan": asdict(plan),
        "stores": [_entry(outcome) for outcome in outcomes],
    }


def write_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def _row(outcome: Outcome) -> tuple[str, ...]:
    if isinstance(outcome, Skipped):
        return (outcome.store, "-", "-", "-", f"≥{GOAL:.2f}", "skipped", "-", "-")
    return (
        outcome.store,
        f"{outcome.lastmile.median:,.0f}",
        f"{outcome.raw.median:,.0f}",
        f"{outcome.ratio:.2f}",
        f"≥{GOAL:.2f}",
        "yes" if outcome.met else "no",
        f"{outcome.raw_get_save.median:,.0f}",
        f"{outcome.ratio_to_get_save:.2f}",
    )


def _entry(outcome: Outcome) -> dict[str, Any]:
    if isinstance(outcome, Skipped):
        return {"store": outcome.store, "skipped": outcome.reason}
    return _measured_entry(outcome)


def _measured_entry(outcome: Measured) -> dict[str, Any]:
    return {
        "store": outcome.store,
        "server_version": outcome.version,
        "lastmile_commands_per_s": round(outcome.lastmile.median, 1),
        "raw_saves_per_s": round(outcome.raw.median, 1),
        "ratio": round(outcome.ratio, 3),
        "met": outcome.met,
        "raw_get_save_per_s": round(outcome.raw_get_save.median, 1),
        "ratio_to_raw_get_save": round(outcome.ratio_to_get_save, 3),
        "lastmile_per_round": [round(r, 1) for r in outcome.lastmile.per_round],
        "raw_per_round": [round(r, 1) for r in outcome.raw.per_round],
        "raw_get_save_per_round": [round(r, 1) for r in outcome.raw_get_save.per_round],
        "lastmile_event_bytes": outcome.lastmile_event_bytes,
        "raw_event_bytes": outcome.raw_event_bytes,
    }
