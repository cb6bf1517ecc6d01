"""Funding programmes, their fiscal-year budget pools and their versioned rule sets."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grants.core.changes import Changing
from grants.core.models import Base, BigId, UTCDateTime, Yen, utcnow

# A release of more than this is prepared by one officer and approved by another: 1億円.
RELEASE_APPROVAL_THRESHOLD = 100_000_000


class Program(Changing, Base):
    __tablename__ = "program"
    __table_args__ = (
        CheckConstraint("release_approval_threshold >= 0", name="release_threshold_not_negative"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name_ja: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    application_opens: Mapped[date] = mapped_column(Date)
    application_closes: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    themes: Mapped[list[str]] = mapped_column(JSON)
    modalities: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Separation of duties in releases (README, "Separation of duties"), on by default:
    # the officer who awarded a grant does not release its tranches ...
    separate_award_and_release: Mapped[bool] = mapped_column(
        Boolean, default=True, server_default=true()
    )
    # ... and a tranche of more yen than this is prepared by one officer, approved by another.
    release_approval_threshold: Mapped[int] = mapped_column(
        Yen, default=RELEASE_APPROVAL_THRESHOLD, server_default=str(RELEASE_APPROVAL_THRESHOLD)
    )

    budget_pools: Mapped[list[BudgetPool]] = relationship(
        back_populates="program", order_by="BudgetPool.fiscal_year"
    )

    def name(self, locale: str) -> str:
        return self.name_en if locale == "en" else self.name_ja


class BudgetPool(Changing, Base):
    """A programme's money for one fiscal year: available = appropriation - committed - released."""

    __tablename__ = "budget_pool"
    __table_args__ = (
        UniqueConstraint("program_id", "fiscal_year"),
        CheckConstraint("appropriation >= 0", name="appropriation_not_negative"),
        CheckConstraint("committed >= 0", name="committed_not_negative"),
        CheckConstraint("released >= 0", name="released_not_negative"),
        CheckConstraint("released <= appropriation", name="released_within_appropriation"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("program.id"))
    fiscal_year: Mapped[int] = mapped_column(Integer)
    appropriation: Mapped[int] = mapped_column(Yen)
    committed: Mapped[int] = mapped_column(Yen, default=0)
    released: Mapped[int] = mapped_column(Yen, default=0)

    program: Mapped[Program] = relationship(back_populates="budget_pools")

    @property
    def available(self) -> int:
        return self.appropriation - self.committed - self.released
