"""The BudgetDecision aggregate: a finance user's confirmation of a budget suggestion."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.budget import CENT, Suggestion, covered_findings
from domain.errors import ValidationError
from domain.values import Actor, optional_text

BUDGET_NAMESPACE = uuid5(NAMESPACE_URL, "https://lastmile.example/budget-decisions")
MAX_NOTE = 2000


def budget_decision_id(budget_year: int, evaluation_ref: str) -> UUID:
    """The deterministic id of a decision: a second one for the same key collides."""
    return uuid5(BUDGET_NAMESPACE, f"{budget_year}\x1f{evaluation_ref.strip()}")


class BudgetDecision(Aggregate):
    """A finance user's decision on one evaluation's suggestion for one budget year."""

    TOPIC = "lastmile:BudgetDecision"

    if TYPE_CHECKING:  # set by Confirmed.apply; real annotations would make a dataclass
        suggestion: Suggestion
        accepted: bool
        amount: Decimal | None
        note: str
        confirmed_by: str
        confirmed_role: str

    class Event(Aggregate.Event):
        actor: str
        role: str

    class Confirmed(Event, Aggregate.Created):
        TOPIC = "lastmile:BudgetDecision.Confirmed"
        suggestion: Suggestion  # the whole suggestion: rule, policy version, inputs, cut
        accepted: bool
        amount: Decimal | None  # the cut confirmed; None when the suggestion was turned down
        note: str

        def apply(self, aggregate: Any) -> None:
            aggregate.suggestion = self.suggestion
            aggregate.accepted = self.accepted
            aggregate.amount = self.amount
            aggregate.note = self.note
            aggregate.confirmed_by = self.actor
            aggregate.confirmed_role = self.role

    # Aggregate.Created would otherwise be re-declared here without a stable topic.
    Created = Confirmed

    @staticmethod
    def create_id(suggestion: Suggestion) -> UUID:
        return budget_decision_id(suggestion.budget_year, suggestion.evaluation_ref)

    @classmethod
    def confirm(
        cls,
        actor: Actor,
        at: datetime,
        suggestion: Suggestion,
        accepted: bool,
        amount: Decimal | None = None,
        note: str = "",
    ) -> BudgetDecision:
        """Accept a suggestion (perhaps with another amount) or turn it down, with a reason."""
        confirmed = _confirmed_amount(suggestion, accepted, amount)
        note = optional_text(note, "The note", MAX_NOTE)
        if not note and not accepted:
            raise ValidationError("Turning a suggestion down needs a note saying why.")
        if not note and confirmed != suggestion.suggested_amount:
            raise ValidationError(
                f"Confirming {confirmed} instead of the suggested {suggestion.suggested_amount} "
                "needs a note saying why."
            )
        return cls._create(
            cls.Confirmed,
            timestamp=at,
            actor=actor.user_id,
            role=actor.role.value,
            suggestion=suggestion,
            accepted=accepted,
            amount=confirmed,
            note=note,
        )

    @property
    def budget_year(self) -> int:
        return self.suggestion.budget_year

    @property
    def evaluation_ref(self) -> str:
        return self.suggestion.evaluation_ref

    @property
    def covered_finding_ids(self) -> frozenset[UUID]:
        return covered_findings(self.suggestion, self.accepted, self.amount)


def _confirmed_amount(
    suggestion: Suggestion, accepted: bool, amount: Decimal | None
) -> Decimal | None:
    if not accepted:
        if amount is not None:
            raise ValidationError(
                "A suggestion turned down confirms no amount; to confirm another cut, "
                "accept it with that amount and a note."
            )
        return None
    if amount is None:
        return suggestion.suggested_amount
    if not amount.is_finite() or not 0 <= amount <= suggestion.budget_amount:
        raise ValidationError(
            f"The confirmed cut must be between 0 and the budget of "
            f"{suggestion.budget_amount}, not {amount}."
        )
    if amount != amount.quantize(CENT):
        raise ValidationError(f"The confirmed cut {amount} has more than two decimal places.")
    return amount.quantize(CENT)
