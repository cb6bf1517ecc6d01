"""Which kinds of alert each role receives, so that each person chooses only for those.

Every kind may be e-mailed at once, in the daily digest or not at all (core.alert_kinds
.Delivery); the inbox shows every alert whatever the choice. There is no security kind of
alert: credential e-mails (invitations, resets, changed passwords) are sent at once
through core.mail and no preference applies to them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from grants.core.alert_kinds import AlertKind
from grants.core.identity import Role

K = AlertKind
_APPLICANT = frozenset({Role.applicant})
_REVIEWER = frozenset({Role.reviewer})
_OFFICER = frozenset({Role.officer})

# Who receives each kind: the scan's audiences (alerts.rules.Audience) and the recipients
# of each event (README, "Notifications").
KIND_ROLES: Final[Mapping[AlertKind, frozenset[Role]]] = {
    K.due_soon: _APPLICANT,
    K.overdue: frozenset({Role.applicant, Role.officer}),
    K.escalation: frozenset({Role.officer, Role.admin}),
    K.review_waiting: frozenset({Role.reviewer, Role.officer}),
    K.tranche_waiting: _OFFICER,
    K.application_submitted: _OFFICER,
    K.application_screened: _APPLICANT,
    K.application_awarded: _APPLICANT,
    K.application_rejected: _APPLICANT,
    K.reviewer_assigned: _REVIEWER,
    K.evidence_submitted: _REVIEWER,
    K.milestone_approved: _APPLICANT,
    K.changes_requested: frozenset({Role.applicant, Role.officer}),
    K.milestone_rejected: frozenset({Role.applicant, Role.officer}),
    K.tranche_ready: _OFFICER,
    K.tranche_released: _APPLICANT,
    K.amendment_requested: _OFFICER,
    K.amendment_decided: _APPLICANT,
    K.investment_recorded: _OFFICER,
    K.grant_terminated: frozenset({Role.applicant, Role.reviewer}),
}


def kinds_for(role: Role | str) -> tuple[AlertKind, ...]:
    """The kinds a person with `role` receives, in the vocabulary's order."""
    return tuple(kind for kind in AlertKind if Role(role) in KIND_ROLES[kind])
