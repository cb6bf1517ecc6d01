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
        CheckConstraint("merit_panel_size >= 1", name="merit_panel_size_positive"),
        CheckConstraint("merit_review_days >= 1", name="merit_review_days_positive"),
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
    # Applicants see the reviewers as "Reviewer 1", "Reviewer 2" (awards.queries.reviewer_names).
    reviewers_anonymous: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Merit review (grants.merit_review): reviewers per application, days each has to score,
    # how their weighted scores combine (mean or median, optionally after per-reviewer
    # normalisation: none or rank) and the spread of the scores that flags a disagreement
    # (ratio text on the rubric's scale).
    merit_panel_size: Mapped[int] = mapped_column(Integer, default=3, server_default="3")
    merit_review_days: Mapped[int] = mapped_column(Integer, default=21, server_default="21")
    merit_aggregation: Mapped[str] = mapped_column(
        String(10), default="mean", server_default="mean"
    )
    merit_normalisation: Mapped[str] = mapped_column(
        String(10), default="none", server_default="none"
    )
    merit_disagreement: Mapped[str] = mapped_column(String(20), default="1.5", server_default="1.5")
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
    """A programme's money for one fiscal year: available = appropriation - committed - net
    released, where net released = released (paid out of this year's pool) - returned (an
    advance above its final amount, returned or set off against a later tranche)."""

    __tablename__ = "budget_pool"
    __table_args__ = (
        UniqueConstraint("program_id", "fiscal_year"),
        CheckConstraint("appropriation >= 0", name="appropriation_not_negative"),
        CheckConstraint("committed >= 0", name="committed_not_negative"),
        CheckConstraint("released >= 0", name="released_not_negative"),
        CheckConstraint("returned >= 0 AND returned <= released", name="returned_within_released"),
        CheckConstraint(
            "released - returned <= appropriation", name="net_released_within_appropriation"
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("program.id"))
    fiscal_year: Mapped[int] = mapped_column(Integer)
    appropriation: Mapped[int] = mapped_column(Yen)
    committed: Mapped[int] = mapped_column(Yen, default=0)
    released: Mapped[int] = mapped_column(Yen, default=0)
    returned: Mapped[int] = mapped_column(Yen, default=0, server_default="0")

    program: Mapped[Program] = relationship(back_populates="budget_pools")

    @property
    def net_released(self) -> int:
        return self.released - self.returned

    @property
    def available(self) -> int:
        return self.appropriation - self.committed - self.net_released
