"""Benchmark outcomes made up by hand, turned into JSON by the benchmarks' own document()."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from adapters.worker.scan import ScanReport
from bench import http_report, projection_report, report, worker_report
from bench.bulk import Baseline
from bench.commands import Measured, Plan, Skipped
from bench.history import Generated
from bench.http import HttpMeasured, HttpPlan
from bench.http_commands import CommandsMeasured
from bench.http_reads import ReadsMeasured
from bench.latency import Latency
from bench.loadgen import Percentiles
from bench.projections import ProjectionMeasured, ProjectionPlan
from bench.rss import RebuildRun, Sample
from bench.timing import Rates
from bench.verify import VerifyRun
from bench.worker import ScanRun, WorkerMeasured, WorkerPlan
from bench.worker_mail import MailRun
from bench.worker_seed import Seeded

MOMENT = datetime(2025, 11, 12, 2, tzinfo=UTC)
POSTGRES = "15.20 (Debian 15.20-0+deb12u1)"


def commands() -> dict[str, Any]:
    measured = Measured(
        store="sqlite",
        version="3.40.1",
        lastmile=Rates((1_200.0, 1_234.0, 1_250.0)),
        raw=Rates((1_500.0, 1_500.0, 1_510.0)),
        raw_get_save=Rates((900.0, 910.0, 920.0)),
        lastmile_event_bytes=412,
        raw_event_bytes=410,
    )
    skipped = Skipped("postgresql", "PostgreSQL at postgresql://x@127.0.0.1/postgres is unusable")
    return report.document([measured, skipped], Plan())


def projections(*, peak_mb: float = 180.0, benchmark: str = "projections") -> dict[str, Any]:
    events = 64_000
    generated = Generated(
        findings=10_000,
        events=events,
        departments=20,
        evaluations=200,
        registry_seconds=1.5,
        findings_seconds=30.5,
        first_at=datetime(2024, 1, 5, tzinfo=UTC),
        last_at=datetime(2025, 12, 31, tzinfo=UTC),
        statuses={"closed": 9_000, "issued": 1_000},
        event_types={"Issued": 10_000},
    )
    samples = tuple(Sample(t / 5, 100.0 + t, 80.0 + t, 20.0) for t in range(50))
    rebuild = RebuildRun(events, events, 10.0, peak_mb, 90.0, samples)
    integrity = VerifyRun(events, 1.6, True, 0, 95.0, 2 * events, 0.5)
    latencies = {
        "moment": Latency((0.2, 0.3, 0.2)),
        "scorecard": Latency((12.0, 14.0, 13.0, 15.0)),
        "ledger_page_1": Latency((4.0, 4.5, 5.0, 4.2)),
        "scorecard_as_of": Latency((250.0, 260.0, 255.0)),
        "ledger_page_1_as_of": Latency((8.0, 9.0, 8.5)),
    }
    measured = ProjectionMeasured(
        store="postgresql",
        version=POSTGRES,
        generated=generated,
        rebuild=rebuild,
        integrity=integrity,
        baseline=Baseline({"rm_findings": 10_000}, 64, 4.0),
        latencies=latencies,
        as_of=generated.middle,
        seconds=75.0,
        database={"autovacuum": "off"},
        load=(0.5, 1.5),
    )
    return projection_report.document([measured], ProjectionPlan(10_000), benchmark)


def http() -> dict[str, Any]:
    commands = CommandsMeasured(
        http=Rates((400.0, 420.0)),
        app=Rates((700.0, 700.0)),
        latency=Percentiles(30.0, 60.0, 80.0, 2_000),
        unexpected={},
    )
    reads = ReadsMeasured(
        findings=10_000,
        events=64_000,
        write_seconds=32.0,
        catch_up_seconds=0.0,
        department="SLJ",
        department_findings=500,
        dead_rows=None,
        latencies={
            "list_evaluator": Percentiles(8.0, 10.0, 12.0, 100),
            "list_department": Percentiles(6.0, 7.0, 9.0, 100),
            "scorecard": Percentiles(40.0, 55.0, 61.5, 100),
        },
    )
    measured = HttpMeasured("sqlite", "3.40.1", commands, reads, 120.0, (0.4, 1.2))
    return http_report.document([measured], HttpPlan())


def worker() -> dict[str, Any]:
    first = ScanReport(MOMENT, candidates=3_000, due=1_000, changed=990, events=1_500, seconds=2.5)
    steady = ScanReport(MOMENT, candidates=3_000, due=0, changed=0, events=0, seconds=0.25)
    scan = ScanRun(first, (steady, steady, steady), (0.2, 0.2, 0.2), (0.05, 0.05, 0.05), 100_000)
    mail = MailRun(
        messages=1_000,
        derived=800,
        mean_bytes=2_100,
        templates={"reminder_due": 800},
        reminders=800,
        sender=(300.0, 310.0),
        unchecked=(400.0, 410.0),
        raw=(1_000.0, 1_000.0),
        send_due_calls=3,
        accepted=4_000,
    )
    seeded = Seeded(100_000, 1_000, {"quiet": 99_000}, 8_000, 20.0)
    measured = WorkerMeasured(
        "postgresql", POSTGRES, seeded, scan, mail, {"jit": "on"}, 60.0, (0.3, 0.9)
    )
    return worker_report.document([measured], WorkerPlan())
