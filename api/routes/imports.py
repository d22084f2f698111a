"""Ledger import (整改台账导入): one XLSX or CSV file, recorded all or nothing."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, File, Query, UploadFile
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from adapters.ledger_import import LedgerReport, RowProblem, import_ledger_file
from api.authorization import Action
from api.deps import LastmileDep, permitted
from api.errors import PROBLEM, problem_response
from api.routes.evidence import UploadRoute
from api.schemas import ProblemOut
from domain.values import Actor

router = APIRouter(prefix="/api/v1", tags=["imports"], route_class=UploadRoute)


class LedgerErrorOut(BaseModel):
    """One problem of the ledger, where its user finds it in the spreadsheet."""

    row: int | None = Field(
        description="The row number the spreadsheet shows (the header is row 1); "
        "null: the file as a whole.",
        examples=[7],
    )
    column: str | None = Field(description="The column's header.", examples=["整改类型"])
    problem: str = Field(examples=["无法识别“马上改”，应为立行立改、分阶段整改或持续整改"])
    problem_en: str


class ImportOut(BaseModel):
    """What the import recorded (or, on a dry run, would record)."""

    orders: int = Field(description="Orders (整改通知书) issued.")
    findings: int = Field(description="Findings issued.")
    evaluations: int = Field(description="Evaluations newly recorded.")
    rows: int = Field(description="Data rows read.")
    dry_run: bool
    finding_ids: list[UUID]
    warnings: list[LedgerErrorOut] = Field(description="Imported anyway, but worth a look.")


def _ledger_problem_schema() -> dict[str, Any]:
    schema = ProblemOut.model_json_schema()
    # A refused ledger lists its rows' problems; a malformed request its fields' problems.
    field_error = {"type": "object", "additionalProperties": {"type": "string"}}
    items = {"anyOf": [LedgerErrorOut.model_json_schema(), field_error]}
    errors = {"type": "array", "items": items}
    return {**schema, "properties": {**schema["properties"], "errors": errors}}


@router.post(
    "/imports",
    status_code=201,
    response_model=ImportOut,
    responses={
        200: {"model": ImportOut, "description": "A dry run: the ledger would import as is."},
        400: {
            "description": "The multipart body is malformed.",
            "content": {PROBLEM: {"schema": ProblemOut.model_json_schema()}},
        },
        413: {"description": "The file is over the size limit.", "content": {PROBLEM: {}}},
        422: {
            "description": "The ledger has problems; nothing was saved. `errors` lists each.",
            "content": {PROBLEM: {"schema": _ledger_problem_schema()}},
        },
    },
)
def import_ledger(
    file: Annotated[UploadFile, File(description="The ledger: .xlsx, or .csv in UTF-8.")],
    lastmile: LastmileDep,
    actor: Annotated[Actor, Depends(permitted(Action.IMPORT_LEDGER))],
    dry_run: Annotated[bool, Query(description="Check the whole ledger; save nothing.")] = False,
) -> JSONResponse:
    """Import a ledger (整改台账): new evaluations and every order's findings, all or nothing.

    Rows with the same 文号 form one order; deadlines left empty follow the policy.
    """
    content = file.file.read()
    report = import_ledger_file(lastmile.app, actor, file.filename or "", content, dry_run=dry_run)
    if report.result is None:
        return _refused(report)
    result = report.result
    body = ImportOut(
        orders=len(result.orders),
        findings=len(result.findings),
        evaluations=len(result.evaluations),
        rows=report.rows,
        dry_run=result.dry_run,
        finding_ids=list(result.findings),
        warnings=[_error_out(w) for w in report.warnings],
    )
    if result.dry_run:
        return JSONResponse(body.model_dump(mode="json"), status_code=200)
    # Read your writes: lists and reports include this import once they reach this position.
    head = lastmile.app.recorder.max_notification_id() or 0
    headers = {"X-Lastmile-Position": str(head)}
    return JSONResponse(body.model_dump(mode="json"), status_code=201, headers=headers)


def _refused(report: LedgerReport) -> JSONResponse:
    count = len(report.errors)
    first = report.errors[0].describe("en")
    more = f" (and {count - 1} more)" if count > 1 else ""
    return problem_response(
        422,
        f"The ledger was not imported; nothing was saved. {first}{more}",
        "ledger-invalid",
        errors=[_error_out(e).model_dump() for e in report.errors],
    )


def _error_out(problem: RowProblem) -> LedgerErrorOut:
    return LedgerErrorOut(
        row=problem.row, column=problem.column, problem=problem.zh, problem_en=problem.en
    )
