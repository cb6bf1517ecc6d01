"""Rule set versions of a programme: drafts are editable, a published version is frozen."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    Enum,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grants.core.changes import Changing
from grants.core.models import Base, BigId, UTCDateTime, utcnow
from grants.programs.models import Program


class RuleSetStatus(StrEnum):
    draft = "draft"
    published = "published"


class RuleSet(Changing, Base):
    """A rules document. Drafts are editable; a published version is frozen forever."""

    __tablename__ = "rule_set"
    __table_args__ = (UniqueConstraint("program_id", "version"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("program.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[RuleSetStatus] = mapped_column(Enum(RuleSetStatus, native_enum=False, length=12))
    version: Mapped[int | None] = mapped_column(Integer)
    effective_from: Mapped[date | None] = mapped_column(Date)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The published version a copied draft started from (never a draft: drafts can go).
    based_on_id: Mapped[int | None] = mapped_column(ForeignKey("rule_set.id"))

    program: Mapped[Program] = relationship()
    based_on: Mapped[RuleSet | None] = relationship(remote_side=[id])
