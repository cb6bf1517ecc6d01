"""Idempotency keys: the stored answer of a request sent with an `Idempotency-Key` header.

A row is unique per (user, key). While the first request is still running, `status`
and `body` are empty; afterwards they hold the answer every later request with the
same key replays.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from grants.models.base import Base, BigId, UTCDateTime, utcnow

KEY_MAX = 200


class IdempotencyKey(Base):
    __tablename__ = "idempotency_key"
    __table_args__ = (UniqueConstraint("user_id", "key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    key: Mapped[str] = mapped_column(String(KEY_MAX))
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(300))
    status: Mapped[int | None] = mapped_column(Integer)  # None while the first request runs
    body: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
