"""The baseline: plain `eventsourcing` saves of a small aggregate, with no guards and no chain."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate
from eventsourcing_sqlalchemy.recorders import SQLAlchemyApplicationRecorder
from sqlalchemy import Engine


class Tally(Aggregate):
    """An aggregate whose one event carries the same fields as Finding.ProgressReported."""

    class Noted(Aggregate.Event):
        actor: str
        role: str
        note: str
        percent: int

        def apply(self, aggregate: Any) -> None:
            aggregate.percent = self.percent

    def __init__(self) -> None:
        self.percent = 0

    def note(self, actor: str, role: str, note: str, percent: int) -> None:
        self.trigger_event(self.Noted, actor=actor, role=role, note=note, percent=percent)


class RawBaseline(Application[UUID]):
    """A plain application on the same database, under its own tables."""

    name = "rawbaseline"


def baseline_env(sqlalchemy_url: str) -> dict[str, str]:
    """The same persistence module family and URL as Lastmile's store, without its chain."""
    return {
        "PERSISTENCE_MODULE": "eventsourcing_sqlalchemy",
        "SQLALCHEMY_URL": sqlalchemy_url,
        "CREATE_TABLE": "y",
    }


def open_baseline(sqlalchemy_url: str) -> RawBaseline:
    """The baseline on the same database as Lastmile, under its own tables."""
    return RawBaseline(env=baseline_env(sqlalchemy_url))


def close_baseline(app: RawBaseline) -> None:
    app.close()
    # eventsourcing-sqlalchemy leaves its engine's pooled connections open.
    recorder = app.recorder
    if isinstance(recorder, SQLAlchemyApplicationRecorder):
        engine = recorder.datastore.engine
        if isinstance(engine, Engine):
            engine.dispose()


def note_state_size(app: RawBaseline, note: str) -> int:
    """How many bytes a Noted event with this note is stored as, without storing it."""
    tally = Tally()
    tally.note("slj.jingban", "department", note, 50)
    return len(app.mapper.to_stored_event(tally.pending_events[-1]).state)


def padded_note(app: RawBaseline, note: str, target_size: int) -> str:
    """The note padded with ASCII so a Noted event is stored in target_size bytes."""
    shortfall = target_size - note_state_size(app, note)
    return note + "." * max(shortfall, 0)
