"""How the domain's own value types are stored inside events (JSON)."""

from __future__ import annotations

from dataclasses import fields
from datetime import date
from typing import Any

from eventsourcing.persistence import JSONTranscoder, Transcoding

from domain.policies import DeadlineCalculation


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class DeadlineCalculationAsDict(Transcoding):
    type = DeadlineCalculation
    name = "deadline_calculation"

    def encode(self, obj: DeadlineCalculation) -> dict[str, Any]:
        # Not dataclasses.asdict: the dates inside must go through DateAsISO.
        return {f.name: getattr(obj, f.name) for f in fields(obj)}

    def decode(self, data: dict[str, Any]) -> DeadlineCalculation:
        return DeadlineCalculation(**data)


def register_domain_transcodings(transcoder: JSONTranscoder) -> None:
    transcoder.register(DateAsISO())
    transcoder.register(DeadlineCalculationAsDict())
