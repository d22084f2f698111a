"""Walk the whole event log against its hash chain and name anything edited, deleted or moved."""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from sqlalchemy import Table, func, select
from sqlalchemy.engine import Engine

from adapters.eventstore import GENESIS_DIGEST, ChainedApplicationRecorder, chain_digest

BATCH = 2_000


@dataclass(frozen=True)
class Problem:
    kind: str  # edited | deleted | inserted | moved | relinked | truncated
    notification_id: int
    label: str  # e.g. "finding 泸财绩〔2025〕12号 #3 (uuid)"; "" when nothing is left to name
    message: str


@dataclass(frozen=True)
class IntegrityReport:
    events_checked: int
    head_id: int
    head_digest: str
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class _Walk:
    """What the walk has seen so far."""

    labeller: _Labeller
    problems: list[Problem] = field(default_factory=list)
    last_id: int = 0
    last_digest: str = GENESIS_DIGEST
    checked: int = 0


def verify_log(
    recorder: ChainedApplicationRecorder,
    progress: Callable[[int], None] | None = None,
    anchors: Collection[str] = (),
) -> IntegrityReport:
    """Recompute every link in constant memory; anchors are head digests recorded earlier."""
    engine = recorder.datastore.engine
    assert isinstance(engine, Engine)
    events: Table = recorder.events_record_cls.__table__
    chain = recorder.chain
    # Rows up to one bound, read first: each commit adds its events and their links
    # together, in id order, so below the bound both tables are complete.
    bound = _max_id(engine, events, "id", chain, "notification_id")
    walk = _Walk(_Labeller(engine, events))
    unseen_anchors = set(anchors)
    pairs = _merge(
        _rows(engine, events, "id", bound), _rows(engine, chain, "notification_id", bound)
    )
    for event, link in pairs:
        _check(walk, event, link)
        if link is not None:
            unseen_anchors.discard(link.digest)
            walk.last_id, walk.last_digest = link.notification_id, link.digest
        walk.checked += event is not None
        if progress and walk.checked % BATCH == 0:
            progress(walk.checked)
    walk.problems += [_truncated(anchor) for anchor in sorted(unseen_anchors)]
    return IntegrityReport(walk.checked, walk.last_id, walk.last_digest, walk.problems)


def _check(walk: _Walk, event: Any, link: Any) -> None:
    if event is None:
        walk.problems.append(_about(walk, "deleted", link, "was deleted from the event log"))
    elif link is None:
        what = "is not covered by the integrity chain: it was added outside the application"
        walk.problems.append(_about(walk, "inserted", event, what))
    else:
        _check_link(walk, event, link)


def _check_link(walk: _Walk, event: Any, link: Any) -> None:
    if link.previous_id != walk.last_id:
        walk.problems.append(_gap(walk.last_id, link.notification_id))
    elif link.previous_digest != walk.last_digest:
        what = "links to a different predecessor than the one stored: the chain was rewritten"
        walk.problems.append(_about(walk, "relinked", event, what))
    if (UUID(str(event.originator_id)), event.originator_version) != (
        UUID(link.originator_id),
        link.originator_version,
    ):
        expected = f"version {link.originator_version} of {walk.labeller.label(link.originator_id)}"
        what = f"sits where the chain expects {expected}: events were reordered or replaced"
        walk.problems.append(_about(walk, "moved", event, what))
        return
    digest = chain_digest(
        link.previous_digest,
        event.id,
        event.originator_id,
        event.originator_version,
        event.topic,
        _as_bytes(event.state),
    )
    if digest != link.digest:
        what = "was changed after it was recorded (its content no longer matches the chain)"
        walk.problems.append(_about(walk, "edited", event, what))


def _about(walk: _Walk, kind: str, row: Any, what: str) -> Problem:
    notification_id = getattr(row, "id", None) or row.notification_id
    label = walk.labeller.label(str(row.originator_id))
    message = f"Event #{notification_id} (version {row.originator_version} of {label}) {what}."
    return Problem(kind, notification_id, label, message)


def _gap(last_id: int, next_id: int) -> Problem:
    message = (
        f"The chain jumps from event #{last_id} to #{next_id}: the events in between were "
        "deleted together with their chain entries."
    )
    return Problem("deleted", next_id, "", message)


def _truncated(anchor: str) -> Problem:
    message = (
        f"The head digest {anchor} recorded earlier is no longer in the log: events were "
        "removed from its end, or the log was replaced."
    )
    return Problem("truncated", 0, "", message)


def _as_bytes(state: Any) -> bytes:
    # A row edited by hand in SQLite may come back as TEXT instead of BLOB.
    return state.encode() if isinstance(state, str) else bytes(state)


def _max_id(engine: Engine, events: Table, event_key: str, chain: Table, chain_key: str) -> int:
    with engine.connect() as connection:
        last_event = connection.execute(select(func.max(events.c[event_key]))).scalar()
        last_link = connection.execute(select(func.max(chain.c[chain_key]))).scalar()
    return max(last_event or 0, last_link or 0)


def _rows(engine: Engine, table: Table, key: str, bound: int) -> Iterator[Any]:
    """Keyset pagination, so a million-event log is read in constant memory."""
    column = table.c[key]
    last: int | None = None
    while True:
        query = select(table).where(column <= bound).order_by(column).limit(BATCH)
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
