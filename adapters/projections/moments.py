"""The moment a report is "as of": which rows were true then, and the log's digest then."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection, Engine, FromClause, and_, func, or_, select

from adapters.eventstore import GENESIS_DIGEST, ChainedApplicationRecorder
from adapters.projections.tables import finding_versions, findings, trail
from domain.calendar import WorkingCalendar, local_date


@dataclass(frozen=True)
class Moment:
    """Everything a report needs to know about its "as of"."""

    at: datetime
    day: date  # China date of `at`
    day_number: int  # working-day number of `day`
    position: int  # last event the report reflects
    digest: str  # integrity chain digest at `position`
    latest: bool  # True when no recorded event is later than `at`


def moment_at(
    connection: Connection,
    at: datetime,
    calendar: WorkingCalendar,
    recorder: ChainedApplicationRecorder,
) -> Moment:
    """The moment `at`, as far as the read models know the log."""
    # Two queries: SQLite answers a lone max() from an index, but not two in one select.
    latest_at = connection.execute(select(func.max(trail.c.at))).scalar()
    latest_position = connection.execute(select(func.max(trail.c.position))).scalar()
    is_latest = latest_at is None or at >= latest_at
    if is_latest:
        position = latest_position or 0
    else:
        query = select(func.max(trail.c.position)).where(trail.c.at <= at)
        position = connection.execute(query).scalar() or 0
    day = local_date(at)
    return Moment(
        at=at,
        day=day,
        day_number=calendar.working_day_number(day),
        position=position,
        digest=chain_digest_at(recorder, position),
        latest=is_latest,
    )


def chain_digest_at(recorder: ChainedApplicationRecorder, position: int) -> str:
    if position == 0:
        return GENESIS_DIGEST
    chain = recorder.chain
    engine = recorder.datastore.engine
    assert isinstance(engine, Engine)
    with engine.connect() as connection:
        query = select(chain.c.digest).where(chain.c.notification_id == position)
        return connection.execute(query).scalar() or GENESIS_DIGEST


def findings_at(moment: Moment) -> FromClause:
    """Ledger rows as they stood at the moment: the current table when nothing came later."""
    if moment.latest:
        return findings
    versions = finding_versions
    return (
        select(versions)
        .where(
            and_(
                versions.c.valid_from <= moment.at,
                or_(versions.c.valid_to.is_(None), versions.c.valid_to > moment.at),
            )
        )
        .subquery("findings_at")
    )
