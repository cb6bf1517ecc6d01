"""Money movements: tranche releases (disbursements) and VC paid-in investments."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grants.models.accounts import Organization
from grants.models.base import Base, BigId, UTCDateTime, Yen, utcnow


class Disbursement(Base):
    """A released tranche. At most one per milestone (unique milestone_id)."""

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
