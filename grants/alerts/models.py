"""Alerts (in-app inbox and e-mail outbox), the scheduler's lease and calendar feed tokens."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Enum, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grants.accounts.models import User
from grants.alerts.rules import AlertKind
from grants.awards.models import EvidenceSubmission, Grant, Milestone, ReviewerAssignment
from grants.core.models import Base, BigId, UTCDateTime, utcnow


class Alert(Base):
    """One alert for one recipient. Created exactly once per (recipient, subject, kind, tier).

    The scan inserts alerts set-based (INSERT ... SELECT ... ON CONFLICT DO NOTHING); the
    deliverer e-mails each one and records what it sent (email_*), which the admin outbox
    page shows.
    """

    __tablename__ = "alert"
    __table_args__ = (
        # Unique per (recipient user_id, subject_type, subject_id, kind, tier). The subject
        # leads the index so that the scan's "has this subject had this alert?" probes use
        # it too; the inbox reads by user through ix_alert_user_id_read_at.
        UniqueConstraint("subject_id", "subject_type", "kind", "tier", "user_id"),
        Index("ix_alert_user_id_read_at", "user_id", "read_at"),
        # The inbox list, newest first.
        Index("ix_alert_user_id_created_at", "user_id", "created_at"),
        Index("ix_alert_emailed_at_next_attempt_at", "emailed_at", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    subject_type: Mapped[str] = mapped_column(String(30))
    subject_id: Mapped[int] = mapped_column(BigId)
    kind: Mapped[AlertKind] = mapped_column(Enum(AlertKind, native_enum=False, length=30))
    tier: Mapped[int] = mapped_column(Integer)
    grant_id: Mapped[int | None] = mapped_column(ForeignKey("grant_award.id"))
    milestone_id: Mapped[int | None] = mapped_column(ForeignKey("milestone.id"))
    scan_date: Mapped[date] = mapped_column(Date)  # the scan's "today"
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    emailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    email_attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(500))
    email_to: Mapped[str | None] = mapped_column(String(254))
    email_subject: Mapped[str | None] = mapped_column(String(300))
    email_body: Mapped[str | None] = mapped_column(Text)

    user: Mapped[User] = relationship()
    milestone: Mapped[Milestone | None] = relationship()


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
