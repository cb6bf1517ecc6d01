"""Conversations: one thread per application, milestone or amendment, made by its first
message; messages (shared with the grantee, or internal to the staff) are never changed or
deleted; their files are stored as evidence files are; a per-user, per-thread read marker."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grants.accounts.models import User
from grants.core.models import Base, BigId, UTCDateTime, utcnow


class Thread(Base):
    __tablename__ = "conversation_thread"
    __table_args__ = (UniqueConstraint("subject_type", "subject_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    subject_type: Mapped[str] = mapped_column(String(20))  # rules.ThreadKind
    subject_id: Mapped[int] = mapped_column(BigInteger)
    grant_id: Mapped[int | None] = mapped_column(ForeignKey("grant_award.id"), index=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    messages: Mapped[list[Message]] = relationship(
        back_populates="thread", order_by="Message.id", viewonly=True
    )


class Message(Base):
    __tablename__ = "conversation_message"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("conversation_thread.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    internal: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    thread: Mapped[Thread] = relationship(back_populates="messages")
    author: Mapped[User] = relationship()
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="message", order_by="Attachment.id"
    )


class Attachment(Base):
    __tablename__ = "conversation_attachment"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("conversation_message.id"), index=True)
    original_name: Mapped[str] = mapped_column(String(255))
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    has_formulas: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    message: Mapped[Message] = relationship(back_populates="attachments")


class ReadMarker(Base):
    """The newest message of a thread a user has seen (or written)."""

    __tablename__ = "conversation_read"

    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("conversation_thread.id"), primary_key=True)
    message_id: Mapped[int] = mapped_column(BigInteger)
