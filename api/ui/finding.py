"""One finding's page: details, deadline and how it was computed, timeline, evidence, actions."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Response
from starlette.datastructures import FormData

from api.authorization import may, sees_department
from api.errors import status_for
from api.ui.commands import COMMANDS, Posted, available, pending_extension
from api.ui.forms import FieldError, Fields
from api.ui.pages import PageError, PageRoute, Ui, UiDep, redirect, render
from api.ui.security import CheckedForm, SignedIn, Visitor
from api.ui.timeline import timeline
from domain.calendar import local_date
from domain.errors import DomainError, NotFoundError
from domain.values import Actor
from domain.views import FindingView

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@dataclass
class Attempt:
    """A form that was posted and refused: its typed values and what was wrong."""

    command: str
    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    problem: str | None = None  # a refusal of the command as a whole, in the reader's words
    detail: str = ""  # the rule's own words


@router.get("/findings/{finding_id}")
def finding_page(finding_id: UUID, ui: UiDep, who: SignedIn) -> Response:
    """The finding as it stands now, with the forms for what this user may do next."""
    return _page(ui, who, _visible(ui, who, finding_id))


@router.get("/findings/{finding_id}/{command}")
def back_to_finding(finding_id: UUID, command: str) -> Response:
    """A reload of a form's address goes back to the finding's page."""
    return redirect(f"/findings/{finding_id}")


@router.post("/findings/{finding_id}/{command}")
def run_command(
    finding_id: UUID, command: str, ui: UiDep, who: SignedIn, form: CheckedForm
) -> Response:
    """Run one command, as its API route does; then back to the page (or the form's errors)."""
    spec = COMMANDS.get(command)
    if spec is None:
        raise PageError(404, "error.not_found")
    view = _visible(ui, who, finding_id)
    if not may(who.user.role, spec.action):
        raise PageError(403, "error.role")
    fields = Fields(form, ui.t)
    run = spec.read(Posted(ui.lastmile, finding_id, Actor(who.user.name, who.user.role), fields))
    attempt = Attempt(command, fields.values, fields.errors)
    if not fields.errors:
        try:
            run(_version(form))
        except FieldError as error:
            attempt.errors[error.name] = error.message
        except DomainError as error:
            attempt.problem, attempt.detail = _explain(ui, error), str(error)
        else:
            return redirect(
                f"/findings/{finding_id}#timeline", flash=f"done_{command.replace('-', '_')}"
            )
    fresh = ui.lastmile.app.finding(view.id)
    return _page(ui, who, fresh, attempt, status=422 if attempt.errors else 409)


def _visible(ui: Ui, who: Visitor, finding_id: UUID) -> FindingView:
    """The finding if this user may see it; another department's is the same 404 as none."""
    try:
        view = ui.lastmile.app.finding(finding_id)
    except NotFoundError:
        view = None
    if view is None or not sees_department(who.user.role, who.user.department, view.department):
        raise PageError(404, "error.not_found")
    return view


def _page(
    ui: Ui, who: Visitor, view: FindingView, attempt: Attempt | None = None, status: int = 200
) -> Response:
    app = ui.lastmile.app
    try:
        department = app.department(view.department).name
    except NotFoundError:
        department = view.department
    return render(
        ui,
        "finding.html.j2",
        visitor=who,
        status=status,
        here=f"/findings/{view.id}",
        f=view,
        department=department,
        evaluation=_evaluation_title(ui, view),
        timeline=timeline(app.history(view.id), ui.t),
        commands=available(who.user.role, view),
        pending=pending_extension(view),
        days_left=app.calendar.working_days_between(local_date(app.clock()), view.due_on),
        current_evidence=[e for e in view.evidence if e.cycle == view.cycle],
        attempt=attempt or Attempt(""),
        max_upload_mb=ui.lastmile.settings.evidence_max_bytes // (1024 * 1024),
    )


def _evaluation_title(ui: Ui, view: FindingView) -> str:
    try:
        return ui.lastmile.app.evaluation(view.evaluation).title
    except NotFoundError:
        return ""


def _version(form: FormData) -> int | None:
    value = form.get("version")
    return int(value) if isinstance(value, str) and value.isdigit() else None


def _explain(ui: Ui, error: DomainError) -> str:
    """What kind of refusal it was, in the reader's language."""
    _, code = status_for(error)
    return ui.t.get(f"refused.{code}") or ui.t("refused.invalid")
