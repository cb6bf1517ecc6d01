"""Applications: the proposal, its milestone plan and its declared co-investments."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    Enum,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grants.accounts.models import Organization
from grants.core.changes import Changing
from grants.core.models import Base, BigId, UTCDateTime, Yen, utcnow
from grants.core.states import ApplicationState
from grants.programs.models import Program
from grants.rulesets.models import RuleSet


class Application(Base):
    __tablename__ = "application"
    __table_args__ = (
        CheckConstraint("eligible_cost >= 0", name="eligible_cost_not_negative"),
        CheckConstraint("indirect_cost >= 0", name="indirect_cost_not_negative"),
        CheckConstraint("requested_subsidy >= 0", name="requested_subsidy_not_negative"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("program.id"), index=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    title: Mapped[str] = mapped_column(String(300))
    theme: Mapped[str] = mapped_column(String(30))
    modality: Mapped[str] = mapped_column(String(30))
    stage: Mapped[str] = mapped_column(String(30))
    eligible_cost: Mapped[int] = mapped_column(Yen)
    indirect_cost: Mapped[int] = mapped_column(Yen)
    requested_subsidy: Mapped[int] = mapped_column(Yen)
    project_start: Mapped[date] = mapped_column(Date)
    project_end: Mapped[date] = mapped_column(Date)
    state: Mapped[ApplicationState] = mapped_column(
        Enum(ApplicationState, native_enum=False, length=30), index=True
    )
    submitted_on: Mapped[date | None] = mapped_column(Date)
    ruleset_id: Mapped[int | None] = mapped_column(ForeignKey("rule_set.id"))
    eligibility_trace: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    decision_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    program: Mapped[Program] = relationship()
    organization: Mapped[Organization] = relationship()
    ruleset: Mapped[RuleSet | None] = relationship()
    plan: Mapped[list[PlannedMilestone]] = relationship(
        back_populates="application",
        order_by="PlannedMilestone.sequence",
        cascade="all, delete-orphan",
    )
    co_investments: Mapped[list[CoInvestment]] = relationship(
        back_populates="application", cascade="all, delete-orphan"
    )


class PlannedMilestone(Base):
    """A milestone as proposed; copied into the grant's milestones at award."""

    __tablename__ = "planned_milestone"
    __table_args__ = (
        UniqueConstraint("application_id", "sequence"),
        CheckConstraint("tranche_amount >= 0", name="tranche_not_negative"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id"))
    sequence: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    criteria: Mapped[list[dict[str, str]]] = mapped_column(JSON)  # [{metric, target, unit}]
    due_date: Mapped[date] = mapped_column(Date)
    tranche_amount: Mapped[int] = mapped_column(Yen)

    application: Mapped[Application] = relationship(back_populates="plan")


class CoInvestment(Changing, Base):
    """An investor's committed investment, as declared in the application: any organisation;
    the eligibility rules count only the money of VCs certified on the day in question."""

    __tablename__ = "co_investment"
    __table_args__ = (
        UniqueConstraint("application_id", "vc_organization_id"),
        CheckConstraint("committed_amount >= 0", name="committed_not_negative"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id"))
    vc_organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    committed_amount: Mapped[int] = mapped_column(Yen)
    is_lead: Mapped[bool] = mapped_column(Boolean, default=False)

    application: Mapped[Application] = relationship(back_populates="co_investments")
    vc: Mapped[Organization] = relationship()
