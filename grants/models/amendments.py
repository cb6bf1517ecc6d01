"""Amendment requests: a new due date, or a re-split of the remaining tranches."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, Enum, ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column

from grants.domain.states import AmendmentKind, AmendmentState
from grants.models.base import Base, BigId, UTCDateTime, utcnow


class Amendment(Base):
    __tablename__ = "amendment"

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
