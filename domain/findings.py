"""The Finding aggregate (整改事项): one row of the 整改台账 as an immutable event history."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.errors import (
    SegregationOfDutiesError,
    TransitionError,
    ValidationError,
)
from domain.ladder import Step
from domain.policies import DeadlineCalculation
from domain.values import (
    Actor,
    EvidenceItem,
    RectificationClass,
    Role,
    Status,
    optional_text,
    required_text,
)

FINDING_NAMESPACE = uuid5(NAMESPACE_URL, "https://lastmile.example/findings")
OPEN_STATUSES = frozenset({Status.ISSUED, Status.ACKNOWLEDGED, Status.RECTIFIED})
SHA256_PATTERN = re.compile(r"^[0-9a-f]{64}$")
MAX_ESCALATION_LEVEL = 3


def finding_id(order_ref: str, finding_ref: str) -> UUID:
    """The deterministic id of a finding: issuing the same (文号, ref) twice collides."""
    return uuid5(FINDING_NAMESPACE, f"{order_ref.strip()}\x1f{finding_ref.strip()}")


@dataclass(frozen=True)
class ExtensionRequest:
    """A department's request to move the deadline, and what became of it."""

    n: int
    new_due_on: date
    reason: str
    requested_by: str
    decision: str = "pending"  # pending | granted | denied | lapsed (finding closed first)


class Finding(Aggregate):
    """A finding's lifecycle: issued → acknowledged → rectified → verified (or withdrawn)."""

    TOPIC = "lastmile:Finding"

    class Event(Aggregate.Event):
        actor: str
        role: str

        # Events whose actor did the department's part of the work (segregation of duties).
        acts_for_department: ClassVar[bool] = False

        def mutate(self, aggregate: Any) -> Any:
            aggregate = super().mutate(aggregate)
            if type(self).acts_for_department or self.role == Role.DEPARTMENT:
                # Segregation of duties is judged over the whole history, across cycles,
                # by what someone did, whatever role they held when doing it.
                aggregate.department_actors.add(self.actor)
            return aggregate

    class Issued(Event, Aggregate.Created):
        TOPIC = "lastmile:Finding.Issued"
        order_ref: str
        ref: str
        evaluation: str
        department: str
        title: str
        description: str
        category: str
        rectification_class: str
        requirement: str
        issued_on: date
        deadline: DeadlineCalculation
        acknowledge_deadline: DeadlineCalculation

        def apply(self, aggregate: Any) -> None:
            aggregate.on_issued(self)

    # Aggregate.Created would otherwise be re-declared here without a stable topic.
    Created = Issued

    class Acknowledged(Event):
        TOPIC = "lastmile:Finding.Acknowledged"
        acts_for_department = True
        responsible_person: str
        plan: str

        def apply(self, aggregate: Any) -> None:
            aggregate.status = Status.ACKNOWLEDGED
            aggregate.responsible_person = self.responsible_person
            aggregate.acknowledged_at = self.timestamp

    class ProgressReported(Event):
        TOPIC = "lastmile:Finding.ProgressReported"
        acts_for_department = True
        note: str
        percent: int

        def apply(self, aggregate: Any) -> None:
            aggregate.progress_percent = self.percent

    class EvidenceAttached(Event):
        TOPIC = "lastmile:Finding.EvidenceAttached"
        acts_for_department = True
        sha256: str
        name: str
        size: int
        media_type: str

        def apply(self, aggregate: Any) -> None:
            aggregate.evidence[self.sha256] = EvidenceItem(
                self.sha256, self.name, self.size, self.media_type, self.timestamp, aggregate.cycle
            )

    class ExtensionRequested(Event):
        TOPIC = "lastmile:Finding.ExtensionRequested"
        acts_for_department = True
        n: int
        new_due_on: date
        reason: str

        def apply(self, aggregate: Any) -> None:
            request = ExtensionRequest(self.n, self.new_due_on, self.reason, self.actor)
            aggregate.extensions.append(request)

    class ExtensionGranted(Event):
        TOPIC = "lastmile:Finding.ExtensionGranted"
        n: int
        note: str
        deadline: DeadlineCalculation

        def apply(self, aggregate: Any) -> None:
            aggregate.decide_extension_request(self.n, "granted")
            aggregate.deadline = self.deadline

    class ExtensionDenied(Event):
        TOPIC = "lastmile:Finding.ExtensionDenied"
        n: int
        note: str

        def apply(self, aggregate: Any) -> None:
            aggregate.decide_extension_request(self.n, "denied")

    class Rectified(Event):
        TOPIC = "lastmile:Finding.Rectified"
        acts_for_department = True
        measures: str
        evidence: Sequence[str]
        amount_recovered: Decimal
        rules_improved: int

        def apply(self, aggregate: Any) -> None:
            aggregate.status = Status.RECTIFIED
            aggregate.submissions += 1
            aggregate.rectified_at = self.timestamp
            aggregate.amount_recovered = self.amount_recovered
            aggregate.rules_improved = self.rules_improved

    class Verified(Event):
        TOPIC = "lastmile:Finding.Verified"
        note: str

        def apply(self, aggregate: Any) -> None:
            aggregate.status = Status.VERIFIED
            aggregate.verified_at = self.timestamp
            aggregate.lapse_pending_extension()

    class Rejected(Event):
        TOPIC = "lastmile:Finding.Rejected"
        reason: str

        def apply(self, aggregate: Any) -> None:
            aggregate.status = Status.ACKNOWLEDGED
            aggregate.rejections += 1
            # The evaluator held the finding meanwhile: that time is not the department's.
            aggregate.review_periods.append((aggregate.rectified_at, self.timestamp))

    class Escalated(Event):
        TOPIC = "lastmile:Finding.Escalated"
        level: int
        reason: str
        trigger: str  # "manual" or the rule that fired, e.g. "overdue-10wd"

        def apply(self, aggregate: Any) -> None:
            aggregate.escalation_level = self.level

    class ReminderSent(Event):
        TOPIC = "lastmile:Finding.ReminderSent"
        kind: str
        recipients: Sequence[str]
        key: str

        def apply(self, aggregate: Any) -> None:
            aggregate.reminder_keys.add(self.key)

    class NotificationFailed(Event):
        """An e-mail about this finding could not be delivered, after every retry."""

        TOPIC = "lastmile:Finding.NotificationFailed"
        recipient: str
        subject: str
        error: str
        about: str  # the event the mail was about, e.g. "ReminderSent v7"

        def apply(self, aggregate: Any) -> None:
            aggregate.failed_notifications += 1

    class InterviewRecorded(Event):
        TOPIC = "lastmile:Finding.InterviewRecorded"
        held_on: date
        note: str

        def apply(self, aggregate: Any) -> None:
            aggregate.interviews += 1

    class AccountabilityDecided(Event):
        TOPIC = "lastmile:Finding.AccountabilityDecided"
        decision: str
        note: str

        def apply(self, aggregate: Any) -> None:
            aggregate.decisions += 1

    class Reopened(Event):
        TOPIC = "lastmile:Finding.Reopened"
        reason: str
        deadline: DeadlineCalculation

        def apply(self, aggregate: Any) -> None:
            # A new cycle is judged on its own: its own deadlines, reminders and ladder.
            aggregate.status = Status.ACKNOWLEDGED
            aggregate.cycle += 1
            aggregate.original_deadline = self.deadline
            aggregate.deadline = self.deadline
            aggregate.verified_at = None
            aggregate.escalation_level = 0
            aggregate.reminder_keys = set()
            aggregate.review_periods = []

    class Withdrawn(Event):
        TOPIC = "lastmile:Finding.Withdrawn"
        reason: str

        def apply(self, aggregate: Any) -> None:
            aggregate.status = Status.WITHDRAWN
            aggregate.lapse_pending_extension()

    # -- creation ---------------------------------------------------------------

    @staticmethod
    def create_id(order_ref: str, ref: str) -> UUID:
        return finding_id(order_ref, ref)

    @classmethod
    def issue(cls, *, actor: Actor, at: datetime, **fields: Any) -> Finding:
        """Issue one finding of a rectification order (下达整改通知)."""
        return cls._create(cls.Issued, timestamp=at, actor=actor.user_id, role=actor.role, **fields)

    def on_issued(self, event: Finding.Issued) -> None:
        self.order_ref = event.order_ref
        self.ref = event.ref
        self.evaluation = event.evaluation
        self.department = event.department
        self.title = event.title
        self.description = event.description
        self.category = event.category
        self.rectification_class = RectificationClass(event.rectification_class)
        self.requirement = event.requirement
        self.issued_on = event.issued_on
        self.issued_by = event.actor
        self.original_deadline = event.deadline
        self.deadline = event.deadline
        self.acknowledge_deadline = event.acknowledge_deadline
        self.status = Status.ISSUED
        self.cycle = 1
        self.responsible_person = ""
        self.progress_percent = 0
        self.evidence: dict[str, EvidenceItem] = {}
        self.extensions: list[ExtensionRequest] = []
        self.submissions = 0
        self.rejections = 0
        self.escalation_level = 0
        self.reminder_keys: set[str] = set()
        self.interviews = 0
        self.decisions = 0
        self.failed_notifications = 0
        self.amount_recovered = Decimal("0")
        self.rules_improved = 0
        self.department_actors: set[str] = set()
        self.review_periods: list[tuple[datetime, datetime]] = []  # (submitted, sent back)
        self.acknowledged_at: datetime | None = None
        self.rectified_at: datetime | None = None
        self.verified_at: datetime | None = None

    # -- department commands ------------------------------------------------------

    def acknowledge(self, actor: Actor, at: datetime, responsible_person: str, plan: str) -> None:
        """Sign for the order (签收) and name the responsible person."""
        self.check_status("acknowledge", Status.ISSUED)
        person = required_text(responsible_person, "The responsible person", 200)
        self._trigger(self.Acknowledged, actor, at, responsible_person=person, plan=plan)

    def report_progress(self, actor: Actor, at: datetime, note: str, percent: int) -> None:
        """Report progress (报送进展) on an acknowledged finding."""
        self.check_status("report progress", Status.ACKNOWLEDGED)
        if not 0 <= percent <= 100:
            raise ValidationError(f"Progress must be between 0 and 100 percent, not {percent}.")
        text = required_text(note, "The progress note")
        self._trigger(self.ProgressReported, actor, at, note=text, percent=percent)

    def attach_evidence(
        self, actor: Actor, at: datetime, sha256: str, name: str, size: int, media_type: str
    ) -> None:
        """Attach an uploaded file (佐证材料); attaching the same file again changes nothing."""
        self.check_not_closed("attach evidence")
        if not SHA256_PATTERN.match(sha256):
            raise ValidationError(f"{sha256!r} is not a SHA-256 digest (64 lowercase hex digits).")
        if size < 0:
            raise ValidationError(f"A file size cannot be negative ({size}).")
        if sha256 in self.evidence and self.evidence[sha256].cycle == self.cycle:
            return
        self._trigger(
            self.EvidenceAttached,
            actor,
            at,
            sha256=sha256,
            name=required_text(name, "The file name", 255),
            size=size,
            media_type=required_text(media_type, "The media type", 255),
        )

    def request_extension(self, actor: Actor, at: datetime, new_due_on: date, reason: str) -> int:
        """Ask for a later deadline (申请延期); returns the request's number."""
        self.check_status("request an extension", Status.ISSUED, Status.ACKNOWLEDGED)
        if self.pending_extension is not None:
            raise TransitionError(
                f"Extension request {self.pending_extension.n} is still waiting for a decision; "
                "only one request may be pending at a time."
            )
        if new_due_on <= self.deadline.due_on:
            raise ValidationError(
                f"The new deadline {new_due_on} must be later than the current one "
                f"({self.deadline.due_on})."
            )
        n = len(self.extensions) + 1
        text = required_text(reason, "The reason for the extension")
        self._trigger(self.ExtensionRequested, actor, at, n=n, new_due_on=new_due_on, reason=text)
        return n

    def submit_rectification(
        self,
        actor: Actor,
        at: datetime,
        measures: str,
        evidence: Sequence[str],
        amount_recovered: Decimal,
        rules_improved: int,
    ) -> None:
        """Submit the rectification report (提交整改报告) with its evidence."""
        self.check_status("submit a rectification", Status.ACKNOWLEDGED)
        self.check_evidence_listed(evidence)
        if amount_recovered < 0 or rules_improved < 0:
            raise ValidationError("Amount recovered and rules improved cannot be negative.")
        self._trigger(
            self.Rectified,
            actor,
            at,
            measures=required_text(measures, "The measures taken"),
            evidence=tuple(dict.fromkeys(evidence)),
            amount_recovered=amount_recovered,
            rules_improved=rules_improved,
        )

    # -- evaluator commands -------------------------------------------------------

    def grant_extension(
        self, actor: Actor, at: datetime, n: int, note: str, deadline: DeadlineCalculation
    ) -> None:
        """Grant the pending extension request n (批准延期); the original deadline is kept."""
        self.check_pending_extension(n)
        if deadline.due_on <= self.deadline.due_on:
            raise ValidationError(
                f"Extension request {n} asks for {deadline.due_on}, which is not later than "
                f"the current deadline {self.deadline.due_on}; deny it instead."
            )
        self._trigger(
            self.ExtensionGranted,
            actor,
            at,
            n=n,
            note=optional_text(note, "The note"),
            deadline=deadline,
        )

    def deny_extension(self, actor: Actor, at: datetime, n: int, note: str) -> None:
        """Deny the pending extension request n (驳回延期), saying why."""
        self.check_pending_extension(n)
        text = required_text(note, "The reason for denying the extension")
        self._trigger(self.ExtensionDenied, actor, at, n=n, note=text)

    def verify(self, actor: Actor, at: datetime, note: str) -> None:
        """Accept the rectification (核查通过·销号)."""
        self.check_status("verify", Status.RECTIFIED)
        self.check_not_department_actor(actor)
        self._trigger(self.Verified, actor, at, note=optional_text(note, "The note"))

    def reject(self, actor: Actor, at: datetime, reason: str) -> None:
        """Send the rectification back (退回整改), saying why."""
        self.check_status("reject", Status.RECTIFIED)
        self.check_not_department_actor(actor)
        text = required_text(reason, "The reason for sending it back")
        self._trigger(self.Rejected, actor, at, reason=text)

    def reopen(
        self, actor: Actor, at: datetime, reason: str, deadline: DeadlineCalculation
    ) -> None:
        """Start a new rectification cycle (回头看·重新整改); earlier cycles stay as they were."""
        self.check_status("reopen", Status.VERIFIED)
        text = required_text(reason, "The reason for reopening")
        self._trigger(self.Reopened, actor, at, reason=text, deadline=deadline)

    def withdraw(self, actor: Actor, at: datetime, reason: str) -> None:
        """Withdraw the finding (撤销), saying why."""
        self.check_not_closed("withdraw")
        text = required_text(reason, "The reason for withdrawing")
        self._trigger(self.Withdrawn, actor, at, reason=text)

    # -- supervisor and scheduler commands --------------------------------------

    def escalate(self, actor: Actor, at: datetime, level: int, reason: str, trigger: str) -> None:
        """Raise the escalation level (督办/约谈/问责); an automatic repeat changes nothing."""
        self.check_status("escalate", Status.ISSUED, Status.ACKNOWLEDGED, Status.RECTIFIED)
        if not 1 <= level <= MAX_ESCALATION_LEVEL:
            raise ValidationError(f"Escalation level must be 1, 2 or 3, not {level}.")
        if level <= self.escalation_level:
            if trigger != "manual":
                return
            raise TransitionError(
                f"The finding is already at escalation level {self.escalation_level}; "
                f"the level only rises, so level {level} cannot be recorded."
            )
        text = required_text(reason, "The reason for escalating")
        self._trigger(self.Escalated, actor, at, level=level, reason=text, trigger=trigger)

    def record_reminder(
        self, actor: Actor, at: datetime, kind: str, recipients: Sequence[str], key: str
    ) -> None:
        """Record that a reminder went out; the same key twice changes nothing."""
        self.check_status("remind", Status.ISSUED, Status.ACKNOWLEDGED, Status.RECTIFIED)
        # Compare the key as it is stored, so " due-5wd" does not repeat "due-5wd".
        key = required_text(key, "The reminder key", 200)
        if key in self.reminder_keys:
            return
        self._trigger(
            self.ReminderSent,
            actor,
            at,
            kind=required_text(kind, "The reminder kind", 100),
            recipients=tuple(recipients),
            key=key,
        )

    def record_steps(self, actor: Actor, at: datetime, steps: Sequence[Step]) -> None:
        """Record the ladder's due steps: reminders once per key, escalations once per level."""
        for step in steps:
            if step.level is None:
                recipients = [r.value for r in step.recipients]
                self.record_reminder(actor, at, step.kind, recipients, step.key)
            else:
                self.escalate(actor, at, step.level, step.reason, trigger=step.trigger)

    def record_notification_failure(
        self, actor: Actor, at: datetime, recipient: str, subject: str, error: str, about: str
    ) -> None:
        """Record on the trail that a mail was never delivered; allowed in every status."""
        self._trigger(
            self.NotificationFailed,
            actor,
            at,
            recipient=required_text(recipient, "The recipient", 254),
            subject=required_text(subject, "The subject", 500),
            error=required_text(error, "The delivery error", 2000),
            about=required_text(about, "The event the mail was about", 100),
        )

    def record_interview(self, actor: Actor, at: datetime, held_on: date, note: str) -> None:
        """Record an interview (约谈记录); needs escalation level 2 or more."""
        self.check_escalation_at_least(2, "record an interview")
        text = required_text(note, "The interview note")
        self._trigger(self.InterviewRecorded, actor, at, held_on=held_on, note=text)

    def decide_accountability(self, actor: Actor, at: datetime, decision: str, note: str) -> None:
        """Record an accountability decision (问责处理); needs escalation level 3."""
        self.check_escalation_at_least(3, "record an accountability decision")
        text = required_text(decision, "The decision")
        self._trigger(
            self.AccountabilityDecided,
            actor,
            at,
            decision=text,
            note=optional_text(note, "The note"),
        )

    # -- guards -----------------------------------------------------------------

    def check_status(self, action: str, *allowed: Status) -> None:
        if self.status not in allowed:
            names = " or ".join(s.value for s in allowed)
            raise TransitionError(
                f"Cannot {action}: the finding is {self.status.value}, it must be {names}."
            )

    def check_not_closed(self, action: str) -> None:
        self.check_status(action, Status.ISSUED, Status.ACKNOWLEDGED, Status.RECTIFIED)

    def check_pending_extension(self, n: int) -> None:
        # A late deadline granted after verification would turn a late fix into an on-time one.
        self.check_not_closed("decide an extension")
        pending = self.pending_extension
        if pending is None or pending.n != n:
            waiting = f"request {pending.n} is" if pending else "no request is"
            raise TransitionError(
                f"Extension request {n} is not waiting for a decision ({waiting} pending)."
            )

    def check_evidence_listed(self, evidence: Sequence[str]) -> None:
        if not evidence:
            raise ValidationError(
                "A rectification report needs at least one evidence item (见证见据): "
                "upload the supporting files first and list them."
            )
        unknown = [sha for sha in evidence if sha not in self.evidence]
        if unknown:
            raise ValidationError(f"Evidence not attached to this finding: {', '.join(unknown)}.")
        if not any(self.evidence[sha].cycle == self.cycle for sha in evidence):
            raise ValidationError(
                "This finding was reopened: list at least one evidence item uploaded since then."
            )

    def check_not_department_actor(self, actor: Actor) -> None:
        if actor.user_id in self.department_actors:
            raise SegregationOfDutiesError(
                f"User {actor.user_id} acted for the department on this finding, so they may "
                "not verify or reject its rectification; another evaluator must do it."
            )

    def check_escalation_at_least(self, level: int, action: str) -> None:
        self.check_status(action, *OPEN_STATUSES, Status.VERIFIED)
        if self.escalation_level < level:
            raise TransitionError(
                f"Cannot {action}: the finding is at escalation level {self.escalation_level}, "
                f"it must be at least {level}."
            )

    # -- helpers ----------------------------------------------------------------

    @property
    def pending_extension(self) -> ExtensionRequest | None:
        return next((r for r in self.extensions if r.decision == "pending"), None)

    def lapse_pending_extension(self) -> None:
        if self.pending_extension is not None:
            self.decide_extension_request(self.pending_extension.n, "lapsed")

    def decide_extension_request(self, n: int, decision: str) -> None:
        self.extensions = [
            ExtensionRequest(r.n, r.new_due_on, r.reason, r.requested_by, decision)
            if r.n == n
            else r
            for r in self.extensions
        ]

    def _trigger(self, event_class: type[Event], actor: Actor, at: datetime, **fields: Any) -> None:
        # Clocks of several machines may disagree a little; a finding's own history must
        # still read forwards, so "as of" cuts and the trail always agree.
        at = max(at, self.modified_on)
        self.trigger_event(
            event_class, timestamp=at, actor=actor.user_id, role=actor.role.value, **fields
        )
