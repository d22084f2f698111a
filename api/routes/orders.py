"""Rectification orders (整改通知书): one notice, many findings, issued at once."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from api.authorization import Action
from api.deps import permitted
from api.presenters import finding_out
from api.schemas import OrderIn, OrderOut
from api.writes import WriteDep
from domain.values import Actor
from domain.views import FindingDraft, OrderDraft

router = APIRouter(prefix="/api/v1", tags=["orders"])


@router.post("/orders", status_code=201, response_model=OrderOut)
def issue_order(
    body: OrderIn,
    write: WriteDep,
    actor: Annotated[Actor, Depends(permitted(Action.ISSUE))],
) -> JSONResponse:
    """Issue every finding of an order in one transaction; the same order twice is a 409."""
    draft = OrderDraft(
        ref=body.ref,
        evaluation=body.evaluation,
        department=body.department,
        issued_on=body.issued_on,
        findings=[
            FindingDraft(
                f.ref, f.title, f.description, f.category, f.class_, f.requirement, f.due_on
            )
            for f in body.findings
        ],
    )

    def act() -> tuple[int, object, dict[str, str]]:
        ids = write.lastmile.app.issue_order(actor, draft)
        findings = [finding_out(write.lastmile.app.finding(i)) for i in ids]
        return 201, OrderOut(ref=body.ref, findings=findings), {}

    return write.create(body, act)
