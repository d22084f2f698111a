"""Who a Recipient is, in e-mail addresses: departments from the log, people from the user store."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

from domain.errors import NotFoundError
from domain.ladder import Recipient
from domain.values import Role
from domain.views import DepartmentView, FindingView


class Person(Protocol):
    """A user as the user store returns it (adapters.users.User)."""

    @property
    def name(self) -> str: ...
    @property
    def role(self) -> Role: ...
    @property
    def department(self) -> str | None: ...
    @property
    def email(self) -> str | None: ...


class People(Protocol):
    """The user store (adapters.users.UserStore), as far as mail needs it."""

    def get(self, name: str) -> Person | None: ...
    def all(self) -> Sequence[Person]: ...


class Departments(Protocol):
    """Where departments are looked up (LastmileApplication.department)."""

    def department(self, code: str) -> DepartmentView: ...


class Directory:
    """Resolves Recipient roles to e-mail addresses for one finding."""

    def __init__(self, departments: Departments, people: People) -> None:
        self.departments = departments
        self.people = people

    def department(self, code: str) -> DepartmentView | None:
        try:
            return self.departments.department(code)
        except NotFoundError:
            return None

    def addresses(self, recipient: Recipient | str, finding: FindingView) -> list[str]:
        """The addresses behind one role; an unknown role or a missing address gives none."""
        try:
            role = Recipient(recipient)
        except ValueError:
            return []
        department = self.department(finding.department)
        match role:
            case Recipient.DEPARTMENT_CONTACT:
                found = [department.contact_email] if department else []
            case Recipient.DEPARTMENT_HEAD:
                found = [department.head_email] if department else []
            case Recipient.EVALUATOR:
                found = self.emails_of([finding.issued_by])
            case Recipient.SUPERVISORS:
                found = [p.email or "" for p in self.people.all() if p.role is Role.SUPERVISOR]
            case Recipient.RESPONSIBLE_PERSON:
                # A free-text name: it reaches someone only when it is a user of that
                # department; otherwise the department contact, who hears anyway, passes it on.
                found = [
                    p.email or ""
                    for p in self.people.all()
                    if p.department == finding.department
                    and finding.responsible_person
                    and p.name == finding.responsible_person
                ]
        return unique_addresses(found)

    def emails_of(self, names: Iterable[str]) -> list[str]:
        """The e-mail addresses of the named users who have one."""
        people = (self.people.get(name) for name in names if name)
        return unique_addresses(p.email or "" for p in people if p is not None)


def unique_addresses(addresses: Iterable[str]) -> list[str]:
    """Addresses in first-seen order, blanks dropped, the same mailbox (any case) once."""
    seen: dict[str, str] = {}
    for address in addresses:
        cleaned = address.strip()
        if cleaned and "@" in cleaned:
            seen.setdefault(cleaned.lower(), cleaned)
    return list(seen.values())
