"""`make bench`: Lastmile's benchmarks on each store, SQLite and PostgreSQL.

commands: commands/s as a ratio to raw eventsourcing saves (bench.commands).
projections: a seeded history of findings; rebuild events/s against a bulk-insert baseline,
rebuild memory, and scorecard/ledger latencies, latest and as of the past (bench.projections).
JSON goes to commands.json and projections.json in LASTMILE_BENCH_OUTPUT (default var/bench).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from bench import commands, projection_report, projections
from bench.report import document, notes, table, write_json

BENCHMARKS = ("commands", "projections")
DEFAULT_OUTPUT = Path(os.environ.get("LASTMILE_BENCH_OUTPUT", "var/bench"))


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--only", choices=BENCHMARKS, help="run one benchmark, not both")
    parser.add_argument("--store", choices=list(commands.STORES), action="append", dest="stores")
    parser.add_argument("--output-dir", type=Path, default=DEFAULT_OUTPUT)
    plan, history = commands.Plan(), projections.ProjectionPlan()
    group = parser.add_argument_group("commands")
    group.add_argument("--aggregates", type=int, default=plan.aggregates)
    group.add_argument("--writes", type=int, default=plan.writes, help="per round")
    group.add_argument("--rounds", type=int, default=plan.rounds)
    group = parser.add_argument_group("projections")
    group.add_argument("--findings", type=int, default=history.findings)
    group.add_argument("--seed", type=int, default=history.seed)
    group.add_argument("--query-runs", type=int, default=history.query_runs)
    return parser.parse_args()


def run_commands(args: argparse.Namespace, stores: list[str]) -> None:
    plan = commands.Plan(args.aggregates, args.writes, args.rounds)
    outcomes = commands.measure_all(plan, stores)
    print(table(outcomes))
    for line in notes(outcomes):
        print(line)
    _write(args.output_dir / "commands.json", document(outcomes, plan))


def run_projections(args: argparse.Namespace, stores: list[str]) -> None:
    plan = projections.ProjectionPlan(args.findings, args.seed, args.query_runs)
    outcomes = projections.measure_all(plan, stores, say)
    print(projection_report.tables(outcomes))
    for line in projection_report.NOTES:
        print(line)
    _write(args.output_dir / "projections.json", projection_report.document(outcomes, plan))


def say(line: str) -> None:
    print(line, flush=True)


def main() -> None:
    args = arguments()
    stores = args.stores or list(commands.STORES)
    for name, run in (("commands", run_commands), ("projections", run_projections)):
        if args.only in (None, name):
            started = time.perf_counter()
            run(args, stores)
            print(f"{name} benchmark: {time.perf_counter() - started:.0f} s\n", flush=True)


def _write(path: Path, data: dict[str, object]) -> None:
    write_json(path, data)
    print(f"{path} written")


if __name__ == "__main__":
    main()
