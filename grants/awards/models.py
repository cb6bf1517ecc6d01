"""The funded grant's record: every table the grant's pages, rules and scans read.

Grants, their milestones and the reviewers assigned to them (their declared conflicts are
the accounts feature's: merit review reads them too);
evidence submitted for a milestone, its files, and the reviewers' decisions; money
movements (tranche releases, releases prepared for a second officer's approval, VC paid-in
investments); amendment requests (a new due date, or a re-split of the remaining tranches).
The use cases that write them live in the
features above (milestones, investments, releases, amendments).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grants.accounts.models import Organization, User
from grants.applications.models import Application
from grants.awards.rules import PreparedReleaseState
from grants.core.changes import Changing
from grants.core.models import Base, BigId, UTCDateTime, Yen, utcnow
from grants.core.states import (
    AmendmentKind,
    AmendmentState,
    GrantState,
    MilestoneState,
    ReviewDecision,
)
from grants.programs.models import Program
from grants.rulesets.models import RuleSet


class Grant(Changing, Base):
    __tablename__ = "grant_award"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id"), unique=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("program.id"), index=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    ruleset_id: Mapped[int] = mapped_column(ForeignKey("rule_set.id"))
    award_amount: Mapped[int] = mapped_column(Yen)
    state: Mapped[GrantState] = mapped_column(
        Enum(GrantState, native_enum=False, length=20), index=True
    )
    awarded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    awarded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    award_trace: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    terminated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    termination_reason: Mapped[str | None] = mapped_column(Text)

    application: Mapped[Application] = relationship()
    program: Mapped[Program] = relationship()
    organization: Mapped[Organization] = relationship()
    ruleset: Mapped[RuleSet] = relationship()
    milestones: Mapped[list[Milestone]] = relationship(
        back_populates="grant", order_by="Milestone.sequence"
    )


class Milestone(Changing, Base):
    __tablename__ = "milestone"
    __table_args__ = (
        UniqueConstraint("grant_id", "sequence"),
        CheckConstraint("tranche_amount >= 0", name="tranche_not_negative"),
        # Approved tranches still to release, oldest due first, without reading released ones.
        Index("ix_milestone_state_released_at_due_date", "state", "released_at", "due_date"),
        # The milestones list by fiscal year (and state), in due order, and the grants with a
        # milestone in a fiscal year.
        Index("ix_milestone_fiscal_year_state_due_date", "fiscal_year", "state", "due_date"),
        # Whether an earlier milestone of the grant is still open (which one is the next
        # open milestone: the overdue grants), from the index alone.
        Index("ix_milestone_grant_id_sequence_state", "grant_id", "sequence", "state"),
        # The few milestones the scan flagged overdue, with what tells whether each is its
        # grant's next open one and what the overdue lists sort by: from the index alone.
        Index(
            "ix_milestone_flagged",
            "overdue_since",
            "grant_id",
            "sequence",
            "state",
            "due_date",
            sqlite_where=text("overdue_since IS NOT NULL"),
            postgresql_where=text("overdue_since IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    grant_id: Mapped[int] = mapped_column(ForeignKey("grant_award.id"), index=True)
    sequence: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    criteria: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    due_date: Mapped[date] = mapped_column(Date, index=True)
    tranche_amount: Mapped[int] = mapped_column(Yen)
    fiscal_year: Mapped[int] = mapped_column(Integer)
    state: Mapped[MilestoneState] = mapped_column(
        Enum(MilestoneState, native_enum=False, length=30), index=True
    )
    round: Mapped[int] = mapped_column(Integer, default=0)
    overdue_since: Mapped[date | None] = mapped_column(Date)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When its tranche was disbursed (the disbursement row is the record; this indexes it).
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    grant: Mapped[Grant] = relationship(back_populates="milestones")


class ReviewerAssignment(Changing, Base):
    __tablename__ = "reviewer_assignment"
    __table_args__ = (UniqueConstraint("grant_id", "reviewer_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    grant_id: Mapped[int] = mapped_column(ForeignKey("grant_award.id"), index=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    reviewer: Mapped[User] = relationship(foreign_keys=[reviewer_id])


class EvidenceSubmission(Changing, Base):
    __tablename__ = "evidence_submission"
    __table_args__ = (UniqueConstraint("milestone_id", "round"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    milestone_id: Mapped[int] = mapped_column(ForeignKey("milestone.id"), index=True)
    round: Mapped[int] = mapped_column(Integer)
    narrative: Mapped[str] = mapped_column(Text)
    measured: Mapped[list[dict[str, Any]]] = mapped_column(JSON)  # [{metric, target, unit, value}]
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    files: Mapped[list[EvidenceFile]] = relationship(back_populates="submission")


class EvidenceFile(Base):
    __tablename__ = "evidence_file"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("evidence_submission.id"), index=True)
    original_name: Mapped[str] = mapped_column(String(255))
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    # A spreadsheet (CSV, XLSX) with cells a spreadsheet program would evaluate: reviewers
    # are warned before they open it. Set when the file is checked at upload.
    has_formulas: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    submission: Mapped[EvidenceSubmission] = relationship(back_populates="files")


class Review(Changing, Base):
    """One reviewer's decision on one submission round."""

    __tablename__ = "review"
    __table_args__ = (UniqueConstraint("submission_id", "reviewer_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    milestone_id: Mapped[int] = mapped_column(ForeignKey("milestone.id"), index=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("evidence_submission.id"))
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    decision: Mapped[ReviewDecision] = mapped_column(
        Enum(ReviewDecision, native_enum=False, length=20)
    )
    comment: Mapped[str] = mapped_column(Text)
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    reviewer: Mapped[User] = relationship()


class Disbursement(Changing, Base):
    """A released tranche. At most one per milestone (unique milestone_id).

    `amount` is what the grantee was paid. `set_off` is what was kept back from the tranche
    to settle an earlier period's advance above its final amount (相殺): the pool of this
    fiscal year released amount + set_off, and the earlier period's pool got set_off back.
    """

    __tablename__ = "disbursement"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    milestone_id: Mapped[int] = mapped_column(ForeignKey("milestone.id"), unique=True)
    grant_id: Mapped[int] = mapped_column(ForeignKey("grant_award.id"), index=True)
    budget_pool_id: Mapped[int] = mapped_column(ForeignKey("budget_pool.id"), index=True)
    amount: Mapped[int] = mapped_column(Yen)
    fiscal_year: Mapped[int] = mapped_column(Integer)
    released_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    released_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    set_off: Mapped[int] = mapped_column(Yen, default=0, server_default="0")


class Settlement(Changing, Base):
    """The final amount (額の確定) of one period of a grant, confirmed once by a second
    officer: unique per grant and period.

    `decided` is the period's tranches, `final_amount` the lower of them and the subsidy on
    the eligible cost (`trace` explains every figure). Paid after settlement (精算払),
    `shares` says what each milestone's release pays ({milestone id: yen}). Paid in advance
    (概算払), `advance_paid` was paid already and `excess` is what comes back: returned by
    `return_due_on` (received on `returned_on`) or set off against the next tranche
    (`set_off_disbursement_id` once it was).
    """

    __tablename__ = "settlement"
    __table_args__ = (
        UniqueConstraint("grant_id", "period"),
        CheckConstraint("final_amount >= 0", name="final_amount_not_negative"),
        CheckConstraint("excess >= 0", name="excess_not_negative"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    grant_id: Mapped[int] = mapped_column(ForeignKey("grant_award.id"), index=True)
    period: Mapped[str] = mapped_column(String(20))
    fiscal_year: Mapped[int] = mapped_column(Integer)
    milestone_id: Mapped[int | None] = mapped_column(ForeignKey("milestone.id"))
    payment: Mapped[str] = mapped_column(String(20))
    decided: Mapped[int] = mapped_column(Yen)
    final_amount: Mapped[int] = mapped_column(Yen)
    shares: Mapped[dict[str, int]] = mapped_column(JSON)
    advance_paid: Mapped[int] = mapped_column(Yen, default=0)
    excess: Mapped[int] = mapped_column(Yen, default=0)
    excess_method: Mapped[str | None] = mapped_column(String(20))
    # From a fund (基金): what the final amount cut from tranches still to pay, carried over
    # to the grant's next open milestone (its tranche grew by it); otherwise 0 (it lapsed).
    carried: Mapped[int] = mapped_column(Yen, default=0, server_default="0")
    carried_to_id: Mapped[int | None] = mapped_column(ForeignKey("milestone.id"))
    return_due_on: Mapped[date | None] = mapped_column(Date)
    returned_on: Mapped[date | None] = mapped_column(Date)
    set_off_disbursement_id: Mapped[int | None] = mapped_column(ForeignKey("disbursement.id"))
    trace: Mapped[dict[str, Any]] = mapped_column(JSON)
    confirmed_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    confirmed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


_PENDING = text("state = 'pending'")


class PreparedRelease(Base):
    """A tranche release prepared by one officer, waiting for another to approve it (a tranche
    above its programme's release threshold). The approval makes the disbursement."""

    __tablename__ = "prepared_release"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        # At most one prepared release of a tranche waits at a time.
        Index(
            "uq_prepared_release_pending_milestone",
            "milestone_id",
            unique=True,
            sqlite_where=_PENDING,
            postgresql_where=_PENDING,
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    milestone_id: Mapped[int] = mapped_column(ForeignKey("milestone.id"), index=True)
    grant_id: Mapped[int] = mapped_column(ForeignKey("grant_award.id"), index=True)
    amount: Mapped[int] = mapped_column(Yen)  # the tranche as prepared: approved only unchanged
    fiscal_year: Mapped[int] = mapped_column(Integer)
    state: Mapped[PreparedReleaseState] = mapped_column(
        Enum(PreparedReleaseState, native_enum=False, length=20), index=True
    )
    prepared_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    prepared_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    disbursement_id: Mapped[int | None] = mapped_column(ForeignKey("disbursement.id"))

    milestone: Mapped[Milestone] = relationship()
    prepared_by: Mapped[User] = relationship(foreign_keys=[prepared_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])


class Investment(Base):
    """Paid-in money from a certified VC, recorded and then verified by an officer."""

    __tablename__ = "investment"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    grant_id: Mapped[int] = mapped_column(ForeignKey("grant_award.id"), index=True)
    vc_organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    amount: Mapped[int] = mapped_column(Yen)
    paid_on: Mapped[date] = mapped_column(Date)
    evidence: Mapped[str] = mapped_column(String(500))
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    vc: Mapped[Organization] = relationship()


class Amendment(Base):
    __tablename__ = "amendment"
    # The requests waiting for a decision (or in any state), oldest first, across grants.
    __table_args__ = (Index("ix_amendment_state_requested_at", "state", "requested_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    grant_id: Mapped[int] = mapped_column(ForeignKey("grant_award.id"), index=True)
    milestone_id: Mapped[int | None] = mapped_column(ForeignKey("milestone.id"))
    kind: Mapped[AmendmentKind] = mapped_column(Enum(AmendmentKind, native_enum=False, length=20))
    state: Mapped[AmendmentState] = mapped_column(
        Enum(AmendmentState, native_enum=False, length=20), index=True
    )
    new_due_date: Mapped[date | None] = mapped_column(Date)
    new_split: Mapped[dict[str, int] | None] = mapped_column(JSON)  # {milestone_id: yen}
    reason: Mapped[str] = mapped_column(Text)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str | None] = mapped_column(Text)
    snapshot: Mapped[dict[str, Any] | None] = mapped_column(JSON)
