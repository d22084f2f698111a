"""Budget-linkage (结果应用) suggestions from the read models, as the log stood at the cut-off."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import select

from adapters.projections.moments import Moment, findings_at
from adapters.projections.queries import ReadModels
from adapters.projections.tables import evaluations
from domain.application import LastmileApplication
from domain.budget import (
    EvaluationFacts,
    FindingFact,
    LinkagePolicy,
    Suggestion,
    cutoff_moment,
    evaluation_year_for,
    suggestion_for,
)
from domain.views import BudgetDecisionView


@dataclass(frozen=True)
class Linkage:
    suggestion: Suggestion
    decision: BudgetDecisionView | None  # None while no finance user has confirmed it


def budget_linkage(
    read: ReadModels,
    app: LastmileApplication,
    policy: LinkagePolicy,
    budget_year: int,
    moment: Moment,
) -> list[Linkage]:
    """One suggestion per evaluation feeding the budget year, with its decision if any."""
    cutoff = read.moment(min(cutoff_moment(budget_year, policy), moment.at))
    found = []
    for facts in _facts(read, evaluation_year_for(budget_year, policy), moment, cutoff):
        decision = app.budget_decision(budget_year, facts.ref)
        if decision is not None and decision.confirmed_at > moment.at:
            decision = None  # not yet decided as of the report's moment
        suggestion = decision.suggestion if decision else suggestion_for(facts, budget_year, policy)
        found.append(Linkage(suggestion, decision))
    return found


def _facts(read: ReadModels, year: int, moment: Moment, cutoff: Moment) -> list[EvaluationFacts]:
    rows = findings_at(cutoff)
    f = rows.c
    with read.engine.connect() as connection:
        recorded = connection.execute(
            select(evaluations)
            .where(evaluations.c.year == year, evaluations.c.recorded_at <= moment.at)
            .order_by(evaluations.c.department, evaluations.c.ref)
        ).all()
        per_evaluation: dict[str, list[FindingFact]] = defaultdict(list)
        query = select(f.id, f.ref, f.order_ref, f.status, f.evaluation).order_by(
            f.order_ref, f.ref_sort
        )
        for row in connection.execute(query):
            per_evaluation[row.evaluation].append(_finding_fact(row))
    return [_evaluation_facts(e, per_evaluation[e.ref]) for e in recorded]


def _finding_fact(row: Any) -> FindingFact:
    return FindingFact(
        id=UUID(row.id),
        ref=row.ref,
        order_ref=row.order_ref,
        verified_by_cutoff=row.status == "verified",
        withdrawn=row.status == "withdrawn",
    )


def _evaluation_facts(row: Any, findings: list[FindingFact]) -> EvaluationFacts:
    return EvaluationFacts(
        ref=row.ref,
        title=row.title,
        department=row.department,
        year=row.year,
        grade=row.grade,
        score=Decimal(row.score),
        budget_amount=Decimal(row.budget_amount),
        findings=tuple(findings),
    )
