"""Single-use, expiring links to set a password: only a SHA-256 hash of each secret is kept."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Enum, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grants.accounts.credentials.rules import LinkPurpose, LinkState
from grants.accounts.models import User
from grants.core.models import Base, BigId, UTCDateTime, utcnow


class CredentialLink(Base):
    """An invitation or a password reset e-mailed to `user`: it works once (`used_at`),
    until `expires_at`, unless ended before (`revoked_at`: another link was used, or the
    account's address changed)."""

    __tablename__ = "credential_link"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    purpose: Mapped[LinkPurpose] = mapped_column(Enum(LinkPurpose, native_enum=False, length=20))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()

    def state(self) -> LinkState:
        return LinkState(
            self.purpose, self.expires_at, self.used_at, self.revoked_at, self.user.active
        )
