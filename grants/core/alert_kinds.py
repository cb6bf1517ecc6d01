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
}


def kind_label(kind: AlertKind | str, locale: str) -> str:
    return KIND_LABELS[AlertKind(kind)].text(locale)


@dataclass(frozen=True)
class KindLabel:
    """A kind of alert in a message, named in the reader's language."""

    kind: AlertKind

    def localised(self, locale: str) -> str:
        return kind_label(self.kind, locale)
