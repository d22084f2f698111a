"""`make bench`: Lastmile's benchmarks on each store, SQLite and PostgreSQL.

commands: commands/s as a ratio to raw eventsourcing saves (bench.commands).
projections: a seeded history of findings; rebuild events/s against a bulk-insert baseline,
rebuild memory, scorecard/ledger latencies, latest and as of the past, and verify_log over the
whole log against a plain read of it (bench.projections).
http: commands/s and latency over HTTP as a ratio to the application's rate, and list and
scorecard latency over HTTP on a seeded history of --findings findings (bench.http); when
projections runs too, on the history it wrote (one history per store, not two).
worker: one ladder scan over --worker-findings open findings against a plain SELECT of them,
and mail delivered by MailSender as a ratio to raw aiosmtplib sends (bench.worker).
scale (opt-in: --full, or --only scale; `make bench-full`): the projections benchmark on a
history of about 1,000,000 events (--full-findings findings).
JSON goes to commands.json, projections.json, scale.json, http.json and worker.json in
LASTMILE_BENCH_OUTPUT (default var/bench); then docs/benchmarks.md and its charts are
written from the JSON found there (--report-only: only that).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from bench import (
    commands,
    http,
    http_report,
    markdown,
    projection_report,
    projections,
    worker,
    worker_report,
)
from bench.http_commands import CommandPlan
from bench.http_reads import ReadPlan
from bench.report import document, notes, table, write_json
from bench.worker_mail import MailPlan

BENCHMARKS = ("commands", "projections", "http", "worker")
OPT_IN = ("scale",)  # run by --full or --only scale
DEFAULT_OUTPUT = Path(os.environ.get("LASTMILE_BENCH_OUTPUT", "var/bench"))


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--only", choices=BENCHMARKS + OPT_IN, help="run one benchmark only")
    parser.add_argument("--full", action="store_true", help="add scale to the benchmarks run")
    parser.add_argument("--store", choices=list(commands.STORES), action="append", dest="stores")
    parser.add_argument("--output-dir", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument(
        "--markdown", type=Path, default=markdown.MARKDOWN, help="the report written at the end"
    )
    parser.add_argument(
        "--report-only", action="store_true", help="write the markdown from the JSON; run nothing"
    )
    plan, history = commands.Plan(), projections.ProjectionPlan()
    served, reads = CommandPlan(), ReadPlan()
    group = parser.add_argument_group("commands")
    group.add_argument("--aggregates", type=int, default=plan.aggregates)
    group.add_argument("--writes", type=int, default=plan.writes, help="per round")
    group.add_argument("--rounds", type=int, default=plan.rounds)
    group = parser.add_argument_group("projections")
    group.add_argument("--findings", type=int, default=history.findings, help="also http's")
    group.add_argument("--seed", type=int, default=history.seed)
    group.add_argument("--query-runs", type=int, default=history.query_runs)
    group = parser.add_argument_group("scale")
    group.add_argument(
        "--full-findings",
        type=int,
        default=projections.FULL_FINDINGS,
        help="the scale's history (about 1,000,000 events)",
    )
    group = parser.add_argument_group("http")
    group.add_argument("--http-findings", type=int, default=served.findings, help="to report on")
    group.add_argument("--requests", type=int, default=served.requests, help="per round")
    group.add_argument("--http-rounds", type=int, default=served.rounds)
    group.add_argument("--workers", type=int, default=served.workers, help="concurrent clients")
    group.add_argument("--read-runs", type=int, default=reads.runs, help="timed GETs per path")
    scanned, mailed = worker.WorkerPlan(), MailPlan()
    group = parser.add_argument_group("worker")
    group.add_argument("--worker-findings", type=int, default=scanned.findings, help="open")
    group.add_argument("--scan-runs", type=int, default=scanned.scan_runs, help="steady scans")
    group.add_argument("--mail-messages", type=int, default=mailed.messages)
    group.add_argument("--mail-rounds", type=int, default=mailed.rounds)
    return parser.parse_args()


def run_commands(args: argparse.Namespace, stores: list[str]) -> None:
    plan = commands.Plan(args.aggregates, args.writes, args.rounds)
    outcomes = commands.measure_all(plan, stores)
    print(table(outcomes))
    for line in notes(outcomes):
        print(line)
    _write(args.output_dir / "commands.json", document(outcomes, plan))


def run_projections(args: argparse.Namespace, stores: list[str]) -> None:
    plan = _projection_plan(args)
    _report_projections(args, projections.measure_all(plan, stores, say), plan)


def run_scale(args: argparse.Namespace, stores: list[str]) -> None:
    """The projections benchmark on the 1,000,000-event history; written to scale.json."""
    plan = projections.ProjectionPlan(args.full_findings, args.seed, args.query_runs)
    _report_projections(args, projections.measure_all(plan, stores, say), plan, "scale")


def run_http(args: argparse.Namespace, stores: list[str]) -> None:
    plan = _http_plan(args)
    _report_http(args, http.measure_all(plan, stores, say), plan)


def run_projections_and_http(args: argparse.Namespace, stores: list[str]) -> None:
    plan, history = _http_plan(args), _projection_plan(args)
    projected, served = http.measure_with_projections(plan, history, stores, say)
    _report_projections(args, projected, history)
    _report_http(args, served, plan)


def _projection_plan(args: argparse.Namespace) -> projections.ProjectionPlan:
    return projections.ProjectionPlan(args.findings, args.seed, args.query_runs)


def _http_plan(args: argparse.Namespace) -> http.HttpPlan:
    return http.HttpPlan(
        CommandPlan(args.http_findings, args.requests, args.http_rounds, args.workers),
        ReadPlan(args.findings, args.seed, args.read_runs),
    )


def _report_projections(
    args: argparse.Namespace,
    outcomes: list[projections.ProjectionOutcome],
    plan: projections.ProjectionPlan,
    benchmark: str = "projections",
) -> None:
    print(projection_report.tables(outcomes))
    for line in projection_report.NOTES:
        print(line)
    document = projection_report.document(outcomes, plan, benchmark)
    _write(args.output_dir / f"{benchmark}.json", document)


def _report_http(
    args: argparse.Namespace, outcomes: list[http.HttpOutcome], plan: http.HttpPlan
) -> None:
    print(http_report.tables(outcomes, plan))
    for line in http_report.NOTES:
        print(line)
    _write(args.output_dir / "http.json", http_report.document(outcomes, plan))


def run_worker(args: argparse.Namespace, stores: list[str]) -> None:
    mail = MailPlan(args.mail_messages, args.mail_rounds)
    plan = worker.WorkerPlan(args.worker_findings, scan_runs=args.scan_runs, mail=mail)
    outcomes = worker.measure_all(plan, stores, say)
    print(worker_report.tables(outcomes))
    for line in worker_report.NOTES:
        print(line)
    _write(args.output_dir / "worker.json", worker_report.document(outcomes, plan))


RUNS = {
    "commands": run_commands,
    "projections": run_projections,
    "http": run_http,
    "projections+http": run_projections_and_http,
    "worker": run_worker,
    "scale": run_scale,
}


def say(line: str) -> None:
    print(line, flush=True)


def main() -> None:
    args = arguments()
    stores = args.stores or list(commands.STORES)
    for name in [] if args.report_only else chosen_benchmarks(args):
        started = time.perf_counter()
        RUNS[name](args, stores)
        print(f"{name} benchmark: {time.perf_counter() - started:.0f} s\n", flush=True)
    for path in markdown.write(args.output_dir, args.markdown):
        print(f"{path} written")


def chosen_benchmarks(args: argparse.Namespace) -> list[str]:
    if args.only:
        return [args.only]
    # one history per store serves both projections and http
    chosen = [*(n for n in BENCHMARKS if n not in ("projections", "http")), "projections+http"]
    return [*chosen, *(OPT_IN if args.full else ())]


def _write(path: Path, data: dict[str, object]) -> None:
    write_json(path, data)
    print(f"{path} written")


if __name__ == "__main__":
    main()
