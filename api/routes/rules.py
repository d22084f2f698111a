"""The rules in force: deadline and budget-linkage policy, and the working-day calendar.

They are files and libraries an administrator maintains (LASTMILE_POLICY, the holiday
table); these endpoints show them, so everyone can check how a deadline was computed.
"""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path

from api.authorization import Action
from api.deps import LastmileDep, permitted
from domain.values import Actor

router = APIRouter(prefix="/api/v1", tags=["rules"])
Reader = Annotated[Actor, Depends(permitted(Action.READ))]


@router.get("/policy")
def policy(lastmile: LastmileDep, reader: Reader) -> dict[str, Any]:
    """Deadline rules and the budget-linkage rule table, each value with its basis."""
    return {
        "deadlines": dataclasses.asdict(lastmile.app.policy),
        "budget_linkage": dataclasses.asdict(lastmile.linkage_policy),
    }


@router.get("/calendar/{year}")
def calendar(
    lastmile: LastmileDep, reader: Reader, year: Annotated[int, Path(ge=2000, le=2100)]
) -> dict[str, Any]:
    """A year's rest days and make-up working days (调休), and whether they are official."""
    working = lastmile.app.calendar
    days = [date(year, 1, 1) + timedelta(days=n) for n in range(366)]
    days = [d for d in days if d.year == year]
    return {
        "year": year,
        "version": working.version,
        "provisional": working.is_provisional(date(year, 1, 1)),
        "rest_days": [d for d in days if d.weekday() < 5 and not working.is_working_day(d)],
        "makeup_workdays": [d for d in days if d.weekday() >= 5 and working.is_working_day(d)],
        "working_days": sum(working.is_working_day(d) for d in days),
    }
