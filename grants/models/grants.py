"""Grants, their milestones and the reviewers assigned to them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grants.domain.states import GrantState, MilestoneState
from grants.models.accounts import Organization, User
from grants.models.applications import Application
from grants.models.base import Base, BigId, UTCDateTime, Yen, utcnow
from grants.models.programs import Program, RuleSet


class Grant(Base):
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


class Milestone(Base):
    __tablename__ = "milestone"
    __table_args__ = (
        UniqueConstraint("grant_id", "sequence"),
        CheckConstraint("tranche_amount >= 0", name="tranche_not_negative"),
        # Approved tranches still to release, oldest due first, without reading released ones.
        Index("ix_milestone_state_released_at_due_date", "state", "released_at", "due_date"),
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


class ReviewerAssignment(Base):
    __tablename__ = "reviewer_assignment"
    __table_args__ = (UniqueConstraint("grant_id", "reviewer_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    grant_id: Mapped[int] = mapped_column(ForeignKey("grant_award.id"), index=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    reviewer: Mapped[User] = relationship(foreign_keys=[reviewer_id])


class ConflictDeclaration(Base):
    """A reviewer's own declaration of a conflict with an organisation or a grant."""

    __tablename__ = "conflict_declaration"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id"))
    grant_id: Mapped[int | None] = mapped_column(ForeignKey("grant_award.id"))
    note: Mapped[str] = mapped_column(String(500))
    declared_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
