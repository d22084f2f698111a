"""`python -m bench.verify LABEL`: verify_log over the whole log in a process of its own.

The child bootstraps from LASTMILE_* variables (as bench.rebuild does), times
`Lastmile.verify()` (adapters.integrity.verify_log: every event read, its link's digest
recomputed and compared), notes its resident-memory high-water mark, then times the baseline:
the same keyset-paginated reads of the events table and the chain table, in batches of the
same size, with no hashing and no checks. The last line on stdout is JSON.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, Table, select

from adapters.bootstrap import bootstrap
from adapters.integrity import BATCH
from adapters.settings import Settings
from bench.rebuild import peak_kb
from bench.rss import run_in_child


@dataclass(frozen=True)
class VerifyRun:
    """One verification of the whole log, and the plain read of the same rows."""

    events: int
    seconds: float
    ok: bool
    problems: int
    peak_mb: float  # the child's high-water mark when verification ended
    read_rows: int  # events and chain rows the baseline read
    read_seconds: float

    @property
    def events_per_s(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0

    @property
    def read_events_per_s(self) -> float:
        """The baseline's rate in events of the log (each has one event row and one link)."""
        return self.events / self.read_seconds if self.read_seconds else 0.0

    @property
    def ratio(self) -> float:
        """Verified events/s over plainly read events/s."""
        return self.events_per_s / self.read_events_per_s if self.read_events_per_s else 0.0


def verify_in_child(settings: Settings, label: str) -> VerifyRun:
    report, _ = run_in_child("bench.verify", settings, label)
    return VerifyRun(
        events=int(report["events"]),
        seconds=float(report["seconds"]),
        ok=bool(report["ok"]),
        problems=int(report["problems"]),
        peak_mb=int(report["peak_kb"]) / 1024,
        read_rows=int(report["read_rows"]),
        read_seconds=float(report["read_seconds"]),
    )


def verify(label: str) -> dict[str, Any]:
    """Bootstrap from the environment, verify the log, then read it plainly; the figures."""
    system = bootstrap(Settings(_env_file=None))  # type: ignore[call-arg]
    try:
        started = time.perf_counter()
        report = system.verify(lambda n: _progress(label, n))
        seconds = time.perf_counter() - started
        peak = peak_kb()
        recorder = system.recorder
        engine = recorder.datastore.engine
        assert isinstance(engine, Engine)
        started = time.perf_counter()
        rows = sum(1 for _ in plain_rows(engine, recorder.events_record_cls.__table__, "id"))
        rows += sum(1 for _ in plain_rows(engine, recorder.chain, "notification_id"))
        read_seconds = time.perf_counter() - started
    finally:
        system.close()
    return {
        "events": report.events_checked,
        "seconds": seconds,
        "ok": report.ok,
        "problems": len(report.problems),
        "peak_kb": peak,
        "read_rows": rows,
        "read_seconds": read_seconds,
    }


def plain_rows(engine: Engine, table: Table, key: str) -> Iterator[Any]:
    """Every row of the table by keyset pagination, BATCH rows a query, as verify_log reads."""
    column = table.c[key]
    last: int | None = None
    while True:
        query = select(table).order_by(column).limit(BATCH)
        if last is not None:
            query = query.where(column > last)
        with engine.connect() as connection:
            batch = connection.execute(query).all()
        if not batch:
            return
        yield from batch
        last = getattr(batch[-1], key)


def _progress(label: str, checked: int) -> None:
    if checked % (BATCH * 100) == 0:
        print(f"[{label}] verified {checked:,} events", file=sys.stderr, flush=True)


def main() -> None:
    label = sys.argv[1] if len(sys.argv) > 1 else "verify"
    print(json.dumps(verify(label)), flush=True)


if __name__ == "__main__":
    main()
