"""Evidence submitted for a milestone, its files, and the reviewers' decisions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Enum, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grants.domain.states import ReviewDecision
from grants.models.accounts import User
from grants.models.base import Base, BigId, UTCDateTime, utcnow


class EvidenceSubmission(Base):
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

    submission: Mapped[EvidenceSubmission] = relationship(back_populates="files")


class Review(Base):
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
