"""The one composition root: builds the application and its stores from settings."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, create_engine, event

from adapters.calendar_table import load_holiday_table
from adapters.eventstore import ChainedApplicationRecorder
from adapters.evidence import EvidenceStore, FileEvidenceStore, PostgresEvidenceStore
from adapters.idempotency import IdempotencyStore
from adapters.integrity import IntegrityReport, verify_log
from adapters.migrations.durable import check_at_start
from adapters.policy import load_deadline_policy, load_linkage_policy
from adapters.projections.batch import BatchProjection
from adapters.projections.ledger import LedgerReducer
from adapters.projections.queries import ReadModels
from adapters.projections.runner import ProjectionRunner
from adapters.sessions import login_policy
from adapters.settings import Settings
from adapters.users import UserStore
from adapters.worker.mail import MailJobs, mail_jobs
from adapters.worker.status import OutboxGauge, WorkerStatus
from domain.application import Clock, LastmileApplication
from domain.budget import LinkagePolicy
from domain.calendar import WorkingCalendar


def system_clock() -> datetime:
    return datetime.now(UTC)


def event_store_env(settings: Settings) -> dict[str, str]:
    """The eventsourcing environment for our store; nothing is read from os.environ."""
    return {
        "PERSISTENCE_MODULE": "adapters.eventstore:Factory",
        "SQLALCHEMY_URL": settings.sqlalchemy_url,
        "CREATE_TABLE": "y",
    }


def records_url(settings: Settings) -> str:
    """Where users (and, later, read models) live: the same PostgreSQL, or their own file."""
    if settings.uses_postgres:
        return settings.sqlalchemy_url
    return f"sqlite:///{settings.data_dir.resolve() / 'lastmile.sqlite3'}"


def records_engine(settings: Settings) -> Engine:
    """The engine for users, sessions and read models, tuned for SQLite when embedded."""
    engine = create_engine(records_url(settings), pool_pre_ping=True)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _tune_sqlite)
    return engine


def _tune_sqlite(connection: Any, _record: Any) -> None:
    # WAL lets API readers and the projecting writer work at once; a larger page cache and
    # memory-mapped reads keep report scans off the disk; writers wait instead of failing.
    cursor = connection.cursor()
    for pragma in (
        "journal_mode=WAL",
        "cache_size=-65536",
        "mmap_size=67108864",  # 64 MB: a larger map counted against the 300 MB rebuild budget
        "temp_store=MEMORY",
        "busy_timeout=30000",
    ):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


@dataclass
class Lastmile:
    """The assembled system, as one process uses it."""

    settings: Settings
    app: LastmileApplication
    users: UserStore
    records: Engine
    projections: ProjectionRunner
    read_models: ReadModels
    linkage_policy: LinkagePolicy
    idempotency: IdempotencyStore
    evidence: EvidenceStore
    worker_status: WorkerStatus  # the worker's heartbeat, read by /healthz and /metrics
    outbox: OutboxGauge  # pending and failed mail counts
    mail: MailJobs | None = None  # the worker's mail jobs, when notifications can send

    @property
    def recorder(self) -> ChainedApplicationRecorder:
        recorder = self.app.recorder
        assert isinstance(recorder, ChainedApplicationRecorder)
        return recorder

    def verify(
        self, progress: Callable[[int], None] | None = None, anchors: Collection[str] = ()
    ) -> IntegrityReport:
        """Check the whole log; anchors are head digests recorded earlier, outside the database."""
        return verify_log(self.recorder, progress, anchors)

    def close(self) -> None:
        self.app.close()
        # eventsourcing-sqlalchemy leaves its engine's pooled connections open.
        engine = self.recorder.datastore.engine
        if isinstance(engine, Engine):
            engine.dispose()
        self.records.dispose()


def bootstrap(settings: Settings, clock: Clock = system_clock) -> Lastmile:
    """Build everything from settings; called once per process, never at import."""
    if not settings.uses_postgres:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    calendar, policy = WorkingCalendar(load_holiday_table()), load_deadline_policy(settings.policy)
    records = records_engine(settings)
    try:
        check_at_start(records, embedded=not settings.uses_postgres)  # before any create_tables
    except BaseException:
        records.dispose()
        raise
    app = LastmileApplication(
        env=event_store_env(settings), calendar=calendar, policy=policy, clock=clock
    )
    users = UserStore(records, clock, login_policy(settings))
    users.create_tables()
    projections = ProjectionRunner(
        app,
        records,
        BatchProjection(LedgerReducer(app.calendar, app.policy.verification)),
        listen_url=_psycopg_url(settings),
        batch_size=settings.projection_batch_size,
    )
    projections.create_tables()
    recorder = app.recorder
    assert isinstance(recorder, ChainedApplicationRecorder)
    read_models = ReadModels(records, app.calendar, recorder)
    linkage = load_linkage_policy(settings.policy)
    idempotency = IdempotencyStore(records)
    idempotency.create_tables()
    evidence = evidence_store(settings, records)
    worker_status = WorkerStatus(records, clock)
    worker_status.create_tables()
    return Lastmile(
        settings, app, users, records, projections, read_models, linkage, idempotency, evidence,
        worker_status=worker_status, outbox=OutboxGauge(records),
        mail=mail_jobs(settings, app, users, read_models),
    )  # fmt: skip


def evidence_store(settings: Settings, records: Engine) -> EvidenceStore:
    """Evidence files beside the records in PostgreSQL (shared by every API machine), or on disk."""
    if not settings.uses_postgres:
        return FileEvidenceStore(settings.data_dir.resolve() / "evidence")
    store = PostgresEvidenceStore(records)
    store.create_tables()
    return store


def _psycopg_url(settings: Settings) -> str | None:
    if settings.database_url is None:
        return None
    return settings.sqlalchemy_url.replace("postgresql+psycopg://", "postgresql://", 1)
