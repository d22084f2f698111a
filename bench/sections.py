"""What docs/benchmarks.md says about each benchmark, read from the JSON document it wrote.

One Section per benchmark: its rows (figure, same-run baseline, ratio, goal, met), a line per
store run (version, size, time, load), and the notes the benchmark wrote beside its figures.
Goals are the ones the run recorded in its JSON, so a figure is always judged as it was run.
"""

from __future__ import annotations

from collections.abc import Callable

from bench.projection_section import projections
from bench.rows import (
    Doc,
    Row,
    Section,
    load_text,
    percentiles_text,
    plan_value,
    run_date,
    skipped_row,
    store_version,
)


def commands(doc: Doc) -> Section:
    goal = float(doc["goal_ratio"])
    rows: list[Row] = []
    runs = []
    for s in doc["stores"]:
        if "skipped" in s:
            rows.append(skipped_row(s))
            continue
        rows += [
            Row(
                s["store"],
                "commands/s through Lastmile",
                f"{s['lastmile_commands_per_s']:,.0f} cmd/s",
                f"raw eventsourcing saves: {s['raw_saves_per_s']:,.0f}/s",
                s["ratio"],
                f"ratio ≥ {goal:.2f}",
                s["met"],
                s["ratio"] / goal,
                goal,
            ),
            Row(
                s["store"],
                "reference: a command that always reloads",
                f"{s['lastmile_commands_per_s']:,.0f} cmd/s",
                f"raw get + save: {s['raw_get_save_per_s']:,.0f}/s",
                s["ratio_to_raw_get_save"],
            ),
        ]
        rounds, writes = plan_value(doc, "rounds"), plan_value(doc, "writes")
        runs.append(
            f"{store_version(s)}: {rounds} rounds of {writes} writes over "
            f"{plan_value(doc, 'aggregates')} aggregates; stored event bytes: Lastmile "
            f"{s['lastmile_event_bytes']}, raw {s['raw_event_bytes']}"
        )
    return Section("commands", "Commands", run_date(doc), rows, runs, list(doc.get("notes", [])))


def http(doc: Doc) -> Section:
    goals = doc["goals"]
    ratio_goal, p99_goal = float(goals["ratio_http_to_app"]), float(goals["read_p99_ms"])
    workers = doc["plan"]["commands"]["workers"]
    rows: list[Row] = []
    runs = []
    for s in doc["stores"]:
        if "skipped" in s:
            rows.append(skipped_row(s))
            continue
        c, r = s["commands"], s["reads"]
        rows += [
            Row(
                s["store"],
                f"POST progress over HTTP ({workers} clients)",
                f"{c['http_commands_per_s']:,.0f} cmd/s",
                f"report_progress in process: {c['app_commands_per_s']:,.0f} cmd/s",
                c["ratio"],
                f"ratio ≥ {ratio_goal:.2f}",
                c["met"],
                c["ratio"] / ratio_goal,
                ratio_goal,
            ),
            Row(s["store"], "HTTP command latency", percentiles_text(c["http_latency_ms"])),
            *_read_rows(s["store"], r, p99_goal),
        ]
        runs.append(_http_run(s))
    return Section("http", "HTTP API", run_date(doc), rows, runs, list(doc.get("notes", [])))


def _http_run(s: Doc) -> str:
    r, load, dead = s["reads"], s.get("load_average"), s["reads"].get("rm_findings_dead_rows")
    line = (
        f"{store_version(s)}: reads at {r['findings']:,} findings / {r['events']:,} events, "
        f"department {r['department']} with {r['department_findings']:,}; store run "
        f"{s['seconds']:.0f} s"
    )
    if load:
        line += f"; load average {load[0]:.1f} at its start, {load[1]:.1f} at its end"
    if dead is not None:
        line += f"; rm_findings dead rows when reads began: {dead:,}"
    return line


READS = {
    "list_evaluator": "GET /findings page 1 (50 rows), evaluator",
    "list_department": "GET /findings page 1 (50 rows), department user",
    "scorecard": "GET /reports/departments (JSON)",
}


def _read_rows(store: str, reads: Doc, p99_goal: float) -> list[Row]:
    rows = []
    for key, label in READS.items():
        latency = reads["latencies_ms"][key]
        rows.append(
            Row(
                store,
                label,
                percentiles_text(latency),
                goal=f"p99 < {p99_goal:.0f} ms",
                met=latency["met"],
                attainment=p99_goal / latency["p99"] if latency["p99"] else None,
            )
        )
    return rows


def worker(doc: Doc) -> Section:
    goal = float(doc["goals"]["scan_seconds"])
    rows: list[Row] = []
    runs = []
    for s in doc["stores"]:
        if "skipped" in s:
            rows.append(skipped_row(s))
            continue
        rows += _worker_rows(s, goal)
        seed = s["seed"]
        runs.append(
            f"{store_version(s)}: {seed['open_findings']:,} open findings, {seed['real']:,} due a "
            f"step; whole store run {s['seconds']:.0f} s{load_text(s)}"
        )
    return Section(
        "worker",
        "Worker: ladder scan and mail",
        run_date(doc),
        rows,
        runs,
        list(doc.get("notes", [])),
    )


def _worker_rows(s: Doc, goal: float) -> list[Row]:
    store, scan, mail = s["store"], s["scan"], s["mail"]
    steady, first = scan["steady_seconds"], scan["first_seconds"]
    return [
        Row(
            store,
            f"ladder scan, steady (median of {len(scan['steady_runs_seconds'])})",
            f"{steady:.3f} s over {scan['candidates']:,} candidates",
            f"plain SELECT of the open rows: {scan['plain_select_seconds']:.3f} s "
            f"({scan['plain_select_rows']:,} rows)",
            1 / scan["ratio_steady_to_select"],  # as a rate: the SELECT's time / the scan's
            f"< {goal:g} s",
            scan["steady_met"],
            goal / steady if steady else None,
        ),
        Row(
            store,
            f"ladder scan, first: climbs {scan['first_due']:,} due findings",
            f"{first:.2f} s ({scan['first_events']:,} events recorded)",
            goal=f"< {goal:g} s",
            met=scan["first_met"],
            attainment=goal / first if first else None,
        ),
        Row(
            store,
            f"mail: MailSender.send_due ({mail['messages']:,} messages)",
            f"{mail['sender_messages_per_s']:,.0f} msg/s",
            f"raw aiosmtplib sends: {mail['raw_messages_per_s']:,.0f} msg/s",
            mail["ratio"],
        ),
        Row(
            store,
            "mail: MailSender without its relevance check",
            f"{mail['unchecked_messages_per_s']:,.0f} msg/s",
            f"raw aiosmtplib sends: {mail['raw_messages_per_s']:,.0f} msg/s",
            mail["unchecked_messages_per_s"] / mail["raw_messages_per_s"],
        ),
    ]


SECTIONS: dict[str, Callable[[Doc], Section]] = {
    "commands": commands,
    "projections": projections,
    "scale": projections,
    "http": http,
    "worker": worker,
}
