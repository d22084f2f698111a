"""Departments and evaluations: the facts findings refer to."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from api.authorization import Action
from api.deps import LastmileDep, permitted
from api.schemas import DepartmentIn, DepartmentOut, EvaluationIn, EvaluationOut
from api.writes import WriteDep
from domain.values import Actor

router = APIRouter(prefix="/api/v1", tags=["departments and evaluations"])


@router.post("/departments", status_code=201, response_model=DepartmentOut)
def add_department(
    body: DepartmentIn,
    write: WriteDep,
    actor: Annotated[Actor, Depends(permitted(Action.MANAGE_DEPARTMENTS))],
) -> JSONResponse:
    """Register a department (admin)."""

    def act() -> tuple[int, object, dict[str, str]]:
        view = write.lastmile.app.register_department(
            actor, body.code, body.name, body.contact_email, body.head_email
        )
        return 201, DepartmentOut(**vars(view)), {"Location": f"/api/v1/departments/{view.code}"}

    return write.create(body, act)


@router.get("/departments", response_model=list[DepartmentOut])
def list_departments(
    lastmile: LastmileDep, actor: Annotated[Actor, Depends(permitted(Action.READ))]
) -> list[DepartmentOut]:
    """Every registered department."""
    moment = lastmile.read_models.moment(lastmile.app.clock())
    codes = lastmile.read_models.department_names(moment)
    return [DepartmentOut(**vars(lastmile.app.department(code))) for code in sorted(codes)]


@router.post("/evaluations", status_code=201, response_model=EvaluationOut)
def record_evaluation(
    body: EvaluationIn,
    write: WriteDep,
    actor: Annotated[Actor, Depends(permitted(Action.RECORD_EVALUATION))],
) -> JSONResponse:
    """Record an evaluation; its grade follows from the score (优 ≥90, 良 ≥80, 中 ≥60, 差)."""

    def act() -> tuple[int, object, dict[str, str]]:
        view = write.lastmile.app.record_evaluation(actor, **body.model_dump())
        return 201, EvaluationOut(**vars(view)), {"Location": f"/api/v1/evaluations/{view.id}"}

    return write.create(body, act)


@router.get("/evaluations/{ref}", response_model=EvaluationOut)
def get_evaluation(
    ref: str, lastmile: LastmileDep, actor: Annotated[Actor, Depends(permitted(Action.READ))]
) -> EvaluationOut:
    """One evaluation, by its number (e.g. LX-2025-PJ-001) or id."""
    return EvaluationOut(**vars(lastmile.app.evaluation(ref)))
