"""The ladder scan: find the findings with a reminder or escalation due, and climb each."""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from sqlalchemy import Engine, and_, or_, select

from adapters.projections.tables import findings
from domain.application import LastmileApplication
from domain.calendar import local_date
from domain.ladder import ClockState, LadderPolicy, due_steps
from domain.values import Status
from domain.views import LadderClimb

if TYPE_CHECKING:
    from adapters.bootstrap import Lastmile

log = logging.getLogger("lastmile.worker")
DEPARTMENT_HOLDS = ("issued", "acknowledged")
# Due findings climbed per transaction: enough to spread a commit over many findings, few
# enough that SQLite's write lock is held for a few tens of milliseconds at most.
LADDER_BATCH = 200
# What clock_state reads, and no more: each date costs a conversion on every candidate row
# (verify_due_on only filters, in SQL; the ladder computes the verification deadline itself).
_COLUMNS = (
    "id", "version", "status", "acknowledge_due_on", "due_on", "due_wdn", "holder",
    "held_since_wdn", "department_overdue_days", "submitted_at", "escalation_level",
    "rejections", "ladder_keys",
)  # fmt: skip
_STATUSES = {status.value: status for status in Status}  # a dict lookup: Status() is slower


@dataclass(frozen=True)
class ScanFailure:
    finding: UUID
    error: str


@dataclass(frozen=True)
class ScanReport:
    """What one scan did, as of its moment."""

    moment: datetime
    candidates: int  # rows read: open, and something could be due today
    due: int  # of them, findings the read model says have a step due
    changed: int  # findings that recorded at least one event
    events: int  # events recorded
    failures: tuple[ScanFailure, ...] = ()
    seconds: float = 0.0
    stopped: bool = False  # a stop request ended the scan before every due finding
    projected: int = 0  # events the catch-up before the scan applied


def scan(lastmile: Lastmile, moment: datetime, stop: threading.Event | None = None) -> ScanReport:
    """Bring the read models up to date, then climb the ladder of every finding due a step.

    The read model only chooses whom to ask: the aggregate decides again on its own state,
    so a stale row costs a wasted command, never a wrong reminder.
    """
    started = time.perf_counter()
    projected = lastmile.projections.catch_up()
    app = lastmile.app
    today = local_date(moment)
    today_wdn = app.calendar.working_day_number(today)
    ladder, calendar = app.policy.ladder, app.calendar
    with _cyclic_gc_paused():
        rows = _candidate_states(lastmile.records, today, today_wdn, ladder)
        # An id becomes a UUID only for the few rows with a step due: most candidates have none.
        due = [
            Candidate(UUID(key), version, state)
            for key, version, state in rows
            if due_steps(state, today, ladder, calendar)
        ]
        tally = _climb_all(app, due, stop)
    report = ScanReport(
        moment=moment,
        candidates=len(rows),
        due=len(due),
        changed=tally.changed,
        events=tally.events,
        failures=tuple(tally.failures),
        seconds=time.perf_counter() - started,
        stopped=tally.stopped,
        projected=projected,
    )
    _log(report)
    return report


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Hold off Python's cyclic garbage collector for the scan; reference counting goes on.

    The scan makes tens of thousands of small objects that are never in a cycle (rows,
    states, events), and each burst of them sets off collections that walk every object the
    process holds: a fifth to a quarter of a scan's CPU time at 100,000 open findings.
    Cyclic garbage made meanwhile, by any thread, waits until the scan ends.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:  # left as found: off if someone else had turned it off
            gc.enable()


@dataclass
class _Tally:
    changed: int = 0
    events: int = 0
    failures: list[ScanFailure] = field(default_factory=list)
    stopped: bool = False

    def add(self, climb: LadderClimb) -> None:
        if climb.events:
            self.changed += 1
            self.events += climb.events


def _climb_all(
    app: LastmileApplication, due: list[Candidate], stop: threading.Event | None
) -> _Tally:
    """Climb the due findings a batch at a time: one read and one transaction per batch."""
    tally = _Tally()
    for start in range(0, len(due), LADDER_BATCH):
        if stop is not None and stop.is_set():
            tally.stopped = True  # SIGTERM: stop between batches, not after all of them
            break
        batch = due[start : start + LADDER_BATCH]
        try:
            climbs = app.climb_ladders([row.id for row in batch])
        except Exception as error:  # one finding failed the batch: find it, climb the rest
            log.warning(
                "climbing a batch of %d findings failed (%s); climbing them one by one",
                len(batch),
                error,
                extra={"action": "ladder_batch_failed", "findings": len(batch)},
            )
            _climb_each(app, batch, stop, tally)
            continue
        for climb in climbs:
            tally.add(climb)
    return tally


def _climb_each(
    app: LastmileApplication, due: list[Candidate], stop: threading.Event | None, tally: _Tally
) -> None:
    """Climb each finding on its own; log a failure with its id and go on with the next."""
    for row in due:
        if stop is not None and stop.is_set():
            tally.stopped = True
            return
        try:
            (climb,) = app.climb_ladders([row.id])
        except Exception as error:  # one finding's failure must not stop the others
            log.exception(
                "climbing the ladder failed for finding %s",
                row.id,
                extra={"action": "ladder_failed", "finding": str(row.id)},
            )
            tally.failures.append(ScanFailure(row.id, f"{type(error).__name__}: {error}"))
            continue
        tally.add(climb)


@dataclass(frozen=True)
class Candidate:
    id: UUID
    version: int  # the row's version: what the read model knew of the finding
    state: ClockState


def candidate_rows(
    engine: Engine, today: date, today_wdn: int, policy: LadderPolicy
) -> list[Candidate]:
    """Open findings for which the ladder could have a step today, as ClockStates."""
    return [
        Candidate(UUID(key), version, state)
        for key, version, state in _candidate_states(engine, today, today_wdn, policy)
    ]


def _candidate_states(
    engine: Engine, today: date, today_wdn: int, policy: LadderPolicy
) -> list[tuple[str, int, ClockState]]:
    """(id, version, ClockState) of each candidate row; the scan's hot loop, kept lean."""
    query = select(*(findings.c[name] for name in _COLUMNS)).where(
        _maybe_due(today, today_wdn, policy)
    )
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    # id and version lead _COLUMNS; a plain dict per row is cheaper than Row._mapping.
    return [
        (row[0], row[1], clock_state(dict(zip(_COLUMNS, row, strict=True)), today, today_wdn))
        for row in rows
    ]


def _maybe_due(today: date, today_wdn: int, policy: LadderPolicy) -> Any:
    """A superset of the rows with a step due today, narrow enough to skip most of them."""
    f = findings.c
    lead = max(policy.deadline.working_days_before)
    reasons = [
        and_(f.status == "issued", f.acknowledge_due_on < today),
        # Deadline reminders, and everything overdue: overdue notices and escalations.
        and_(f.status.in_(DEPARTMENT_HOLDS), f.due_wdn <= today_wdn + lead),
        and_(f.status == "rectified", f.verify_due_on < today),
    ]
    by_rejection = [r for r in policy.escalation if r.rejections is not None]
    if by_rejection:
        reasons.append(
            and_(
                f.status.in_(("issued", "acknowledged", "rectified")),
                f.rejections >= min(r.rejections or 0 for r in by_rejection),
                f.escalation_level < max(r.level for r in by_rejection),
            )
        )
    return or_(*reasons)


def clock_state(row: Any, today: date, today_wdn: int) -> ClockState:
    """The ladder's view of a ledger row on `today`."""
    status = _STATUSES[row["status"]]
    submitted = row["submitted_at"]
    return ClockState(
        status=status,
        acknowledge_due_on=row["acknowledge_due_on"],
        due_on=row["due_on"],
        department_holds_clock=row["status"] in DEPARTMENT_HOLDS,
        overdue_days=overdue_days(row, today, today_wdn),
        submitted_on=local_date(submitted) if status is Status.RECTIFIED and submitted else None,
        escalation_level=row["escalation_level"],
        rejections=row["rejections"],  # every cycle's: a superset; the aggregate counts its own
        done_keys=frozenset(row["ladder_keys"] or ()),
    )


def overdue_days(row: Any, today: date, today_wdn: int) -> int:
    """Working days the department has missed this cycle: as queries._overdue_days counts."""
    if row["status"] not in DEPARTMENT_HOLDS or not row["due_on"] < today:
        return 0
    later = max(row["due_wdn"], row["held_since_wdn"] or 0)
    ongoing = today_wdn - later if row["holder"] == "department" and today_wdn > later else 0
    return int(row["department_overdue_days"]) + ongoing


def _log(report: ScanReport) -> None:
    log.info(
        "scan done as of %s: %d candidates, %d due, %d findings changed, %d events, "
        "%d failures in %.2f s",
        report.moment.isoformat(),
        report.candidates,
        report.due,
        report.changed,
        report.events,
        len(report.failures),
        report.seconds,
        extra={
            "action": "scan_done",
            "as_of": report.moment.isoformat(),
            "candidates": report.candidates,
            "due": report.due,
            "changed": report.changed,
            "events": report.events,
            "failures": [str(f.finding) for f in report.failures],
            "seconds": round(report.seconds, 3),
            "projected": report.projected,
            "stopped": report.stopped,
        },
    )
