"""Run the rebuild in a child process and sample its resident memory every 0.2 s.

Each sample splits VmRSS into RssAnon (the process's own heap) and RssFile (file pages mapped
into it, such as SQLite's memory-mapped database), which the kernel can drop when it needs to.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from adapters.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
INTERVAL = 0.2
PEAK_GOAL_MB = 300.0
FLAT_GOAL = 1.2  # peak in the second half at most this many times the first half's
FIELDS = ("VmRSS", "RssAnon", "RssFile")


@dataclass(frozen=True)
class Sample:
    """Resident memory at one moment, in MB: all of it, the heap's part, mapped files' part."""

    at: float
    rss_mb: float
    anon_mb: float
    file_mb: float


@dataclass(frozen=True)
class RebuildRun:
    """One full rebuild: its events and time, and its memory as sampled from outside."""

    events: int
    position: int
    seconds: float
    peak_mb: float  # the child's own high-water mark
    rss_at_start_mb: float | None
    samples: tuple[Sample, ...]  # seconds since the rebuild started, then MB

    @property
    def peak_anon_mb(self) -> float | None:
        return max((s.anon_mb for s in self.samples), default=None)

    @property
    def peak_file_mb(self) -> float | None:
        return max((s.file_mb for s in self.samples), default=None)

    @property
    def events_per_s(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0

    @property
    def halves(self) -> tuple[float, float] | None:
        """Peak MB in the first and second half of the rebuild; None with too few samples."""
        middle = self.seconds / 2
        first = [s.rss_mb for s in self.samples if s.at <= middle]
        second = [s.rss_mb for s in self.samples if s.at > middle]
        return (max(first), max(second)) if first and second else None

    @property
    def growth(self) -> float | None:
        halves = self.halves
        return halves[1] / halves[0] if halves else None

    @property
    def flat(self) -> bool | None:
        growth = self.growth
        return None if growth is None else growth <= FLAT_GOAL

    @property
    def under_goal(self) -> bool:
        return self.peak_mb < PEAK_GOAL_MB


def child_env(settings: Settings) -> dict[str, str]:
    """The child's LASTMILE_* settings: the same store, batch size and policy as ours."""
    env = {
        **os.environ,
        "LASTMILE_DATA_DIR": str(settings.data_dir.resolve()),
        "LASTMILE_DATABASE_URL": settings.database_url or "",
        "LASTMILE_PROJECTION_BATCH_SIZE": str(settings.projection_batch_size),
    }
    if settings.policy is not None:
        env["LASTMILE_POLICY"] = str(settings.policy.resolve())
    return env


def rebuild_in_child(settings: Settings, label: str) -> RebuildRun:
    """`python -m bench.rebuild` on the store, sampled until it exits."""
    return _run(*run_in_child("bench.rebuild", settings, label))


def run_in_child(
    module: str, settings: Settings, label: str
) -> tuple[dict[str, Any], list[Sample]]:
    """`python -m <module> <label>` on the store: its last stdout line as JSON, and RSS samples."""
    command = [sys.executable, "-m", module, label]
    with subprocess.Popen(
        command, cwd=ROOT, env=child_env(settings), stdout=subprocess.PIPE, text=True
    ) as child:
        samples = sample_rss(child)
        output, _ = child.communicate()
    if child.returncode != 0:
        raise RuntimeError(f"python -m {module} failed with exit code {child.returncode}")
    return json.loads(output.strip().splitlines()[-1]), samples


def sample_rss(child: subprocess.Popen[str]) -> list[Sample]:
    """A Sample (on the monotonic clock) every INTERVAL seconds while the child runs."""
    status = Path(f"/proc/{child.pid}/status")
    samples = []
    while child.poll() is None:
        kb = _memory_kb(status)
        if kb is not None:
            samples.append(Sample(time.monotonic(), *(kb[f] / 1024 for f in FIELDS)))
        time.sleep(INTERVAL)
    return samples


def _memory_kb(status: Path) -> dict[str, int] | None:
    try:
        lines = status.read_text().splitlines()
    except OSError:
        return None  # not Linux, or the child has just gone
    found = {f: int(x.split()[1]) for x in lines for f in FIELDS if x.startswith(f"{f}:")}
    return found if len(found) == len(FIELDS) else None


def _run(report: dict[str, Any], samples: list[Sample]) -> RebuildRun:
    started, finished = float(report["started"]), float(report["finished"])
    during = tuple(
        Sample(s.at - started, s.rss_mb, s.anon_mb, s.file_mb)
        for s in samples
        if started <= s.at <= finished
    )
    at_start = report.get("rss_at_start_kb")
    return RebuildRun(
        events=int(report["events"]),
        position=int(report["position"]),
        seconds=finished - started,
        peak_mb=int(report["peak_kb"]) / 1024,
        rss_at_start_mb=at_start / 1024 if at_start else None,
        samples=during,
    )
