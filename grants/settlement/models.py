"""Results reports (実績報告): a period's actual costs by category, receipts, indirect cost,
and the inspection's accepted amounts (確定検査). The confirmed final amount is the grant's
record (awards.models.Settlement)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Enum,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grants.awards.models import Grant
from grants.core.changes import Changing
from grants.core.models import Base, BigId, UTCDateTime, Yen, utcnow
from grants.settlement.rules import ReportState


class ResultsReport(Changing, Base):
    """One period's results report of a grant (unique per grant and period)."""

    __tablename__ = "results_report"
    __table_args__ = (
        UniqueConstraint("grant_id", "period"),
        CheckConstraint("indirect_cost >= 0", name="indirect_cost_not_negative"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    grant_id: Mapped[int] = mapped_column(ForeignKey("grant_award.id"), index=True)
    period: Mapped[str] = mapped_column(String(20))
    fiscal_year: Mapped[int] = mapped_column(Integer)
    milestone_id: Mapped[int | None] = mapped_column(ForeignKey("milestone.id"))
    period_end: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date, index=True)
    state: Mapped[ReportState] = mapped_column(
        Enum(ReportState, native_enum=False, length=20), index=True
    )
    indirect_cost: Mapped[int] = mapped_column(Yen, default=0)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    submitted_on: Mapped[date | None] = mapped_column(Date)
    correction_note: Mapped[str | None] = mapped_column(Text)
    inspected_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    inspected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    grant: Mapped[Grant] = relationship()
    lines: Mapped[list[CostLine]] = relationship(
        back_populates="report", order_by="CostLine.position", cascade="all, delete-orphan"
    )
    receipts: Mapped[list[Receipt]] = relationship(back_populates="report", order_by="Receipt.id")


class CostLine(Base):
    """An actual cost of the period: claimed by the grantee; accepted (or adjusted, with the
    officer's reason) at inspection."""

    __tablename__ = "cost_line"
    __table_args__ = (
        CheckConstraint("claimed >= 0", name="claimed_not_negative"),
        CheckConstraint("accepted IS NULL OR accepted <= claimed", name="accepted_within_claimed"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("results_report.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    category: Mapped[str] = mapped_column(String(40))
    description: Mapped[str] = mapped_column(String(300))
    claimed: Mapped[int] = mapped_column(Yen)
    accepted: Mapped[int | None] = mapped_column(Yen)
    reason: Mapped[str | None] = mapped_column(Text)

    report: Mapped[ResultsReport] = relationship(back_populates="lines")


class Receipt(Base):
    """A receipt file of a results report (the evidence files' rules and store)."""

    __tablename__ = "receipt"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("results_report.id"), index=True)
    original_name: Mapped[str] = mapped_column(String(255))
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    has_formulas: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    report: Mapped[ResultsReport] = relationship(back_populates="receipts")
