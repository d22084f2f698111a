"""How the domain's own value types are stored inside events (JSON)."""

from __future__ import annotations

from dataclasses import fields
from datetime import date
from types import MappingProxyType
from typing import Any

from eventsourcing.persistence import JSONTranscoder, Transcoding

from domain.budget import LinkageAction, Suggestion
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


class SuggestionAsDict(Transcoding):
    type = Suggestion
    name = "budget_suggestion"

    def encode(self, obj: Suggestion) -> dict[str, Any]:
        # Decimals and UUIDs inside go through the library's own transcodings.
        data = {f.name: getattr(obj, f.name) for f in fields(obj)}
        data["inputs"] = dict(obj.inputs)  # a read-only mapping proxy is not JSON
        return data

    def decode(self, data: dict[str, Any]) -> Suggestion:
        # JSON has no tuples or enums: restore them, so the decoded suggestion equals the saved.
        return Suggestion(
            **{
                **data,
                "action": LinkageAction(data["action"]),
                "unverified": tuple(data["unverified"]),
                "finding_ids": tuple(data["finding_ids"]),
                "inputs": MappingProxyType(dict(data["inputs"])),
            }
        )


def register_domain_transcodings(transcoder: JSONTranscoder) -> None:
    transcoder.register(DateAsISO())
    transcoder.register(DeadlineCalculationAsDict())
    transcoder.register(SuggestionAsDict())
