"""The inbox as its owner reads it: my alerts, what is unread, which are settled, where each
leads and what it says in the reader's language; the admin outbox."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import exists, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import joinedload

from grants.accounts.models import User
from grants.alerts.models import Alert
from grants.alerts.rules import AlertKind, settled
from grants.awards.models import EvidenceSubmission, Grant, Milestone, Review
from grants.core.actors import Actor, Person
from grants.core.calendar import Day
from grants.core.db import Page, paginate
from grants.core.errors import NotAllowed
from grants.core.i18n import translate
from grants.core.identity import Role
from grants.core.lists import (
    Direction,
    Filter,
    Listing,
    ListQuery,
    in_order,
    matching,
    page_by_id,
)
from grants.core.permissions import Action, Subject, require
from grants.core.problems import N_, Problem
from grants.extensions import db

PAGE_SIZE = 50


def unread_count(actor: User) -> int:
    query = select(func.count(Alert.id)).where(
        Alert.user_id == owner_id(actor), Alert.read_at.is_(None)
    )
    return db.session.scalar(query) or 0


def header_count(actor: Person) -> int:
    """The header's count. Never the reason a page fails (error pages render it too): a
    database that fails here is rolled back and the count is 0."""
    try:
        return unread_count(actor)
    except SQLAlchemyError:
        db.session.rollback()
        return 0


def owner_id(actor: Actor) -> int:
    if actor.id is None:
        raise NotAllowed(N_("Only a signed-in user has an inbox."))
    return actor.id


# An alert's states in the inbox.
UNREAD, READ = "unread", "read"

ALERTS = Listing(
    name="alerts",
    sorts={
        "received": (Alert.created_at,),
        "kind": (in_order(Alert.kind, AlertKind),),
    },
    default_sort="received",
    default_direction=Direction.desc,
    tiebreak=Alert.id,
    states=(UNREAD, READ),
    kinds=tuple(AlertKind),
    filters=frozenset({Filter.search, Filter.program}),
    per_page=PAGE_SIZE,
)


def alert_list(actor: Actor, asked: ListQuery) -> Page:
    """A page of the actor's own alerts (newest first unless asked otherwise), with their
    milestone and its grant loaded; the search looks in the grant's number and the
    milestone's title."""
    query = select(Alert.id).where(Alert.user_id == owner_id(actor))
    if asked.program_id is not None or asked.term:  # what the filters read
        query = query.outerjoin(Grant, Grant.id == Alert.grant_id).outerjoin(
            Milestone, Milestone.id == Alert.milestone_id
        )
    if asked.state is not None:
        query = query.where(
            Alert.read_at.is_(None) if asked.state == UNREAD else Alert.read_at.is_not(None)
        )
    if asked.kind is not None:
        query = query.where(Alert.kind == asked.kind)
    if asked.program_id is not None:
        query = query.where(Grant.program_id == asked.program_id)
    if asked.term:
        query = query.where(matching(asked.term, Grant.number, Milestone.title))
    return page_by_id(query, ALERTS, asked, _alerts)


def _alerts(ids: list[int]) -> dict[int, Alert]:
    """The alerts with their milestone and its grant."""
    query = (
        select(Alert)
        .where(Alert.id.in_(ids))
        .options(joinedload(Alert.milestone).joinedload(Milestone.grant))
    )
    return {alert.id: alert for alert in db.session.scalars(query)}


def settled_ids(actor: User, shown: Sequence[Alert]) -> set[int]:
    """The alerts among `shown` (the actor's, milestones loaded) whose cause is gone
    (alerts.rules.settled): one statement for the review rounds they name, whatever their
    number."""
    rounds = _review_rounds(
        actor, [a.subject_id for a in shown if a.kind == AlertKind.review_waiting]
    )
    found = set()
    for alert in shown:
        milestone = alert.milestone
        if milestone is None:
            continue
        current, reviewed = rounds.get(alert.subject_id, (False, False))
        released = milestone.released_at is not None
        if settled(AlertKind(alert.kind), milestone.state, released, current, reviewed):
            found.add(alert.id)
    return found


def _review_rounds(actor: User, submission_ids: list[int]) -> dict[int, tuple[bool, bool]]:
    """Per submission: (it is its milestone's current round, the actor has reviewed it)."""
    if not submission_ids:
        return {}
    reviewed = exists().where(
        Review.submission_id == EvidenceSubmission.id, Review.reviewer_id == owner_id(actor)
    )
    query = (
        select(EvidenceSubmission.id, EvidenceSubmission.round == Milestone.round, reviewed)
        .join(Milestone, Milestone.id == EvidenceSubmission.milestone_id)
        .where(EvidenceSubmission.id.in_(submission_ids))
    )
    return {row[0]: (bool(row[1]), bool(row[2])) for row in db.session.execute(query)}


def outbox_page(actor: Actor, page: int, per_page: int = PAGE_SIZE) -> Pagination:
    """E-mails sent (or logged) for alerts, newest first, and those still waiting: admins only."""
    require(Action.view_admin, Subject(role=actor.role))
    query = (
        select(Alert)
        .where((Alert.emailed_at.is_not(None)) | (Alert.email_attempts > 0))
        .options(joinedload(Alert.user))
        .order_by(Alert.emailed_at.desc().nulls_first(), Alert.id.desc())
    )
    return paginate(query, page, per_page)


def pending_count(actor: Actor) -> int:
    """Alerts not e-mailed yet (admins only)."""
    require(Action.view_admin, Subject(role=actor.role))
    return db.session.scalar(select(func.count(Alert.id)).where(Alert.emailed_at.is_(None))) or 0


# --- where an alert leads ---------------------------------------------------------------------


@dataclass(frozen=True)
class Link:
    """The page where the recipient acts on an alert: an endpoint and its url_for values
    (the edges build the address: relative in the inbox, absolute in e-mail)."""

    endpoint: str
    values: dict[str, Any] = field(default_factory=dict)


def subject_link(alert: Alert, role: Role | str) -> Link | None:
    """The alert's subject, for a recipient with `role`, not just its grant.

    due_soon, overdue, escalation: the milestone on the grant page (#milestone-<id>);
    review_waiting: the decision page for a reviewer, the milestone on the grant page for
    the officers who follow it up; tranche_waiting: the milestone's release page.
    """
    kind = AlertKind(alert.kind)
    milestone_id, grant_id = alert.milestone_id, alert.grant_id
    if milestone_id is not None:
        if kind is AlertKind.tranche_waiting:
            return Link("releases.show", {"milestone_id": milestone_id})
        if kind is AlertKind.review_waiting and Role(role) == Role.reviewer:
            return Link("reviews.decide", {"milestone_id": milestone_id})
    if grant_id is None:
        return None
    anchor = {} if milestone_id is None else {"_anchor": milestone_anchor(milestone_id)}
    return Link("grant_page.show", {"grant_id": grant_id, **anchor})


def milestone_anchor(milestone_id: int) -> str:
    """The id of a milestone's section on the grant page (templates/grants/show.html)."""
    return f"milestone-{milestone_id}"


def link_label(link: Link, locale: str) -> str:
    """What following the link does, for the e-mail."""
    if link.endpoint == "reviews.decide":
        return translate(N_("Review the evidence and record your decision:"), locale)
    if link.endpoint == "releases.show":
        return translate(N_("Release the tranche:"), locale)
    if "_anchor" in link.values:
        return translate(N_("Open the milestone:"), locale)
    return translate(N_("Open the grant:"), locale)


# --- what an alert says -------------------------------------------------------------------------


def describe(alert: Alert, locale: str) -> str:
    """One sentence for the inbox and the e-mail body, in `locale`."""
    return translate(_description(alert), locale)


def advice(alert: Alert, locale: str) -> str:
    """What the recipient is asked to do, in `locale`."""
    return translate(_advice(alert), locale)


def _description(alert: Alert) -> Problem:
    values = _values(alert)
    kind = AlertKind(alert.kind)
    if kind is AlertKind.due_soon:
        return N_(
            'Milestone %(sequence)d "%(title)s" of grant %(grant)s is due on %(day)s.', **values
        )
    if kind is AlertKind.overdue:
        return N_(
            'Milestone %(sequence)d "%(title)s" of grant %(grant)s is overdue: '
            "it was due on %(day)s.",
            **values,
        )
    if kind is AlertKind.escalation:
        return N_(
            'Escalation level %(tier)d: milestone %(sequence)d "%(title)s" of grant %(grant)s '
            "is still overdue (due on %(day)s).",
            **values,
        )
    if kind is AlertKind.review_waiting and alert.tier == 1:
        return N_(
            'Your review of milestone %(sequence)d "%(title)s" of grant %(grant)s '
            "is waiting for your decision.",
            **values,
        )
    if kind is AlertKind.review_waiting:
        return N_(
            'The review of milestone %(sequence)d "%(title)s" of grant %(grant)s '
            "has been waiting for a reviewer's decision for a long time.",
            **values,
        )
    return N_(
        'Milestone %(sequence)d "%(title)s" of grant %(grant)s was approved, '
        "but its tranche has not been released yet.",
        **values,
    )


def _advice(alert: Alert) -> Problem:
    kind = AlertKind(alert.kind)
    if kind is AlertKind.due_soon:
        return N_("Please submit the evidence for this milestone by its due date.")
    if kind is AlertKind.overdue:
        return N_(
            "The evidence has not been submitted yet. The grantee can submit it now or "
            "request a new due date."
        )
    if kind is AlertKind.escalation:
        return N_("Please follow this milestone up with the grantee.")
    if kind is AlertKind.review_waiting and alert.tier == 1:
        return N_("Please review the submitted evidence and record your decision.")
    if kind is AlertKind.review_waiting:
        return N_("Please follow the review up with the assigned reviewers.")
    return N_("Please release the tranche, or record why it is held back.")


def _values(alert: Alert) -> dict[str, Any]:
    milestone = alert.milestone
    return {
        "sequence": milestone.sequence if milestone else 0,
        "title": milestone.title if milestone else "",
        "grant": milestone.grant.number if milestone else "",
        "day": Day(milestone.due_date) if milestone else "",
        "tier": alert.tier,
    }
