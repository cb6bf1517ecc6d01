"""The alert vocabulary: what an alert is about (its kind and its subject), its labels, and
how its recipient may have it e-mailed.

Scheduled kinds come from the milestone scan (alerts.scan); event kinds are recorded by the
use case that makes the event, in its own transaction (core.notify.record). Every kind is
in the inbox; how it is e-mailed (now, in a daily digest, or not) is each recipient's
choice (alerts.preferences). Security e-mails (credentials) are not alerts: they are sent
at once through core.mail, so no preference can turn them off.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from grants.core.states import Label


class AlertKind(StrEnum):
    # scheduled: the milestone scan
    due_soon = "due_soon"
    overdue = "overdue"
    escalation = "escalation"
    review_waiting = "review_waiting"
    tranche_waiting = "tranche_waiting"
    # scheduled: the settlement's pass of the scan (alerts.scan.reports)
    report_due = "report_due"  # a settlement period's results report is due soon
    report_overdue = "report_overdue"  # ... and past its due date without a filed report
    # scheduled: the merit review pass of the scan (alerts.scan.merit_review)
    merit_review_requested = "merit_review_requested"
    merit_review_due = "merit_review_due"
    # events: recorded by the use case that makes them
    application_submitted = "application_submitted"
    application_screened = "application_screened"
    application_awarded = "application_awarded"
    application_rejected = "application_rejected"
    reviewer_assigned = "reviewer_assigned"
    evidence_submitted = "evidence_submitted"
    milestone_approved = "milestone_approved"
    changes_requested = "changes_requested"
    milestone_rejected = "milestone_rejected"
    tranche_ready = "tranche_ready"
    tranche_released = "tranche_released"
    amendment_requested = "amendment_requested"
    amendment_decided = "amendment_decided"
    investment_recorded = "investment_recorded"
    grant_terminated = "grant_terminated"
    message_posted = "message_posted"


class SubjectType(StrEnum):
    """What an alert's subject_id names (one row of the table of the same name)."""

    milestone = "milestone"
    evidence_submission = "evidence_submission"
    application = "application"
    reviewer_assignment = "reviewer_assignment"
    disbursement = "disbursement"
    amendment = "amendment"
    investment = "investment"
    grant = "grant"
    message = "message"
    settlement_period = "settlement_period"  # a milestone's period (the milestone's id)
    settlement_year = "settlement_year"  # a grant's fiscal year (the grant's id; tier: year)
    merit_assignment = "merit_assignment"


# The settlement's alerts: about a period's results report.
REPORT_KINDS: Final = frozenset({AlertKind.report_due, AlertKind.report_overdue})


class Delivery(StrEnum):
    """How a recipient has an alert e-mailed: at once, in the daily digest, or not at all
    (the inbox shows every alert whatever the choice)."""

    now = "now"
    digest = "digest"
    off = "off"


KIND_LABELS: Final[Mapping[AlertKind, Label]] = {
    AlertKind.due_soon: Label("期日間近", "Due soon"),
    AlertKind.overdue: Label("期日超過", "Overdue"),
    AlertKind.escalation: Label("エスカレーション", "Escalation"),
    AlertKind.review_waiting: Label("審査待ち", "Review waiting"),
    AlertKind.tranche_waiting: Label("交付待ち", "Tranche waiting"),
    AlertKind.report_due: Label("実績報告の期限間近", "Results report due soon"),
    AlertKind.report_overdue: Label("実績報告の期限超過", "Results report overdue"),
    AlertKind.merit_review_requested: Label("審査の依頼", "Merit review requested"),
    AlertKind.merit_review_due: Label("審査の期限", "Merit review deadline"),
    AlertKind.application_submitted: Label("応募の提出", "Application submitted"),
    AlertKind.application_screened: Label("要件審査の結果", "Application screened"),
    AlertKind.application_awarded: Label("採択", "Application awarded"),
    AlertKind.application_rejected: Label("不採択", "Application rejected"),
    AlertKind.reviewer_assigned: Label("評価者への割り当て", "Reviewer assigned"),
    AlertKind.evidence_submitted: Label("エビデンスの提出", "Evidence submitted"),
    AlertKind.milestone_approved: Label("マイルストーンの承認", "Milestone approved"),
    AlertKind.changes_requested: Label("修正依頼", "Changes requested"),
    AlertKind.milestone_rejected: Label("不承認（No-Go）", "Milestone rejected (no-go)"),
    AlertKind.tranche_ready: Label("交付可能", "Tranche ready"),
    AlertKind.tranche_released: Label("トランシェの交付", "Tranche released"),
    AlertKind.amendment_requested: Label("計画変更の申請", "Amendment requested"),
    AlertKind.amendment_decided: Label("計画変更の決定", "Amendment decided"),
    AlertKind.investment_recorded: Label("出資の記録", "Investment recorded"),
    AlertKind.grant_terminated: Label("助成の中止", "Grant terminated"),
    AlertKind.message_posted: Label("新しいメッセージ", "New message"),
}


def kind_label(kind: AlertKind | str, locale: str) -> str:
    return KIND_LABELS[AlertKind(kind)].text(locale)


@dataclass(frozen=True)
class KindLabel:
    """A kind of alert in a message, named in the reader's language."""

    kind: AlertKind

    def localised(self, locale: str) -> str:
        return kind_label(self.kind, locale)
