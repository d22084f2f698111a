"""The commands a finding page offers: who may run each, when it applies, what it calls.

Each runs the same application method as its API route; the permission table is the API's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID

from adapters.bootstrap import Lastmile
from adapters.evidence import EmptyFileError, FileTooLargeError, UnsupportedFileTypeError
from adapters.filetypes import display_name
from api.authorization import Action, may
from api.ui.forms import FieldError, Fields
from domain.values import Actor, Role, Status
from domain.views import CommandResult, FindingView

Thunk = Callable[[int | None], CommandResult]
OPEN = frozenset({Status.ISSUED, Status.ACKNOWLEDGED, Status.RECTIFIED})


@dataclass(frozen=True)
class Posted:
    """A command form posted for one finding, by one actor."""

    lastmile: Lastmile
    finding: UUID
    actor: Actor
    fields: Fields


@dataclass(frozen=True)
class Command:
    action: Action
    applies: Callable[[FindingView], bool]  # in the finding's state now
    read: Callable[[Posted], Thunk]  # reads the fields; the thunk runs the command


def _is(*statuses: Status) -> Callable[[FindingView], bool]:
    return lambda view: view.status in statuses


def _pending(view: FindingView) -> int | None:
    return next((x.n for x in view.extensions if x.decision == "pending"), None)


def acknowledge(p: Posted) -> Thunk:
    person = p.fields.text("responsible_person", max_length=200)
    plan = p.fields.text("plan", required=False)
    app = p.lastmile.app
    return lambda v: app.acknowledge(p.finding, p.actor, person, plan, expected_version=v)


def progress(p: Posted) -> Thunk:
    percent = p.fields.integer("percent", 0, 100)
    note = p.fields.text("note")
    app = p.lastmile.app
    return lambda v: app.report_progress(p.finding, p.actor, note, percent, expected_version=v)


def evidence(p: Posted) -> Thunk:
    upload = p.fields.file("file")
    lastmile, t = p.lastmile, p.fields.t

    def attach(version: int | None) -> CommandResult:
        assert upload is not None  # the thunk runs only when every field was read cleanly
        limit = lastmile.settings.evidence_max_bytes
        try:
            stored = lastmile.evidence.put(upload.file, upload.filename or "", limit)
        except FileTooLargeError:
            raise FieldError("file", t("form.file_too_large", mb=limit // 1024 // 1024)) from None
        except UnsupportedFileTypeError:
            raise FieldError("file", t("form.file_type")) from None
        except EmptyFileError:
            raise FieldError("file", t("form.file_empty")) from None
        name = display_name(upload.filename, stored.media_type)
        return lastmile.app.attach_evidence(
            p.finding, p.actor, stored.sha256, name, stored.size, stored.media_type,
            expected_version=version,
        )  # fmt: skip

    return attach


def extension(p: Posted) -> Thunk:
    new_due_on = p.fields.day("new_due_on")
    reason = p.fields.text("reason")
    app = p.lastmile.app

    def run(version: int | None) -> CommandResult:
        assert new_due_on is not None
        return app.request_extension(
            p.finding, p.actor, new_due_on, reason, expected_version=version
        )

    return run


def rectification(p: Posted) -> Thunk:
    measures = p.fields.text("measures")
    files = p.fields.many("evidence")
    amount = p.fields.money("amount_recovered")
    rules = p.fields.integer("rules_improved", 0, 10_000, default=0)
    app = p.lastmile.app
    return lambda v: app.submit_rectification(
        p.finding, p.actor, measures, files, amount, rules, expected_version=v
    )


def verification(p: Posted) -> Thunk:
    outcome = p.fields.choice("outcome", ("accepted", "rejected"))
    note = p.fields.text("note", required=outcome == "rejected")
    app = p.lastmile.app
    if outcome == "accepted":
        return lambda v: app.verify(p.finding, p.actor, note, expected_version=v)
    return lambda v: app.reject(p.finding, p.actor, note, expected_version=v)


def extension_decision(p: Posted) -> Thunk:
    n = p.fields.integer("n", 1, 1000)
    approved = p.fields.choice("approved", ("yes", "no")) == "yes"
    note = p.fields.text("note", required=not approved)
    app = p.lastmile.app
    return lambda v: app.decide_extension(p.finding, p.actor, n, approved, note, expected_version=v)


def reopening(p: Posted) -> Thunk:
    reason = p.fields.text("reason")
    due_on = p.fields.day("due_on", required=False)
    app = p.lastmile.app
    return lambda v: app.reopen(p.finding, p.actor, reason, due_on, expected_version=v)


def withdrawal(p: Posted) -> Thunk:
    reason = p.fields.text("reason")
    app = p.lastmile.app
    return lambda v: app.withdraw(p.finding, p.actor, reason, expected_version=v)


def escalation(p: Posted) -> Thunk:
    level = p.fields.integer("level", 1, 3)
    reason = p.fields.text("reason")
    app = p.lastmile.app
    return lambda v: app.escalate(p.finding, p.actor, level, reason, expected_version=v)


def interview(p: Posted) -> Thunk:
    held_on = p.fields.day("held_on")
    note = p.fields.text("note")
    app = p.lastmile.app

    def run(version: int | None) -> CommandResult:
        assert held_on is not None
        return app.record_interview(p.finding, p.actor, held_on, note, expected_version=version)

    return run


def accountability(p: Posted) -> Thunk:
    decision = p.fields.text("decision", max_length=2000)
    note = p.fields.text("note", required=False)
    app = p.lastmile.app
    return lambda v: app.decide_accountability(
        p.finding, p.actor, decision, note, expected_version=v
    )


# In the order the page shows them.
COMMANDS: dict[str, Command] = {
    "acknowledge": Command(Action.ACKNOWLEDGE, _is(Status.ISSUED), acknowledge),
    "progress": Command(Action.REPORT_PROGRESS, _is(Status.ACKNOWLEDGED), progress),
    "evidence": Command(Action.ATTACH_EVIDENCE, _is(*OPEN), evidence),
    "rectification": Command(Action.SUBMIT, _is(Status.ACKNOWLEDGED), rectification),
    "extension": Command(
        Action.REQUEST_EXTENSION,
        lambda v: v.status in (Status.ISSUED, Status.ACKNOWLEDGED) and _pending(v) is None,
        extension,
    ),
    "verification": Command(Action.VERIFY, _is(Status.RECTIFIED), verification),
    "extension-decision": Command(
        Action.DECIDE_EXTENSION,
        lambda v: v.status in OPEN and _pending(v) is not None,
        extension_decision,
    ),
    "reopening": Command(Action.REOPEN, _is(Status.VERIFIED), reopening),
    "escalation": Command(
        Action.ESCALATE, lambda v: v.status in OPEN and v.escalation_level < 3, escalation
    ),
    "interview": Command(
        Action.RECORD_INTERVIEW,
        lambda v: v.status != Status.WITHDRAWN and v.escalation_level >= 2,
        interview,
    ),
    "accountability": Command(
        Action.RECORD_INTERVIEW,
        lambda v: v.status != Status.WITHDRAWN and v.escalation_level >= 3,
        accountability,
    ),
    "withdrawal": Command(Action.WITHDRAW, _is(*OPEN), withdrawal),
}


def available(role: Role, view: FindingView) -> list[str]:
    """The commands this role may run on the finding as it stands now, in page order."""
    return [name for name, c in COMMANDS.items() if may(role, c.action) and c.applies(view)]


def pending_extension(view: FindingView) -> int | None:
    return _pending(view)
