"""Domain views as API response bodies."""

from __future__ import annotations

import dataclasses

from api.schemas import EvidenceOut, FindingOut, HistoryEntryOut
from domain.views import FindingView, HistoryEntry


def finding_out(view: FindingView) -> FindingOut:
    plain = {
        f.name: getattr(view, f.name)
        for f in dataclasses.fields(view)
        if f.name in FindingOut.model_fields and f.name not in _SHAPED
    }
    return FindingOut(
        **plain,
        class_=view.rectification_class,
        deadline=dataclasses.asdict(view.deadline),
        evidence=[
            EvidenceOut(sha256=e.sha256, name=e.name, size=e.size, media_type=e.media_type)
            for e in view.evidence
        ],
        extensions=[dataclasses.asdict(x) for x in view.extensions],
    )


_SHAPED = frozenset({"deadline", "evidence", "extensions"})


def history_out(entry: HistoryEntry) -> HistoryEntryOut:
    return HistoryEntryOut(
        version=entry.version,
        type=entry.type,
        at=entry.at,
        actor=entry.actor,
        role=entry.role,
        fields={k: _plain(v) for k, v in entry.fields.items()},
    )


def _plain(value: object) -> object:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return value
