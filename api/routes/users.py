"""User management (admin): accounts, roles and API tokens. Hashes never leave the store."""

from __future__ import annotations

import logging
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, ConfigDict, Field

from adapters.users import User
from api.authorization import Action
from api.deps import LastmileDep, permitted
from domain.errors import NotFoundError, ValidationError
from domain.values import Actor, Role

router = APIRouter(prefix="/api/v1", tags=["users"])
log = logging.getLogger("lastmile.api")
Admin = Annotated[Actor, Depends(permitted(Action.MANAGE_USERS))]
Password = Annotated[str, Field(min_length=8, max_length=1024)]


class Secret(BaseModel):
    """Request bodies with passwords: unknown fields refused, whitespace kept as typed."""

    model_config = ConfigDict(extra="forbid")


class UserIn(Secret):
    name: Annotated[str, Field(min_length=1, max_length=64, examples=["slj.jingban"])]
    role: Literal["evaluator", "department", "supervisor", "admin"]
    department: Annotated[str | None, Field(max_length=32, examples=["SLJ"])] = None
    email: Annotated[str | None, Field(max_length=254)] = None
    password: Password | None = Field(default=None, description="for the browser login")


class UserOut(BaseModel):
    name: str
    role: str
    department: str | None
    email: str | None


class NewUserOut(UserOut):
    token: str = Field(description="The first API token; shown only in this response.")


class TokenOut(BaseModel):
    token: str = Field(description="A new API token; shown only in this response.")


class RevokedOut(BaseModel):
    revoked: int = Field(description="How many live tokens were revoked.")
    sessions_ended: int = Field(description="How many browser sessions were ended.")


def user_out(user: User) -> UserOut:
    return UserOut(
        name=user.name, role=user.role.value, department=user.department, email=user.email
    )


@router.post("/users", status_code=201, response_model=NewUserOut)
def add_user(body: UserIn, response: Response, lastmile: LastmileDep, admin: Admin) -> NewUserOut:
    """Add a user with a first API token; a department user's department must be registered."""
    if body.role == Role.DEPARTMENT.value and body.department:
        try:
            lastmile.app.department(body.department)
        except NotFoundError:
            # The request names a department that does not exist; the resource asked for
            # (/users) does, so this is invalid input (422), not a 404.
            raise ValidationError(
                f"Department {body.department} does not exist; register it first "
                "(POST /api/v1/departments)."
            ) from None
    new = lastmile.users.add(body.name, Role(body.role), body.department, body.email, body.password)
    log.info("user %s (%s) added by %s", new.user.name, new.user.role.value, admin.user_id)
    response.headers["Location"] = f"/api/v1/users/{new.user.name}"
    return NewUserOut(**user_out(new.user).model_dump(), token=new.token)


@router.get("/users", response_model=list[UserOut])
def list_users(lastmile: LastmileDep, admin: Admin) -> list[UserOut]:
    """Every user, by name; no password hashes or tokens."""
    return [user_out(user) for user in lastmile.users.all()]


@router.get("/users/{name}", response_model=UserOut)
def get_user(name: str, lastmile: LastmileDep, admin: Admin) -> UserOut:
    """One user."""
    user = lastmile.users.get(name)
    if user is None:
        raise NotFoundError(f"User {name} does not exist.")
    return user_out(user)


@router.post("/users/{name}/tokens", status_code=201, response_model=TokenOut)
def issue_token(name: str, lastmile: LastmileDep, admin: Admin) -> TokenOut:
    """Issue another API token for the user; the ones it has keep working."""
    token = lastmile.users.issue_token(name)
    log.info("token issued for %s by %s", name, admin.user_id)
    return TokenOut(token=token)


@router.delete("/users/{name}/tokens", response_model=RevokedOut)
def revoke_tokens(name: str, lastmile: LastmileDep, admin: Admin) -> RevokedOut:
    """End the user's access: revoke every API token and end every browser session.

    Effective at once in this server; other API processes let go of the tokens within the
    5 s they keep a verified token.
    """
    revoked = lastmile.users.revoke_tokens(name)
    log.info(
        "%d token(s) and %d session(s) of %s revoked by %s",
        revoked.tokens,
        revoked.sessions,
        name,
        admin.user_id,
    )
    return RevokedOut(revoked=revoked.tokens, sessions_ended=revoked.sessions)
