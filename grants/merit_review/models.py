"""Merit review's tables: reviewers assigned to applications, their scores, the hearing's
shortlist, and the reasons recorded when an award departs from the ranking.

The rubric is not a table: it is a section of the rule set document (grants.rules.rubric),
versioned and published with the rules; an application is scored against the rubric of the
rule set pinned at its submission (application.ruleset_id).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grants.accounts.models import User
from grants.applications.models import Application
from grants.core.changes import Changing
from grants.core.models import Base, BigId, UTCDateTime, utcnow

STAGES = ("written", "hearing")


class MeritAssignment(Changing, Base):
    """A reviewer on an application's panel for one stage, with a deadline; `submitted_at`
    is set once, when the reviewer submits every criterion's score (then final)."""

    __tablename__ = "merit_assignment"
    __table_args__ = (
        UniqueConstraint("application_id", "reviewer_id", "stage"),
        CheckConstraint("stage IN ('written', 'hearing')", name="stage_known"),
        # The scan's candidates: open assignments by deadline, without reading submitted ones.
        Index("ix_merit_assignment_submitted_at_due_on", "submitted_at", "due_on"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id"), index=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    stage: Mapped[str] = mapped_column(String(10))
    due_on: Mapped[date] = mapped_column(Date)
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    application: Mapped[Application] = relationship()
    reviewer: Mapped[User] = relationship(foreign_keys=[reviewer_id])
    scores: Mapped[list[MeritScore]] = relationship(
        back_populates="assignment", order_by="MeritScore.id"
    )


class MeritScore(Changing, Base):
    """One criterion's score and comment, written with the reviewer's submission."""

    __tablename__ = "merit_score"
    __table_args__ = (UniqueConstraint("assignment_id", "criterion_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("merit_assignment.id"))
    criterion_id: Mapped[str] = mapped_column(String(64))
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text)

    assignment: Mapped[MeritAssignment] = relationship(back_populates="scores")


class HearingShortlist(Changing, Base):
    """An application the officer sent on to the hearing, with its written rank then."""

    __tablename__ = "hearing_shortlist"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id"), unique=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("program.id"), index=True)
    written_rank: Mapped[int] = mapped_column(Integer)
    written_score: Mapped[str] = mapped_column(String(60))  # the exact Fraction, "a/b"
    shortlisted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    shortlisted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RankingDeparture(Changing, Base):
    """Why an award did not follow the ranking: the application was below the funding line,
    or applications ranked above it were still undecided (written by the award use case)."""

    __tablename__ = "ranking_departure"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id"), unique=True)
    rank: Mapped[int | None] = mapped_column(Integer)  # None: it was not ranked at all
    below_line: Mapped[bool] = mapped_column(Boolean, default=False)
    passed_over: Mapped[list[int]] = mapped_column(JSON)  # ids of higher-ranked applications
    reason: Mapped[str] = mapped_column(Text)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
