"""`python -m bench.rebuild LABEL`: one full rebuild in a process of its own, for the RSS figures.

Settings come from LASTMILE_* variables only (no .env file). Progress goes to stderr; the
last line on stdout is JSON: events applied, the monotonic clock at start and end of the
rebuild (comparable with the parent's), and this process's resident memory.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

from adapters.bootstrap import bootstrap
from adapters.settings import Settings

STATUS = Path("/proc/self/status")


def memory_kb(field: str) -> int | None:
    """A Vm* figure of this process from /proc (Linux), in kB; None elsewhere."""
    if not STATUS.exists():
        return None
    for line in STATUS.read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    return None


def peak_kb() -> int:
    """The high-water mark of resident memory: VmHWM, else getrusage (kB on Linux)."""
    return memory_kb("VmHWM") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


class Progress:
    """A line on stderr each time another tenth of the log is applied."""

    def __init__(self, label: str, total: int, batch_size: int) -> None:
        self.label, self.total, self.batch_size = label, total, batch_size
        self.step = max(1, total // 10)
        self.started = time.monotonic()

    def __call__(self, applied: int) -> None:
        if applied // self.step > (applied - self.batch_size) // self.step:
            elapsed = time.monotonic() - self.started
            line = f"[{self.label}] rebuilt {applied:,}/{self.total:,} events, {elapsed:.0f} s"
            print(line, file=sys.stderr, flush=True)


def rebuild(label: str) -> dict[str, object]:
    """Bootstrap from the environment and rebuild every read model; the figures as a dict."""
    system = bootstrap(Settings(_env_file=None))  # type: ignore[call-arg]
    try:
        total = system.app.recorder.max_notification_id() or 0
        rss_at_start = memory_kb("VmRSS")
        progress = Progress(label, total, system.projections.batch_size)
        started = time.monotonic()
        applied = system.projections.rebuild(progress)
        finished = time.monotonic()
        position = system.projections.position()
    finally:
        system.close()
    return {
        "events": applied,
        "position": position,
        "started": started,
        "finished": finished,
        "rss_at_start_kb": rss_at_start,
        "peak_kb": peak_kb(),
    }


def main() -> None:
    label = sys.argv[1] if len(sys.argv) > 1 else "rebuild"
    print(json.dumps(rebuild(label)), flush=True)


if __name__ == "__main__":
    main()
