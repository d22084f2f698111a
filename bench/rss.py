"""Run the rebuild in a child process and sample its resident memory every 0.2 s."""

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


@dataclass(frozen=True)
class RebuildRun:
    """One full rebuild: its events and time, and its memory as sampled from outside."""

    events: int
    position: int
    seconds: float
    peak_mb: float  # the child's own high-water mark
    rss_at_start_mb: float | None
    samples: tuple[tuple[float, float], ...]  # (seconds since the rebuild started, MB)

    @property
    def events_per_s(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0

    @property
    def halves(self) -> tuple[float, float] | None:
        """Peak MB in the first and second half of the rebuild; None with too few samples."""
        middle = self.seconds / 2
        first = [mb for t, mb in self.samples if t <= middle]
        second = [mb for t, mb in self.samples if t > middle]
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
    command = [sys.executable, "-m", "bench.rebuild", label]
    with subprocess.Popen(
        command, cwd=ROOT, env=child_env(settings), stdout=subprocess.PIPE, text=True
    ) as child:
        samples = sample_rss(child)
        output, _ = child.communicate()
    if child.returncode != 0:
        raise RuntimeError(f"the rebuild process failed with exit code {child.returncode}")
    return _run(json.loads(output.strip().splitlines()[-1]), samples)


def sample_rss(child: subprocess.Popen[str]) -> list[tuple[float, int]]:
    """(monotonic time, VmRSS kB) every INTERVAL seconds while the child runs."""
    status = Path(f"/proc/{child.pid}/status")
    samples = []
    while child.poll() is None:
        kb = _vm_rss(status)
        if kb is not None:
            samples.append((time.monotonic(), kb))
        time.sleep(INTERVAL)
    return samples


def _vm_rss(status: Path) -> int | None:
    try:
        text = status.read_text()
    except OSError:
        return None  # not Linux, or the child has just gone
    line = next((x for x in text.splitlines() if x.startswith("VmRSS:")), None)
    return int(line.split()[1]) if line else None


def _run(report: dict[str, Any], samples: list[tuple[float, int]]) -> RebuildRun:
    started, finished = float(report["started"]), float(report["finished"])
    during = tuple((t - started, kb / 1024) for t, kb in samples if started <= t <= finished)
    at_start = report.get("rss_at_start_kb")
    return RebuildRun(
        events=int(report["events"]),
        position=int(report["position"]),
        seconds=finished - started,
        peak_mb=int(report["peak_kb"]) / 1024,
        rss_at_start_mb=at_start / 1024 if at_start else None,
        samples=during,
    )
