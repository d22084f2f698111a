"""The projection benchmark's section of docs/benchmarks.md: at 100,000 findings or at scale."""

from __future__ import annotations

from bench.rows import (
    NONE,
    Doc,
    Row,
    Section,
    load_text,
    peak_text,
    run_date,
    skipped_row,
    store_version,
)


def projections(doc: Doc) -> Section:
    goals = doc["goals"]
    rows: list[Row] = []
    runs = []
    for s in doc["stores"]:
        if "skipped" in s:
            rows.append(skipped_row(s))
            continue
        rows += _projection_rows(s, goals)
        h = s["history"]
        runs.append(
            f"{store_version(s)}: {h['findings']:,} findings, {h['events']:,} events, written in "
            f"{h['registry_seconds'] + h['findings_seconds']:.0f} s; whole store run "
            f"{s['seconds']:.0f} s{load_text(s)}"
        )
    notes = list(doc.get("notes", []))
    if doc["benchmark"] == "scale":
        title = "Read models at about 1,000,000 events (`make bench-full`)"
    else:
        title = "Read models: rebuild, memory, reports, integrity"
    return Section(doc["benchmark"], title, run_date(doc), rows, runs, notes)


def _projection_rows(s: Doc, goals: Doc) -> list[Row]:
    store, r, b = s["store"], s["rebuild"], s["baseline"]
    peak_goal, flat_goal = float(goals["peak_rss_mb"]), float(goals["rss_growth_second_half"])
    halves = r.get("peak_rss_halves_mb")
    growth = halves[1] / halves[0] if halves else None
    rows = [
        Row(
            store,
            "(a) rebuild from position 0",
            f"{r['events_per_s']:,.0f} events/s ({r['events']:,} events in {r['seconds']:.0f} s)",
            f"bulk insert of its rows: {b['events_per_s']:,.0f} events/s ({b['seconds']:.0f} s)",
            s["ratio"],
        ),
        Row(
            store,
            "(b) peak RSS during rebuild",
            peak_text(r),
            goal=f"< {peak_goal:.0f} MB",
            met=r["under_goal"],
            attainment=peak_goal / r["peak_rss_mb"],
        ),
        Row(
            store,
            "(b) RSS, 2nd half / 1st half of rebuild",
            NONE if growth is None else f"{growth:.2f}×",
            goal=f"≤ {flat_goal}×",
            met=r["flat"],
            attainment=None if growth is None else flat_goal / growth,
        ),
    ]
    rows += _latency_rows(store, s["latencies"], float(goals["latency_ms_p95"]))
    if "integrity" in s:
        rows.append(_integrity_row(store, s["integrity"]))
    return rows


LATENCIES = {
    "scorecard": ("(c) department scorecard, latest", True),
    "ledger_page_1": ("(c) ledger page 1 (50 rows), latest", True),
    "scorecard_as_of": ("(d) scorecard as of mid-history", False),
    "ledger_page_1_as_of": ("(d) ledger page 1 as of mid-history", False),
}


def _latency_rows(store: str, latencies: Doc, goal_ms: float) -> list[Row]:
    rows = []
    for key, (label, has_goal) in LATENCIES.items():
        latency = latencies[key]
        figure = f"p95 {latency['p95_ms']:,.1f} ms (median {latency['median_ms']:,.1f} ms)"
        if has_goal:
            attainment = goal_ms / latency["p95_ms"] if latency["p95_ms"] else None
            goal = f"p95 < {goal_ms:.0f} ms"
            rows.append(
                Row(store, label, figure, goal=goal, met=latency["met"], attainment=attainment)
            )
        else:
            rows.append(
                Row(store, label, figure, goal=f"none set ({goal_ms:.0f} ms for comparison)")
            )
    return rows


def _integrity_row(store: str, v: Doc) -> Row:
    intact = "log intact" if v["ok"] else f"{v['problems']:,} problems found"
    return Row(
        store,
        "(e) integrity: verify_log over the whole log",
        f"{v['events_per_s']:,.0f} events/s ({v['events']:,} events in {v['seconds']:.1f} s; "
        f"{intact}; peak RSS {v['peak_rss_mb']:.0f} MB)",
        f"plain read of events + chain: {v['plain_read_events_per_s']:,.0f} events/s "
        f"({v['plain_read_seconds']:.1f} s)",
        v["ratio"],
        "log intact; rate stated, no goal",
        v["ok"],
    )
