"""Who may do what: the one table of permissions, and department isolation."""

from __future__ import annotations

from enum import StrEnum

from domain.values import Role

E, D, S, A = Role.EVALUATOR, Role.DEPARTMENT, Role.SUPERVISOR, Role.ADMIN


class Action(StrEnum):
    READ = "read"
    MANAGE_DEPARTMENTS = "manage departments"
    MANAGE_USERS = "manage users"
    RECORD_EVALUATION = "record evaluations"
    ISSUE = "issue orders"
    IMPORT_LEDGER = "import ledgers"
    ACKNOWLEDGE = "sign for findings"
    REPORT_PROGRESS = "report progress"
    ATTACH_EVIDENCE = "upload evidence"
    REQUEST_EXTENSION = "request extensions"
    DECIDE_EXTENSION = "decide extensions"
    SUBMIT = "submit rectifications"
    VERIFY = "verify or send back rectifications"
    REOPEN = "reopen findings"
    WITHDRAW = "withdraw findings"
    ESCALATE = "escalate findings"
    RECORD_INTERVIEW = "record interviews and accountability decisions"
    CONFIRM_BUDGET = "confirm budget suggestions"
    READ_REPORTS = "read reports"
    VERIFY_INTEGRITY = "verify the event log"


PERMISSIONS: dict[Action, frozenset[Role]] = {
    Action.READ: frozenset({E, D, S, A}),
    Action.MANAGE_DEPARTMENTS: frozenset({A}),
    Action.MANAGE_USERS: frozenset({A}),
    Action.RECORD_EVALUATION: frozenset({E}),
    Action.ISSUE: frozenset({E}),
    Action.IMPORT_LEDGER: frozenset({E}),  # records evaluations and issues orders
    Action.ACKNOWLEDGE: frozenset({D}),
    Action.REPORT_PROGRESS: frozenset({D}),
    Action.ATTACH_EVIDENCE: frozenset({D}),
    Action.REQUEST_EXTENSION: frozenset({D}),
    Action.DECIDE_EXTENSION: frozenset({E}),
    Action.SUBMIT: frozenset({D}),
    Action.VERIFY: frozenset({E}),
    Action.REOPEN: frozenset({E}),
    Action.WITHDRAW: frozenset({E}),
    Action.ESCALATE: frozenset({S}),
    Action.RECORD_INTERVIEW: frozenset({S}),
    Action.CONFIRM_BUDGET: frozenset({E}),  # the finance bureau's performance section
    Action.READ_REPORTS: frozenset({E, D, S, A}),
    Action.VERIFY_INTEGRITY: frozenset({E, S, A}),
}


def may(role: Role, action: Action) -> bool:
    return role in PERMISSIONS[action]


def sees_department(role: Role, own_department: str | None, department: str) -> bool:
    """Department users see their own department's findings only; everyone else sees all."""
    return role is not Role.DEPARTMENT or own_department == department
