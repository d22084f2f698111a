"""`make bench`: Lastmile's commands/s on each store, as a ratio to raw eventsourcing saves."""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from bench.commands import STORES, Plan, measure_all
from bench.report import document, notes, table, write_json

DEFAULT_OUTPUT = Path(os.environ.get("LASTMILE_BENCH_OUTPUT", "var/bench/commands.json"))


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    defaults = Plan()
    parser.add_argument("--aggregates", type=int, default=defaults.aggregates)
    parser.add_argument("--writes", type=int, default=defaults.writes, help="per round")
    parser.add_argument("--rounds", type=int, default=defaults.rounds)
    parser.add_argument("--store", choices=list(STORES), action="append", dest="stores")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    return parser.parse_args()


def main() -> None:
    args = arguments()
    plan = Plan(args.aggregates, args.writes, args.rounds)
    started = time.perf_counter()
    outcomes = measure_all(plan, args.stores or list(STORES))
    print(table(outcomes))
    for line in notes(outcomes):
        print(line)
    write_json(args.output, document(outcomes, plan))
    print(f"{args.output} written in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
