"""Core's tables and what every model shares.

The declarative base with its constraint naming convention and column types (integer yen,
UTC timestamps); the append-only, hash-chained audit log; idempotency keys (the stored
answer of a request sent with an `Idempotency-Key` header: unique per user and key, empty
while the first request runs, then replayed to every later request with that key); the
scheduler's lease; and the alert table, which every writer records notifications in
(core.notify) and the alerts feature maps, scans, delivers and shows (alerts.models).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from grants.core.alert_kinds import AlertKind, Delivery

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# BigInteger ids on PostgreSQL; plain INTEGER on SQLite so they autoincrement.
BigId = BigInteger().with_variant(Integer(), "sqlite")
# Money in integer yen.
Yen = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC timestamps on every backend (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC timestamp column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if _is_sqlite(dialect) else value

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _is_sqlite(dialect: object) -> bool:
    return getattr(dialect, "name", "") == "sqlite"


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class AuditEvent(Base):
    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_object", "object_type", "object_id"),
        # The latest event of an action (the last scan) without reading the others.
        Index("ix_audit_event_action_id", "action", "id"),
        # The audit-log page's date range.
        Index("ix_audit_event_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    actor_label: Mapped[str] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(80))
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[str] = mapped_column(String(40))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


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


class SchedulerLease(Base):
    """Who may run the scheduled jobs now: one holder until expires_at, renewed by each job."""

    __tablename__ = "scheduler_lease"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str] = mapped_column(String(120))
    acquired_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


# One alert for one recipient, created exactly once per (recipient, subject, kind, tier):
# INSERT ... ON CONFLICT DO NOTHING on the unique key, by the scan and by core.notify. The
# subject leads the key so that the scan's "has this subject had this alert?" probes use it;
# the inbox reads by user through ix_alert_user_id_read_at. `scan_date` is the day the alert
# is for (the scan's today, the event's day). The e-mail columns are the deliverer's:
# `delivery` is how the alert is e-mailed, chosen by the recipient's preference when the
# deliverer first sees it (NULL until then); a digest alert is e-mailed in `digest_id`.
alert_table = Table(
    "alert",
    Base.metadata,
    Column("id", BigId, primary_key=True),
    Column("user_id", ForeignKey("user_account.id"), nullable=False),
    Column("subject_type", String(30), nullable=False),
    Column("subject_id", BigId, nullable=False),
    Column("kind", Enum(AlertKind, native_enum=False, length=30), nullable=False),
    Column("tier", Integer, nullable=False),
    Column("grant_id", ForeignKey("grant_award.id")),
    Column("milestone_id", ForeignKey("milestone.id")),
    Column("scan_date", Date, nullable=False),
    Column("created_at", UTCDateTime, nullable=False, default=utcnow),
    Column("read_at", UTCDateTime),
    Column("delivery", Enum(Delivery, native_enum=False, length=10)),
    Column("digest_id", ForeignKey("notification_digest.id")),
    Column("emailed_at", UTCDateTime),
    Column("email_attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime),
    Column("last_error", String(500)),
    Column("email_to", String(254)),
    Column("email_subject", String(300)),
    Column("email_body", Text),
    UniqueConstraint("subject_id", "subject_type", "kind", "tier", "user_id"),
    Index("ix_alert_user_id_read_at", "user_id", "read_at"),
    # The inbox list, newest first.
    Index("ix_alert_user_id_created_at", "user_id", "created_at"),
    Index(
        "ix_alert_delivery_emailed_at_next_attempt_at", "delivery", "emailed_at", "next_attempt_at"
    ),
    Index("ix_alert_digest_id", "digest_id"),
)
