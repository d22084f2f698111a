"""Walk the whole event log against its hash chain and name anything edited, deleted or moved."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from sqlalchemy import Table, select
from sqlalchemy.engine import Engine

from adapters.eventstore import GENESIS_DIGEST, ChainedApplicationRecorder, chain_digest

BATCH = 2_000


@dataclass(frozen=True)
class Problem:
    kind: str  # edited | deleted | inserted | moved
    notification_id: int
    originator_id: str
    originator_version: int
    label: str  # e.g. "finding 泸财绩〔2025〕12号 #3"
    message: str


@dataclass(frozen=True)
class IntegrityReport:
    events_checked: int
    head_digest: str
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_log(
    recorder: ChainedApplicationRecorder, progress: Callable[[int], None] | None = None
) -> IntegrityReport:
    """Recompute every link of the chain, in constant memory, and compare it with the rows."""
    engine = recorder.datastore.engine
    assert isinstance(engine, Engine)
    events: Table = recorder.events_record_cls.__table__
    chain = recorder.chain
    labeller = _Labeller(engine, events)
    problems: list[Problem] = []
    checked, previous, head = 0, GENESIS_DIGEST, GENESIS_DIGEST
    for event, link in _merge(_rows(engine, events, "id"), _rows(engine, chain, "notification_id")):
        problem = _compare(event, link, previous, labeller)
        if problem:
            problems.append(problem)
        if link is not None:
            previous = head = link.digest
        checked += event is not None
        if progress and checked % BATCH == 0:
            progress(checked)
    return IntegrityReport(events_checked=checked, head_digest=head, problems=problems)


def _compare(event: Any, link: Any, previous: str, labeller: _Labeller) -> Problem | None:
    if event is None:
        return _problem(
            "deleted",
            link.notification_id,
            link.originator_id,
            link.originator_version,
            labeller,
            "was deleted from the event log",
        )
    if link is None:
        return _problem(
            "inserted",
            event.id,
            event.originator_id,
            event.originator_version,
            labeller,
            "is not covered by the integrity chain: it was added outside the application",
        )
    same_place = (UUID(str(event.originator_id)), event.originator_version) == (
        UUID(link.originator_id),
        link.originator_version,
    )
    if not same_place:
        return _problem(
            "moved",
            event.id,
            event.originator_id,
            event.originator_version,
            labeller,
            f"sits where the chain expects version {link.originator_version} of "
            f"{labeller.label(link.originator_id)}: events were reordered or replaced",
        )
    digest = chain_digest(
        previous,
        event.id,
        event.originator_id,
        event.originator_version,
        event.topic,
        _as_bytes(event.state),
    )
    if digest != link.digest:
        return _problem(
            "edited",
            event.id,
            event.originator_id,
            event.originator_version,
            labeller,
            "was changed after it was recorded (its content no longer matches the chain)",
        )
    return None


def _problem(
    kind: str,
    notification_id: int,
    originator_id: Any,
    version: int,
    labeller: _Labeller,
    what: str,
) -> Problem:
    label = labeller.label(str(originator_id))
    message = f"Event #{notification_id} (version {version} of {label}) {what}."
    return Problem(kind, notification_id, str(UUID(str(originator_id))), version, label, message)


def _as_bytes(state: Any) -> bytes:
    # A row edited by hand in SQLite may come back as TEXT instead of BLOB.
    return state.encode() if isinstance(state, str) else bytes(state)


def _rows(engine: Engine, table: Table, key: str) -> Iterator[Any]:
    """Keyset pagination, so a million-event log is read in constant memory."""
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


def _merge(events: Iterator[Any], links: Iterator[Any]) -> Iterator[tuple[Any, Any]]:
    """Pair event rows and chain rows by notification id; a missing side is None."""
    event, link = next(events, None), next(links, None)
    while event is not None or link is not None:
        if link is None or (event is not None and event.id < link.notification_id):
            yield event, None
            event = next(events, None)
        elif event is None or link.notification_id < event.id:
            yield None, link
            link = next(links, None)
        else:
            yield event, link
            event, link = next(events, None), next(links, None)


class _Labeller:
    """Names an aggregate the way people know it (order 文号 and finding number)."""

    def __init__(self, engine: Engine, events: Table) -> None:
        self.engine, self.events, self.cache = engine, events, dict[str, str]()

    def label(self, originator_id: str) -> str:
        key = str(UUID(str(originator_id)))
        if key not in self.cache:
            self.cache[key] = self._lookup(UUID(key))
        return self.cache[key]

    def _lookup(self, originator_id: UUID) -> str:
        query = (
            select(self.events.c.state)
            .where(self.events.c.originator_id == originator_id)
            .order_by(self.events.c.originator_version)
            .limit(1)
        )
        with self.engine.connect() as connection:
            state = connection.execute(query).scalar()
        try:
            fields = json.loads(_as_bytes(state)) if state is not None else {}
        except ValueError:
            fields = {}
        if "order_ref" in fields:
            return f"finding {fields['order_ref']} #{fields['ref']} ({originator_id})"
        if "code" in fields:
            return f"department {fields['code']} ({originator_id})"
        if "grade" in fields:
            return f"evaluation {fields['ref']} ({originator_id})"
        return f"aggregate {originator_id}"
