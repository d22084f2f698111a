"""The Lastmile application: one method per use case, returning ids, results or views."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate, DomainEventProtocol, MutableOrImmutableAggregate
from eventsourcing.persistence import IntegrityError, JSONTranscoder, PersistenceError, Recording
from eventsourcing.utils import EnvType

from domain.budget import Suggestion
from domain.budget_decisions import BudgetDecision, budget_decision_id
from domain.calendar import WorkingCalendar, local_date
from domain.command_cache import CommandCache
from domain.errors import (
    AlreadyExistsError,
    ConcurrencyError,
    DomainError,
    NotFoundError,
    StaleVersionError,
    StoreError,
    ValidationError,
)
from domain.findings import Finding, finding_id
from domain.ladder import due_steps
from domain.ledger import LedgerFacts, LedgerRefusedError, ledger_finding_ids, plan_ledger
from domain.loading import load_many
from domain.orders import issue_findings
from domain.policies import DeadlinePolicy, deadline_for, explicit_deadline
from domain.readers import (
    budget_decision_view,
    clock_state,
    department_view,
    evaluation_view,
    finding_view,
    history_entry,
)
from domain.registry import Department, Evaluation, department_id, evaluation_id
from domain.transcodings import register_domain_transcodings
from domain.values import Actor, Role
from domain.views import (
    BudgetDecisionView,
    CommandResult,
    DepartmentView,
    EvaluationView,
    FindingView,
    HistoryEntry,
    ImportResult,
    LadderClimb,
    LedgerDraft,
    OrderDraft,
)

Clock = Callable[[], datetime]
A = TypeVar("A", bound=Aggregate)

# Concurrent commands on one finding collide at save(); each retry reloads and re-checks.
MAX_ATTEMPTS = 100
# Findings kept after a save so the next command on them skips the reload (see CommandCache).
COMMAND_CACHE_SIZE = 4096
# Who records the ladder's reminders and automatic escalations on the trail.
LADDER_ACTOR = Actor("system:scheduler", Role.SYSTEM)


class LastmileApplication(Application[UUID]):
    """Findings, departments and evaluations, stored as one immutable event log."""

    name = "lastmile"

    def __init__(
        self,
        env: EnvType | None = None,
        *,
        calendar: WorkingCalendar,
        policy: DeadlinePolicy,
        clock: Clock,
    ) -> None:
        super().__init__(env)
        self.calendar = calendar
        self.policy = policy
        self.clock = clock
        self._recent: CommandCache[Finding] = CommandCache(COMMAND_CACHE_SIZE)

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        register_domain_transcodings(transcoder)

    def save(
        self,
        *objs: MutableOrImmutableAggregate[UUID] | DomainEventProtocol[UUID] | None,
        **kwargs: Any,
    ) -> list[Recording[UUID]]:
        """Save; a store that fails for any reason but a collision raises StoreError."""
        try:
            return super().save(*objs, **kwargs)
        except IntegrityError:
            raise  # a collision: the callers retry or refuse it
        except PersistenceError as error:
            # The connection was lost, the disk is full, the database is locked: the
            # transaction was rolled back (or, lost during COMMIT, its outcome is unknown).
            raise StoreError(_unsaved(error)) from error

    # -- registry ----------------------------------------------------------------

    def register_department(
        self,
        actor: Actor,
        code: str,
        name: str,
        contact_email: str | None = None,
        head_email: str | None = None,
    ) -> DepartmentView:
        """Register a department; a code registered before is refused."""
        department = Department.register(actor, self.clock(), code, name, contact_email, head_email)
        self._save_new(department, f"Department {department.code} is already registered.")
        return department_view(department)

    def record_evaluation(self, actor: Actor, **fields: Any) -> EvaluationView:
        """Record an evaluation and its grade; a ref recorded before is refused."""
        evaluation = Evaluation.record(actor, self.clock(), **fields)
        self.department(evaluation.department)
        self._save_new(evaluation, f"Evaluation {evaluation.ref} is already recorded.")
        return evaluation_view(evaluation)

    def department(self, code: str) -> DepartmentView:
        return department_view(self._get(Department, department_id(code), f"Department {code}"))

    def evaluation(self, ref: str) -> EvaluationView:
        """An evaluation by its number (LX-2025-PJ-001) or its id."""
        try:
            key = UUID(ref)
        except ValueError:
            key = evaluation_id(ref)
        return evaluation_view(self._get(Evaluation, key, f"Evaluation {ref}"))

    # -- issuing -----------------------------------------------------------------

    def issue_order(self, actor: Actor, order: OrderDraft) -> list[UUID]:
        """Issue every finding of an order in one transaction; a repeated order is refused."""
        now = self.clock()
        department = self.department(order.department)
        evaluation = self.evaluation(order.evaluation)
        findings = issue_findings(
            actor, now, order, department.code, evaluation.ref, self.calendar, self.policy
        )
        for finding in findings:
            if finding.id in self.repository:
                raise AlreadyExistsError(
                    f"Finding {finding.ref} of order {order.ref} was already issued; "
                    "an order cannot be issued twice."
                )
        self._save_new_all(findings, f"Order {order.ref} was already issued.")
        return [f.id for f in findings]

    def import_ledger(
        self, actor: Actor, ledger: LedgerDraft, *, dry_run: bool = False
    ) -> ImportResult:
        """Record a ledger's new evaluations and issue all its orders in one save, or nothing.

        Raises LedgerRefusedError naming every problem; a dry run judges the same and saves none.
        """
        facts = self._ledger_facts(ledger)
        plan = plan_ledger(actor, self.clock(), ledger, facts, self.calendar, self.policy)
        if plan.problems:
            raise LedgerRefusedError(plan.problems)
        if not dry_run:
            self._save_new_all(
                plan.aggregates, "Part of this ledger was recorded meanwhile; nothing was saved."
            )
        return replace(plan.result, dry_run=dry_run)

    def _ledger_facts(self, ledger: LedgerDraft) -> LedgerFacts:
        named = [o.department for o in ledger.orders] + [e.department for e in ledger.evaluations]
        codes = {code.strip().upper() for code in named}
        refs = {o.evaluation.strip() for o in ledger.orders} | {
            e.ref.strip() for e in ledger.evaluations
        }
        recorded = {}
        for ref in refs:
            with suppress(NotFoundError):
                recorded[ref] = self.evaluation(ref)
        return LedgerFacts(
            departments=frozenset(c for c in codes if department_id(c) in self.repository),
            evaluations=recorded,
            issued=frozenset(i for i in ledger_finding_ids(ledger) if i in self.repository),
        )

    # -- department commands -------------------------------------------------------

    def acknowledge(
        self, finding: UUID, actor: Actor, responsible_person: str, plan: str = "", **kw: Any
    ) -> CommandResult:
        """Sign for a finding (签收)."""
        return self._act(
            finding, lambda f, at: f.acknowledge(actor, at, responsible_person, plan), **kw
        )

    def report_progress(
        self, finding: UUID, actor: Actor, note: str, percent: int, **kw: Any
    ) -> CommandResult:
        """Report progress (报送进展)."""
        return self._act(finding, lambda f, at: f.report_progress(actor, at, note, percent), **kw)

    def attach_evidence(
        self,
        finding: UUID,
        actor: Actor,
        sha256: str,
        name: str,
        size: int,
        media_type: str,
        **kw: Any,
    ) -> CommandResult:
        """Attach an uploaded file (佐证材料) by its SHA-256."""
        return self._act(
            finding,
            lambda f, at: f.attach_evidence(actor, at, sha256, name, size, media_type),
            **kw,
        )

    def request_extension(
        self, finding: UUID, actor: Actor, new_due_on: date, reason: str, **kw: Any
    ) -> CommandResult:
        """Ask for a later deadline (申请延期)."""
        return self._act(
            finding, lambda f, at: f.request_extension(actor, at, new_due_on, reason), **kw
        )

    def submit_rectification(
        self,
        finding: UUID,
        actor: Actor,
        measures: str,
        evidence: Sequence[str],
        amount_recovered: Decimal = Decimal("0"),
        rules_improved: int = 0,
        **kw: Any,
    ) -> CommandResult:
        """Submit the rectification report (提交整改报告)."""
        return self._act(
            finding,
            lambda f, at: f.submit_rectification(
                actor, at, measures, evidence, amount_recovered, rules_improved
            ),
            **kw,
        )

    # -- evaluator commands --------------------------------------------------------

    def decide_extension(
        self, finding: UUID, actor: Actor, n: int, approved: bool, note: str = "", **kw: Any
    ) -> CommandResult:
        """Grant or deny extension request n (批准/驳回延期)."""

        def decide(f: Finding, at: datetime) -> None:
            if not approved:
                f.deny_extension(actor, at, n, note)
                return
            f.check_pending_extension(n)
            new_due_on, today = f.extensions[n - 1].new_due_on, local_date(at)
            if new_due_on < today:
                raise ValidationError(
                    f"Extension request {n} asked for {new_due_on}, which has passed; "
                    "deny it and let the department ask again."
                )
            basis = note.strip() or "延期申请经评价人员批准"
            deadline = explicit_deadline(
                new_due_on, today, self.calendar, rule_name="extension", basis=basis
            )
            f.grant_extension(actor, at, n, note, deadline)

        return self._act(finding, decide, **kw)

    def verify(self, finding: UUID, actor: Actor, note: str = "", **kw: Any) -> CommandResult:
        """Accept a rectification (核查通过·销号)."""
        return self._act(finding, lambda f, at: f.verify(actor, at, note), **kw)

    def reject(self, finding: UUID, actor: Actor, reason: str, **kw: Any) -> CommandResult:
        """Send a rectification back (退回整改)."""
        return self._act(finding, lambda f, at: f.reject(actor, at, reason), **kw)

    def reopen(
        self, finding: UUID, actor: Actor, reason: str, due_on: date | None = None, **kw: Any
    ) -> CommandResult:
        """Start a new rectification cycle on a verified finding (回头看)."""

        def reopen(f: Finding, at: datetime) -> None:
            today = local_date(at)
            if due_on is None:
                rule = self.policy.classes[f.rectification_class.value]
                deadline = deadline_for(
                    f"class:{f.rectification_class.value}", rule, today, self.calendar
                )
            elif due_on <= today:
                raise ValidationError(f"The new deadline {due_on} must be after today ({today}).")
            else:
                deadline = explicit_deadline(due_on, today, self.calendar)
            f.reopen(actor, at, reason, deadline)

        return self._act(finding, reopen, **kw)

    def withdraw(self, finding: UUID, actor: Actor, reason: str, **kw: Any) -> CommandResult:
        """Withdraw a finding (撤销)."""
        return self._act(finding, lambda f, at: f.withdraw(actor, at, reason), **kw)

    # -- supervisor and scheduler commands ---------------------------------------

    def escalate(
        self,
        finding: UUID,
        actor: Actor,
        level: int,
        reason: str,
        trigger: str = "manual",
        **kw: Any,
    ) -> CommandResult:
        """Escalate (督办/约谈/问责); automatic repeats of a level change nothing."""
        return self._act(finding, lambda f, at: f.escalate(actor, at, level, reason, trigger), **kw)

    def record_reminder(
        self,
        finding: UUID,
        actor: Actor,
        kind: str,
        recipients: Sequence[str],
        key: str,
        **kw: Any,
    ) -> CommandResult:
        """Record a reminder sent; the same key twice changes nothing."""
        return self._act(
            finding, lambda f, at: f.record_reminder(actor, at, kind, recipients, key), **kw
        )

    def record_notification_failure(
        self, finding: UUID, actor: Actor, recipient: str, subject: str, error: str, about: str
    ) -> CommandResult:
        """Record that a mail about the finding was given up on (permanent delivery failure)."""
        return self._act(
            finding,
            lambda f, at: f.record_notification_failure(
                actor, at, recipient, subject, error, about
            ),
        )

    def climb_ladder(self, finding: UUID) -> CommandResult:
        """Record the reminders and escalations due now (PRODUCT.md §5), each only once."""
        return self._act(finding, self._climb)

    def climb_ladders(self, findings: Sequence[UUID]) -> list[LadderClimb]:
        """Climb many findings' ladders, recording their due steps in one transaction.

        Each finding decides on its own stored state, as climb_ladder does. If another
        writer changed one of them after it was read, the transaction records nothing and
        each finding is climbed on its own instead, reloaded and retried as climb_ladder
        is, so every step is still recorded once. Results come in the order of `findings`,
        one per finding. A finding that does not exist raises NotFoundError and nothing is
        recorded.
        """
        ids = list(dict.fromkeys(findings))  # a finding named twice is climbed once
        loaded = load_many(self, ids)
        aggregates = [self._loaded_finding(loaded, finding) for finding in ids]
        now = self.clock()
        counts = []
        for aggregate in aggregates:
            self._climb(aggregate, now)
            counts.append(len(aggregate.pending_events))
        changed = [a for a in aggregates if a.pending_events]
        try:
            recordings = self.save(*changed) if changed else []
        except IntegrityError:
            # Another writer got to one of them first and nothing was recorded; these
            # copies have given up their events, so each finding is climbed afresh.
            return [self._climb_alone(finding) for finding in ids]
        positions = {r.domain_event.originator_id: r.notification.id for r in recordings}
        climbs = []
        for aggregate, count in zip(aggregates, counts, strict=True):
            position = positions.get(aggregate.id)
            climbs.append(LadderClimb(aggregate.id, aggregate.version, count, position))
            self._recent.put(aggregate.id, aggregate)  # ours alone: never touched again here
        return climbs

    def _climb_alone(self, finding: UUID) -> LadderClimb:
        recorded = 0

        def climb(f: Finding, at: datetime) -> None:
            nonlocal recorded  # the attempt that saves is the last one to set it
            self._climb(f, at)
            recorded = len(f.pending_events)

        result = self._act(finding, climb)
        events = recorded if result.position is not None else 0
        return LadderClimb(finding, result.version, events, result.position)

    def _climb(self, finding: Finding, at: datetime) -> None:
        # Decided on the aggregate as loaded, so a stale read model cannot mislead it.
        state = clock_state(finding, at, self.calendar)
        steps = due_steps(state, local_date(at), self.policy.ladder, self.calendar)
        finding.record_steps(LADDER_ACTOR, at, steps)

    @staticmethod
    def _loaded_finding(loaded: Mapping[UUID, Aggregate], finding: UUID) -> Finding:
        aggregate = loaded.get(finding)
        if not isinstance(aggregate, Finding):
            raise NotFoundError(f"Finding {finding} does not exist.")
        return aggregate

    def record_interview(
        self, finding: UUID, actor: Actor, held_on: date, note: str, **kw: Any
    ) -> CommandResult:
        """Record an interview (约谈记录)."""
        return self._act(finding, lambda f, at: f.record_interview(actor, at, held_on, note), **kw)

    def decide_accountability(
        self, finding: UUID, actor: Actor, decision: str, note: str = "", **kw: Any
    ) -> CommandResult:
        """Record an accountability decision (问责处理)."""
        return self._act(
            finding, lambda f, at: f.decide_accountability(actor, at, decision, note), **kw
        )

    # -- queries -----------------------------------------------------------------

    def finding(self, finding: UUID, as_of: datetime | None = None) -> FindingView:
        """The finding as it stood at as_of (default: now), overdue judged at that moment."""
        moment = as_of or self.clock()
        version = self._version_at(finding, moment)
        aggregate: Finding = self.repository.get(finding, version=version)
        return finding_view(aggregate, moment, self.calendar)

    def finding_by_ref(
        self, order_ref: str, ref: str, as_of: datetime | None = None
    ) -> FindingView:
        return self.finding(finding_id(order_ref, ref), as_of)

    def history(self, finding: UUID, as_of: datetime | None = None) -> list[HistoryEntry]:
        """Every event of the finding's trail, oldest first (up to as_of when given)."""
        events = [e for e in self._finding_events(finding) if as_of is None or e.timestamp <= as_of]
        if not events:
            raise NotFoundError(f"Finding {finding} does not exist{_at(as_of)}.")
        return [history_entry(e) for e in events]

    # -- plumbing ----------------------------------------------------------------

    def _act(
        self,
        finding: UUID,
        command: Callable[[Finding, datetime], object],
        expected_version: int | None = None,
    ) -> CommandResult:
        for attempt in range(MAX_ATTEMPTS):
            aggregate, cached = self._load_for_command(finding, expected_version)
            if expected_version is not None and aggregate.version != expected_version:
                raise _stale(aggregate, expected_version, aggregate.version)
            try:
                command(aggregate, self.clock())
            except DomainError:
                if cached:
                    continue  # a refusal must be judged on the stored state, not a copy
                raise
            if not aggregate.pending_events:
                if cached:
                    continue  # and so must "nothing to do"
                self._recent.put(finding, aggregate)
                return self._result(aggregate, None)
            recordings = self._save_unless_collided(aggregate, expected_version)
            if recordings is None:
                if not cached:
                    _back_off(attempt)
                continue
            result = self._result(aggregate, _position(recordings))
            self._recent.put(finding, aggregate)
            return result
        raise ConcurrencyError(
            f"{_label(aggregate)} is being changed by many users at once; please try again."
        )

    def _save_unless_collided(
        self, aggregate: Finding, expected_version: int | None
    ) -> list[Any] | None:
        """Save; None when another writer took the same version first."""
        try:
            return self.save(aggregate)
        except IntegrityError as error:
            stored = self.recorder.select_events(aggregate.id, desc=True, limit=1)
            if not stored or stored[0].originator_version < aggregate.version:
                # Not a race: the store refused the row for another reason.
                raise StoreError(f"The event store refused a write: {error}") from error
            if expected_version is not None:
                raise _stale(aggregate, expected_version, stored[0].originator_version) from None
            return None

    def _result(self, aggregate: Finding, position: int | None) -> CommandResult:
        # Built while the aggregate is still ours alone, before it goes back to the cache.
        view = finding_view(aggregate, self.clock(), self.calendar)
        return CommandResult(aggregate.id, aggregate.version, position, view)

    def department_of(self, finding: UUID) -> str:
        """The department a finding belongs to; it never changes, so a cached copy answers."""
        recent = self._recent.peek(finding)
        if recent is not None:
            return recent.department
        return self._get(Finding, finding, f"Finding {finding}").department

    def _load_for_command(
        self, finding: UUID, expected_version: int | None
    ) -> tuple[Finding, bool]:
        """The finding as this process last saved it, else as stored; and which it was."""
        recent = self._recent.take(finding)
        if recent is not None and expected_version in (None, recent.version):
            return recent, True
        return self._get(Finding, finding, f"Finding {finding}"), False

    def _get(self, kind: type[A], aggregate_id: UUID, label: str) -> A:
        try:
            aggregate: Aggregate = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            raise NotFoundError(f"{label} does not exist.") from None
        if not isinstance(aggregate, kind):
            raise NotFoundError(f"{label} does not exist.")
        return aggregate

    def _version_at(self, finding: UUID, moment: datetime) -> int:
        version = None
        for event in self._finding_events(finding):
            if event.timestamp > moment:
                break
            version = event.originator_version
        if version is None:
            raise NotFoundError(f"Finding {finding} does not exist{_at(moment)}.")
        return version

    def _finding_events(self, finding: UUID) -> list[Finding.Event]:
        return [e for e in self.events.get(finding) if isinstance(e, Finding.Event)]

    def _save_new(self, aggregate: Aggregate, duplicate_message: str) -> None:
        self._save_new_all([aggregate], duplicate_message)

    def _save_new_all(self, aggregates: Sequence[Aggregate], duplicate_message: str) -> None:
        if any(a.id in self.repository for a in aggregates):
            raise AlreadyExistsError(duplicate_message)
        try:
            self.save(*aggregates)
        except IntegrityError:
            # Another request created the same natural key between our check and save.
            raise AlreadyExistsError(duplicate_message) from None

    # -- budget linkage (结果应用) ---------------------------------------------------

    def confirm_budget_decision(
        self,
        actor: Actor,
        suggestion: Suggestion,
        accepted: bool,
        amount: Decimal | None = None,
        note: str = "",
    ) -> UUID:
        """Confirm or turn down a budget suggestion; once per evaluation and budget year."""
        self._check_suggestion_facts(suggestion)
        decision = BudgetDecision.confirm(actor, self.clock(), suggestion, accepted, amount, note)
        self._save_new(
            decision,
            f"The {suggestion.budget_year} budget decision on evaluation "
            f"{suggestion.evaluation_ref} was already confirmed; it cannot be confirmed twice.",
        )
        return decision.id

    def budget_decision(self, budget_year: int, evaluation_ref: str) -> BudgetDecisionView | None:
        """The decision on an evaluation for a budget year; None while none is confirmed."""
        try:
            decision: Aggregate = self.repository.get(
                budget_decision_id(budget_year, evaluation_ref)
            )
        except AggregateNotFoundError:
            return None
        return budget_decision_view(decision) if isinstance(decision, BudgetDecision) else None

    def _check_suggestion_facts(self, suggestion: Suggestion) -> None:
        # Suggestions are computed from read models; refuse one whose evaluation the log
        # does not hold, or holds with other facts (an evaluation never changes once recorded).
        recorded = self.evaluation(suggestion.evaluation_ref)
        facts = ("department", "grade", "score", "budget_amount")
        if any(getattr(suggestion, f) != getattr(recorded, f) for f in facts):
            raise ValidationError(
                f"The suggestion for evaluation {recorded.ref} was computed from facts that "
                "differ from the recorded evaluation; compute it again."
            )


def _position(recordings: Sequence[Any]) -> int | None:
    return recordings[-1].notification.id if recordings else None


def _label(finding: Finding) -> str:
    return f"Finding {finding.ref} of order {finding.order_ref}"


def _stale(finding: Finding, expected: int, actual: int) -> StaleVersionError:
    return StaleVersionError(
        f"{_label(finding)} was changed by someone else: you acted on version {expected}, "
        f"it is now at version {actual}. Reload it and try again."
    )


def _back_off(attempt: int) -> None:
    # Jitter spreads colliding writers apart so they stop colliding on the next attempt.
    time.sleep(random.uniform(0, min(0.05, 0.002 * (attempt + 1))))


def _unsaved(error: PersistenceError) -> str:
    text = str(error).strip()
    reason = text.splitlines()[0] if text else type(error).__name__
    # SQLAlchemy names the statement that failed; None means COMMIT itself failed. Any
    # other failure rolled the transaction back.
    failed_statement = getattr(error.__cause__, "statement", "unknown")
    if failed_statement is None:
        return (
            f"The event store failed while committing ({reason}); the change may not have "
            "been recorded: reload before trying again."
        )
    return f"The event store failed while saving ({reason}); nothing was recorded."


def _at(moment: datetime | None) -> str:
    return f" as of {moment.isoformat()}" if moment else ""
