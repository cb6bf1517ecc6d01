"""A change of an account's role asked by one administrator, waiting for another's decision."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Enum, ForeignKey, Index, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grants.accounts.models import User
from grants.accounts.role_changes.rules import RoleChangeState
from grants.core.identity import Role
from grants.core.models import Base, BigId, UTCDateTime, utcnow

_PENDING = text("state = 'pending'")


class RoleChange(Base):
    """The account keeps `from_role` and `from_active` until the change is confirmed; it then
    becomes an active `role`."""

    __tablename__ = "role_change"
    __table_args__ = (
        # At most one change of an account waits at a time.
        Index(
            "uq_role_change_pending_user",
            "user_id",
            unique=True,
            sqlite_where=_PENDING,
            postgresql_where=_PENDING,
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False, length=20))
    from_role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False, length=20))
    from_active: Mapped[bool] = mapped_column(Boolean)
    state: Mapped[RoleChangeState] = mapped_column(
        Enum(RoleChangeState, native_enum=False, length=20), index=True
    )
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # None when the system decided (flask grants confirm-role-change).
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    requested_by: Mapped[User] = relationship(foreign_keys=[requested_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
