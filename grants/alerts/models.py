"""Alerts as the inbox and the deliverer read them, e-mail preferences and digests, the
calendar feed's tokens, and the scan's access paths.

The alert table itself is core's (core.models.alert_table: every writer records alerts in
it through core.notify); here it is mapped with what an alert is about, for the inbox and
the e-mail.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, Enum, ForeignKey, Index, Integer, String, Text, UniqueConstraint, and_
from sqlalchemy.orm import Mapped, foreign, mapped_column, relationship

from grants.accounts.models import User
from grants.applications.models import Application
from grants.awards.models import (
    Amendment,
    Disbursement,
    EvidenceSubmission,
    Grant,
    Investment,
    Milestone,
    ReviewerAssignment,
)
from grants.core.alert_kinds import AlertKind, Delivery, SubjectType
from grants.core.models import Base, BigId, UTCDateTime, alert_table, utcnow


def _subject(model: type[Base], subject_type: SubjectType) -> Any:
    """The alert's subject when it is a `model` row (None otherwise): read only."""
    return relationship(
        model,
        primaryjoin=lambda: and_(
            Alert.subject_type == str(subject_type),
            foreign(Alert.subject_id) == model.id,  # type: ignore[attr-defined]
        ),
        viewonly=True,
    )


class Alert(Base):
    """One alert for one recipient (core.models.alert_table says what each column holds)."""

    __table__ = alert_table

    id: Mapped[int]
    user_id: Mapped[int]
    subject_type: Mapped[str]
    subject_id: Mapped[int]
    kind: Mapped[AlertKind]
    tier: Mapped[int]
    grant_id: Mapped[int | None]
    milestone_id: Mapped[int | None]
    scan_date: Mapped[date]
    created_at: Mapped[datetime]
    read_at: Mapped[datetime | None]
    delivery: Mapped[Delivery | None]
    digest_id: Mapped[int | None]
    emailed_at: Mapped[datetime | None]
    email_attempts: Mapped[int]
    next_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None]
    email_to: Mapped[str | None]
    email_subject: Mapped[str | None]
    email_body: Mapped[str | None]

    user: Mapped[User] = relationship()
    grant: Mapped[Grant | None] = relationship()
    milestone: Mapped[Milestone | None] = relationship()
    application: Mapped[Application | None] = _subject(Application, SubjectType.application)
    submission: Mapped[EvidenceSubmission | None] = _subject(
        EvidenceSubmission, SubjectType.evidence_submission
    )
    disbursement: Mapped[Disbursement | None] = _subject(Disbursement, SubjectType.disbursement)
    amendment: Mapped[Amendment | None] = _subject(Amendment, SubjectType.amendment)
    investment: Mapped[Investment | None] = _subject(Investment, SubjectType.investment)
    digest: Mapped[NotificationDigest | None] = relationship()


class NotificationPreference(Base):
    """How one user has one kind of alert e-mailed; without a row, at once (Delivery.now)."""

    __tablename__ = "notification_preference"
    __table_args__ = (UniqueConstraint("user_id", "kind"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    kind: Mapped[AlertKind] = mapped_column(Enum(AlertKind, native_enum=False, length=30))
    delivery: Mapped[Delivery] = mapped_column(Enum(Delivery, native_enum=False, length=10))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class NotificationDigest(Base):
    """One user's daily digest e-mail: at most one per user and Tokyo day. Its alerts name it
    (alert.digest_id); it is e-mailed like an alert (at least once, retried with backoff,
    one Message-ID for every attempt)."""

    __tablename__ = "notification_digest"
    __table_args__ = (UniqueConstraint("user_id", "day"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    day: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    emailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    email_attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(500))
    email_subject: Mapped[str | None] = mapped_column(String(300))
    email_body: Mapped[str | None] = mapped_column(Text)

    user: Mapped[User] = relationship()


class CalendarToken(Base):
    """A user's private calendar feed address; only the SHA-256 of the secret is stored."""

    __tablename__ = "calendar_token"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship()


# The scan's access paths (added with the alert tables). Milestones: open ones by due date,
# approved ones still to release by decision time, the overdue flags; each index also holds
# the columns that the scan's other conditions test, so that it never reads the rows it
# skips. Users by role: the staff, and a grantee's active applicants (organisation
# last, so that the planners do not take the staff index for the grantee's users even
# without statistics). The rule sets that active grants use.
_M = Milestone.__table__
# Narrow on purpose: PostgreSQL, which cannot estimate how few open milestones are past
# due, takes the due_date index instead once this one is much wider.
Index("ix_milestone_state_due_date_overdue_since", _M.c.state, _M.c.due_date, _M.c.overdue_since)
Index("ix_milestone_state_released_at_decided_at", _M.c.state, _M.c.released_at, _M.c.decided_at)
Index("ix_milestone_overdue_since_state_due_date", _M.c.overdue_since, _M.c.state, _M.c.due_date)
_U = User.__table__
Index("ix_user_account_role_active_organization_id", _U.c.role, _U.c.active, _U.c.organization_id)
Index("ix_grant_award_ruleset_id", Grant.__table__.c.ruleset_id)
# Where the waits that reached a cut-off since the last scan begin: a submission or an
# assignment of that day.
Index("ix_evidence_submission_submitted_at", EvidenceSubmission.__table__.c.submitted_at)
Index("ix_reviewer_assignment_assigned_at", ReviewerAssignment.__table__.c.assigned_at)
