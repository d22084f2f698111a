"""Findings: the list, one finding as of a moment, its history, and every command on it."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Response
from fastapi.responses import JSONResponse

from adapters.projections.queries import LedgerFilter
from api.authorization import Action
from api.deps import (
    AsOf,
    CurrentFinding,
    CurrentUser,
    FindingNow,
    LastmileDep,
    ReadAfter,
    permitted,
)
from api.presenters import finding_out, history_out
from api.schemas import (
    AccountabilityDecisionIn,
    AcknowledgementIn,
    DecisionIn,
    EscalationIn,
    ExtensionIn,
    ExtensionOut,
    FindingOut,
    HistoryEntryOut,
    InterviewIn,
    PageOut,
    ProgressIn,
    RectificationIn,
    ReopeningIn,
    VerificationIn,
    WithdrawalIn,
)
from api.writes import WriteDep
from domain.values import Actor, Role
from domain.views import CommandResult

router = APIRouter(prefix="/api/v1/findings", tags=["findings"])
Status = Literal["issued", "acknowledged", "rectified", "verified", "withdrawn"]
Kind = Literal["immediate", "phased", "long_term"]


@router.get("", response_model=PageOut)
def list_findings(
    lastmile: LastmileDep,
    user: CurrentUser,
    as_of: AsOf,
    caught_up: ReadAfter,
    department: Annotated[str | None, Query(max_length=32)] = None,
    status: Status | None = None,
    overdue: bool | None = None,
    evaluation: Annotated[str | None, Query(max_length=100)] = None,
    class_: Annotated[Kind | None, Query(alias="class")] = None,
    q: Annotated[str | None, Query(max_length=200, description="文号, title or text")] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    size: Annotated[int, Query(ge=1, le=500)] = 50,
) -> PageOut:
    """The ledger, filtered and paged; a department user sees only its own department."""
    if user.role is Role.DEPARTMENT:
        department = user.department
    moment = lastmile.read_models.moment(as_of or lastmile.app.clock())
    where = LedgerFilter(department, evaluation, status, class_, overdue, q)
    found = lastmile.read_models.ledger(moment, where, page, size)
    return PageOut(
        page=found.page,
        size=found.size,
        total=found.total,
        as_of=moment.at,
        position=moment.position,
        rows=found.rows,
    )


@router.get("/{finding_id}", response_model=FindingOut)
def get_finding(finding: CurrentFinding, response: Response) -> FindingOut:
    """The finding as of now, or as of `?as_of=`; overdue is judged at that moment."""
    response.headers["ETag"] = f'"{finding.version}"'
    return finding_out(finding)


@router.get("/{finding_id}/history", response_model=list[HistoryEntryOut])
def get_history(
    finding: CurrentFinding, lastmile: LastmileDep, as_of: AsOf
) -> list[HistoryEntryOut]:
    """Every event: who did what, in which role, when, and why."""
    return [history_out(e) for e in lastmile.app.history(finding.id, as_of)]


@router.post("/{finding_id}/acknowledgement", response_model=FindingOut)
def acknowledge(
    finding: FindingNow,
    body: AcknowledgementIn,
    write: WriteDep,
    actor: Annotated[Actor, Depends(permitted(Action.ACKNOWLEDGE))],
) -> JSONResponse:
    """Sign for the finding (签收) and name the responsible person."""
    app = write.lastmile.app
    return write.finding_command(
        body,
        finding.id,
        lambda v: app.acknowledge(
            finding.id, actor, body.responsible_person, body.plan, expected_version=v
        ),
    )


@router.post("/{finding_id}/progress", response_model=FindingOut)
def report_progress(
    finding: FindingNow,
    body: ProgressIn,
    write: WriteDep,
    actor: Annotated[Actor, Depends(permitted(Action.REPORT_PROGRESS))],
) -> JSONResponse:
    """Report progress (报送进展)."""
    app = write.lastmile.app
    return write.finding_command(
        body,
        finding.id,
        lambda v: app.report_progress(
            finding.id, actor, body.note, body.percent, expected_version=v
        ),
    )


@router.post("/{finding_id}/extension-requests", status_code=201, response_model=ExtensionOut)
def request_extension(
    finding: FindingNow,
    body: ExtensionIn,
    write: WriteDep,
    actor: Annotated[Actor, Depends(permitted(Action.REQUEST_EXTENSION))],
) -> JSONResponse:
    """Ask for a later deadline (申请延期); answers with the request's number."""
    app = write.lastmile.app
    return write.finding_command(
        body,
        finding.id,
        lambda v: app.request_extension(
            finding.id, actor, body.new_due_on, body.reason, expected_version=v
        ),
        shape=lambda _: ExtensionOut(n=len(app.finding(finding.id).extensions)),
        status=201,
    )


@router.post("/{finding_id}/extension-requests/{n}/decision", response_model=FindingOut)
def decide_extension(
    finding: FindingNow,
    n: Annotated[int, Path(ge=1, le=1000)],
    body: DecisionIn,
    write: WriteDep,
    actor: Annotated[Actor, Depends(permitted(Action.DECIDE_EXTENSION))],
) -> JSONResponse:
    """Grant or deny extension request n (批准/驳回延期)."""
    app = write.lastmile.app
    return write.finding_command(
        body,
        finding.id,
        lambda v: app.decide_extension(
            finding.id, actor, n, body.approved, body.note, expected_version=v
        ),
    )


@router.post("/{finding_id}/rectification", response_model=FindingOut)
def submit_rectification(
    finding: FindingNow,
    body: RectificationIn,
    write: WriteDep,
    actor: Annotated[Actor, Depends(permitted(Action.SUBMIT))],
) -> JSONResponse:
    """Submit the rectification report (提交整改报告) listing uploaded evidence."""
    app = write.lastmile.app
    return write.finding_command(
        body,
        finding.id,
        lambda v: app.submit_rectification(
            finding.id,
            actor,
            body.measures,
            body.evidence,
            body.amount_recovered,
            body.rules_improved,
            expected_version=v,
        ),
    )


@router.post("/{finding_id}/verification", response_model=FindingOut)
def verify(
    finding: FindingNow,
    body: VerificationIn,
    write: WriteDep,
    actor: Annotated[Actor, Depends(permitted(Action.VERIFY))],
) -> JSONResponse:
    """Accept (核查通过·销号) or send back (退回整改, a note is required) a rectification."""
    app = write.lastmile.app

    def run(version: int | None) -> CommandResult:
        if body.outcome == "accepted":
            return app.verify(finding.id, actor, body.note, expected_version=version)
        return app.reject(finding.id, actor, body.note, expected_version=version)

    return write.finding_command(body, finding.id, run)


@router.post("/{finding_id}/escalations", response_model=FindingOut)
def escalate(
    finding: FindingNow,
    body: EscalationIn,
    write: WriteDep,
    actor: Annotated[Actor, Depends(permitted(Action.ESCALATE))],
) -> JSONResponse:
    """Escalate by hand (督办 1 / 约谈 2 / 问责 3); the level only rises."""
    app = write.lastmile.app
    return write.finding_command(
        body,
        finding.id,
        lambda v: app.escalate(finding.id, actor, body.level, body.reason, expected_version=v),
    )


@router.post("/{finding_id}/interviews", response_model=FindingOut)
def record_interview(
    finding: FindingNow,
    body: InterviewIn,
    write: WriteDep,
    actor: Annotated[Actor, Depends(permitted(Action.RECORD_INTERVIEW))],
) -> JSONResponse:
    """Record an interview (约谈记录); the finding must be at level 2 or more."""
    app = write.lastmile.app
    return write.finding_command(
        body,
        finding.id,
        lambda v: app.record_interview(
            finding.id, actor, body.held_on, body.note, expected_version=v
        ),
    )


@router.post("/{finding_id}/accountability-decisions", response_model=FindingOut)
def decide_accountability(
    finding: FindingNow,
    body: AccountabilityDecisionIn,
    write: WriteDep,
    actor: Annotated[Actor, Depends(permitted(Action.RECORD_INTERVIEW))],
) -> JSONResponse:
    """Record an accountability decision (问责处理); the finding must be at level 3."""
    app = write.lastmile.app
    return write.finding_command(
        body,
        finding.id,
        lambda v: app.decide_accountability(
            finding.id, actor, body.decision, body.note, expected_version=v
        ),
    )


@router.post("/{finding_id}/reopening", response_model=FindingOut)
def reopen(
    finding: FindingNow,
    body: ReopeningIn,
    write: WriteDep,
    actor: Annotated[Actor, Depends(permitted(Action.REOPEN))],
) -> JSONResponse:
    """Start a new cycle on a verified finding (回头看·重新整改)."""
    app = write.lastmile.app
    return write.finding_command(
        body,
        finding.id,
        lambda v: app.reopen(finding.id, actor, body.reason, body.due_on, expected_version=v),
    )


@router.post("/{finding_id}/withdrawal", response_model=FindingOut)
def withdraw(
    finding: FindingNow,
    body: WithdrawalIn,
    write: WriteDep,
    actor: Annotated[Actor, Depends(permitted(Action.WITHDRAW))],
) -> JSONResponse:
    """Withdraw the finding (撤销), saying why."""
    app = write.lastmile.app
    return write.finding_command(
        body,
        finding.id,
        lambda v: app.withdraw(finding.id, actor, body.reason, expected_version=v),
    )
