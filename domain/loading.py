"""Many aggregates read at once: one query where the recorder can, else one per aggregate."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, Protocol, runtime_checkable
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import StoredEvent


@runtime_checkable
class SelectsEventsOfMany(Protocol):
    """A recorder that reads the events of several aggregates in one query."""

    def select_events_of(self, originator_ids: Collection[UUID]) -> list[StoredEvent]: ...


def load_many(app: Application[UUID], ids: Collection[UUID]) -> dict[UUID, Aggregate]:
    """The aggregates as stored, by id; an id with no events is left out.

    Each is replayed from all its events (the application takes no snapshots), as
    `repository.get` rebuilds it, so a command can act on it and save it.
    """
    recorder = app.recorder
    if isinstance(recorder, SelectsEventsOfMany):
        stored = recorder.select_events_of(ids)
    else:
        stored = [event for key in ids for event in recorder.select_events(key)]
    events: dict[UUID, list[Any]] = {}
    for record in stored:
        event = app.mapper.to_domain_event(record)
        events.setdefault(event.originator_id, []).append(event)
    loaded: dict[UUID, Aggregate] = {}
    for key, history in events.items():
        aggregate = None
        for event in history:
            # What project_aggregate does, less its per-event Protocol isinstance check,
            # which costs more than the replay itself.
            aggregate = event.mutate(aggregate)
        if isinstance(aggregate, Aggregate):
            loaded[key] = aggregate
    return loaded
