"""What an alert says and where it leads, in the reader's language: the inbox, the API and
the e-mail all use these. An alert's subject, grant and milestone come loaded with it
(SUBJECT_LOADS), so a page of alerts costs one query whatever their kinds."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from sqlalchemy.orm import joinedload
from sqlalchemy.sql.base import ExecutableOption

from grants.alerts.models import Alert
from grants.core.alert_kinds import AlertKind
from grants.core.calendar import Day, FiscalYear
from grants.core.i18n import translate
from grants.core.identity import Role
from grants.core.money import Amount
from grants.core.problems import N_, Problem
from grants.core.states import AmendmentKind, AmendmentState

K = AlertKind

# What describe, advice and subject_link read of an alert, loaded with it.
SUBJECT_LOADS: Final[tuple[ExecutableOption, ...]] = (
    joinedload(Alert.milestone),
    joinedload(Alert.grant),
    joinedload(Alert.application),
    joinedload(Alert.submission),
    joinedload(Alert.disbursement),
    joinedload(Alert.amendment),
    joinedload(Alert.investment),
)


# --- where an alert leads -----------------------------------------------------------------


@dataclass(frozen=True)
class Link:
    """The page where the recipient acts on an alert: an endpoint and its url_for values
    (the edges build the address: relative in the inbox, absolute in e-mail)."""

    endpoint: str
    values: dict[str, Any] = field(default_factory=dict)


def subject_link(alert: Alert, role: Role | str) -> Link | None:
    """The alert's subject, for a recipient with `role`, not just its grant.

    A milestone's alerts lead to the milestone on the grant page (#milestone-<id>), except
    where the recipient acts elsewhere: a reviewer decides on the review page, an officer
    releases on the release page. An application's alerts lead to the application (the
    officers' screening page for the officers); amendments and investments to the grant's
    amendment and investment pages.
    """
    kind = AlertKind(alert.kind)
    by_kind = _LINKS.get(kind)
    if by_kind is not None:
        link = by_kind(alert, Role(role))
        if link is not None:
            return link
    if alert.grant_id is None:
        return None
    milestone_id = alert.milestone_id
    anchor = {} if milestone_id is None else {"_anchor": milestone_anchor(milestone_id)}
    return Link("grant_page.show", {"grant_id": alert.grant_id, **anchor})


def _release(alert: Alert, _role: Role) -> Link | None:
    if alert.milestone_id is None:
        return None
    return Link("releases.show", {"milestone_id": alert.milestone_id})


def _review(alert: Alert, role: Role) -> Link | None:
    if role != Role.reviewer or alert.milestone_id is None:
        return None
    return Link("reviews.decide", {"milestone_id": alert.milestone_id})


def _application(alert: Alert, role: Role) -> Link | None:
    if alert.grant_id is not None:
        return None  # awarded: the grant
    endpoint = "applications.show" if role == Role.applicant else "awards.show"
    return Link(endpoint, {"application_id": alert.subject_id})


def _amendments(alert: Alert, _role: Role) -> Link | None:
    if alert.grant_id is None:
        return None
    return Link("amendments.index", {"grant_id": alert.grant_id})


def _investments(alert: Alert, _role: Role) -> Link | None:
    if alert.grant_id is None:
        return None
    return Link("investments.index", {"grant_id": alert.grant_id})


_LINKS: Final[dict[AlertKind, Callable[[Alert, Role], Link | None]]] = {
    K.tranche_waiting: _release,
    K.tranche_ready: _release,
    K.review_waiting: _review,
    K.evidence_submitted: _review,
    K.application_submitted: _application,
    K.application_screened: _application,
    K.application_awarded: _application,
    K.application_rejected: _application,
    K.amendment_requested: _amendments,
    K.amendment_decided: _amendments,
    K.investment_recorded: _investments,
}


def milestone_anchor(milestone_id: int) -> str:
    """The id of a milestone's section on the grant page (templates/grants/show.html)."""
    return f"milestone-{milestone_id}"


_LINK_LABELS: Final = {
    "reviews.decide": N_("Review the evidence and record your decision:"),
    "releases.show": N_("Release the tranche:"),
    "applications.show": N_("Open the application:"),
    "awards.show": N_("Open the application:"),
    "amendments.index": N_("Open the amendment requests:"),
    "investments.index": N_("Open the investments:"),
}


def link_label(link: Link, locale: str) -> str:
    """What following the link does, for the e-mail."""
    label = _LINK_LABELS.get(link.endpoint)
    if label is None:
        label = N_("Open the milestone:") if "_anchor" in link.values else N_("Open the grant:")
    return translate(label, locale)


# --- what an alert says -------------------------------------------------------------------------


def describe(alert: Alert, locale: str) -> str:
    """One sentence for the inbox and the e-mail body, in `locale`."""
    return translate(_DESCRIPTIONS[AlertKind(alert.kind)](alert), locale)


def advice(alert: Alert, locale: str) -> str:
    """What the recipient is asked to do (or may do next), in `locale`."""
    return translate(_ADVICE[AlertKind(alert.kind)](alert), locale)


def _milestone(alert: Alert) -> dict[str, Any]:
    milestone = alert.milestone
    return {
        "sequence": milestone.sequence if milestone else 0,
        "title": milestone.title if milestone else "",
        "grant": _grant(alert)["grant"],
        "day": Day(milestone.due_date) if milestone else "",
        "tier": alert.tier,
    }


def _grant(alert: Alert) -> dict[str, Any]:
    grant = alert.grant or (alert.milestone.grant if alert.milestone else None)
    return {"grant": grant.number if grant else ""}


def _application_title(alert: Alert) -> dict[str, Any]:
    application = alert.application
    return {"title": application.title if application else "", **_grant(alert)}


def _due_soon(alert: Alert) -> Problem:
    return N_(
        'Milestone %(sequence)d "%(title)s" of grant %(grant)s is due on %(day)s.',
        **_milestone(alert),
    )


def _overdue(alert: Alert) -> Problem:
    return N_(
        'Milestone %(sequence)d "%(title)s" of grant %(grant)s is overdue: it was due on %(day)s.',
        **_milestone(alert),
    )


def _escalation(alert: Alert) -> Problem:
    return N_(
        'Escalation level %(tier)d: milestone %(sequence)d "%(title)s" of grant %(grant)s '
        "is still overdue (due on %(day)s).",
        **_milestone(alert),
    )


def _review_waiting(alert: Alert) -> Problem:
    if alert.tier == 1:
        return N_(
            'Your review of milestone %(sequence)d "%(title)s" of grant %(grant)s '
            "is waiting for your decision.",
            **_milestone(alert),
        )
    return N_(
        'The review of milestone %(sequence)d "%(title)s" of grant %(grant)s '
        "has been waiting for a reviewer's decision for a long time.",
        **_milestone(alert),
    )


def _tranche_waiting(alert: Alert) -> Problem:
    return N_(
        'Milestone %(sequence)d "%(title)s" of grant %(grant)s was approved, '
        "but its tranche has not been released yet.",
        **_milestone(alert),
    )


def _application_submitted(alert: Alert) -> Problem:
    return N_(
        'Application "%(title)s" was submitted and awaits screening.', **_application_title(alert)
    )


def _application_screened(alert: Alert) -> Problem:
    application = alert.application
    trace = application.eligibility_trace if application else None
    if trace is not None and trace.get("ok"):
        return N_(
            'Your application "%(title)s" was screened: it meets the eligibility rules.',
            **_application_title(alert),
        )
    return N_(
        'Your application "%(title)s" was screened: it does not meet the eligibility rules.',
        **_application_title(alert),
    )


def _application_awarded(alert: Alert) -> Problem:
    return N_(
        'Your application "%(title)s" was awarded: grant %(grant)s.', **_application_title(alert)
    )


def _application_rejected(alert: Alert) -> Problem:
    return N_('Your application "%(title)s" was not selected.', **_application_title(alert))


def _reviewer_assigned(alert: Alert) -> Problem:
    return N_("You were assigned as a reviewer of grant %(grant)s.", **_grant(alert))


def _evidence_submitted(alert: Alert) -> Problem:
    submission = alert.submission
    if submission is not None and submission.round > 1:
        return N_(
            'Evidence for milestone %(sequence)d "%(title)s" of grant %(grant)s was '
            "resubmitted (round %(round)d).",
            round=submission.round,
            **_milestone(alert),
        )
    return N_(
        'Evidence for milestone %(sequence)d "%(title)s" of grant %(grant)s was submitted.',
        **_milestone(alert),
    )


def _milestone_approved(alert: Alert) -> Problem:
    return N_(
        'The reviewers approved milestone %(sequence)d "%(title)s" of grant %(grant)s.',
        **_milestone(alert),
    )


def _changes_requested(alert: Alert) -> Problem:
    return N_(
        'The reviewers asked for changes to the evidence for milestone %(sequence)d "%(title)s" '
        "of grant %(grant)s.",
        **_milestone(alert),
    )


def _milestone_rejected(alert: Alert) -> Problem:
    return N_(
        'The reviewers rejected milestone %(sequence)d "%(title)s" of grant %(grant)s (no-go).',
        **_milestone(alert),
    )


def _tranche_ready(alert: Alert) -> Problem:
    milestone = alert.milestone
    return N_(
        'Milestone %(sequence)d "%(title)s" of grant %(grant)s was approved: its tranche of '
        "%(amount)s is ready to release.",
        amount=Amount(milestone.tranche_amount if milestone else 0),
        **_milestone(alert),
    )


def _tranche_released(alert: Alert) -> Problem:
    disbursement = alert.disbursement
    return N_(
        'The tranche of %(amount)s for milestone %(sequence)d "%(title)s" of grant %(grant)s '
        "was released from the %(year)s budget.",
        amount=Amount(disbursement.amount if disbursement else 0),
        year=FiscalYear(disbursement.fiscal_year if disbursement else 0),
        **_milestone(alert),
    )


def _amendment_requested(alert: Alert) -> Problem:
    amendment = alert.amendment
    if amendment is not None and amendment.kind == AmendmentKind.due_date:
        return N_(
            "The grantee of grant %(grant)s asked to move the due date of milestone %(sequence)d "
            '"%(title)s" to %(new_day)s.',
            new_day=Day(amendment.new_due_date) if amendment.new_due_date else "",
            **_milestone(alert),
        )
    return N_("The grantee of grant %(grant)s asked to re-split its tranches.", **_grant(alert))


def _amendment_decided(alert: Alert) -> Problem:
    amendment = alert.amendment
    if amendment is not None and amendment.state == AmendmentState.approved:
        return N_("Your amendment request for grant %(grant)s was approved.", **_grant(alert))
    return N_("Your amendment request for grant %(grant)s was declined.", **_grant(alert))


def _investment_recorded(alert: Alert) -> Problem:
    investment = alert.investment
    return N_(
        "A VC payment of %(amount)s paid on %(day)s was recorded for grant %(grant)s.",
        amount=Amount(investment.amount if investment else 0),
        day=Day(investment.paid_on) if investment else "",
        **_grant(alert),
    )


def _grant_terminated(alert: Alert) -> Problem:
    return N_("Grant %(grant)s was terminated.", **_grant(alert))


_DESCRIPTIONS: Final[dict[AlertKind, Callable[[Alert], Problem]]] = {
    K.due_soon: _due_soon,
    K.overdue: _overdue,
    K.escalation: _escalation,
    K.review_waiting: _review_waiting,
    K.tranche_waiting: _tranche_waiting,
    K.application_submitted: _application_submitted,
    K.application_screened: _application_screened,
    K.application_awarded: _application_awarded,
    K.application_rejected: _application_rejected,
    K.reviewer_assigned: _reviewer_assigned,
    K.evidence_submitted: _evidence_submitted,
    K.milestone_approved: _milestone_approved,
    K.changes_requested: _changes_requested,
    K.milestone_rejected: _milestone_rejected,
    K.tranche_ready: _tranche_ready,
    K.tranche_released: _tranche_released,
    K.amendment_requested: _amendment_requested,
    K.amendment_decided: _amendment_decided,
    K.investment_recorded: _investment_recorded,
    K.grant_terminated: _grant_terminated,
}


def _said(problem: Problem) -> Callable[[Alert], Problem]:
    return lambda _alert: problem


def _review_waiting_advice(alert: Alert) -> Problem:
    if alert.tier == 1:
        return _REVIEW
    return N_("Please follow the review up with the assigned reviewers.")


_REVIEW = N_("Please review the submitted evidence and record your decision.")

_ADVICE: Final[dict[AlertKind, Callable[[Alert], Problem]]] = {
    K.due_soon: _said(N_("Please submit the evidence for this milestone by its due date.")),
    K.overdue: _said(
        N_(
            "The evidence has not been submitted yet. The grantee can submit it now or "
            "request a new due date."
        )
    ),
    K.escalation: _said(N_("Please follow this milestone up with the grantee.")),
    K.review_waiting: _review_waiting_advice,
    K.tranche_waiting: _said(N_("Please release the tranche, or record why it is held back.")),
    K.application_submitted: _said(N_("Please screen the application.")),
    K.application_screened: _said(N_("Open the application to see how each rule was checked.")),
    K.application_awarded: _said(N_("Open the grant to see its milestones and tranches.")),
    K.application_rejected: _said(N_("Open the application to read the reason.")),
    K.reviewer_assigned: _said(
        N_("You will be told whenever evidence for its milestones is submitted.")
    ),
    K.evidence_submitted: _said(_REVIEW),
    K.milestone_approved: _said(N_("A programme officer will now release its tranche.")),
    K.changes_requested: _said(
        N_("The reviewers' comments are on the grant page; the grantee submits the evidence again.")
    ),
    K.milestone_rejected: _said(N_("A programme officer decides how the grant goes on.")),
    K.tranche_ready: _said(N_("Please check the tranche gates and release the tranche.")),
    K.tranche_released: _said(N_("Open the grant to see the milestones that follow.")),
    K.amendment_requested: _said(N_("Please approve or decline the request.")),
    K.amendment_decided: _said(N_("Open the amendment requests to read the decision.")),
    K.investment_recorded: _said(
        N_("Please verify it against its evidence: an officer other than the one who recorded it.")
    ),
    K.grant_terminated: _said(N_("Its remaining milestones were cancelled.")),
}
