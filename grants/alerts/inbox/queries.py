"""The inbox as its owner reads it: my alerts, what is unread, which are settled; the admin
outbox. What each alert says and where it leads: alerts.inbox.texts."""

from __future__ import annotations

from collections.abc import Sequence

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import exists, func, or_, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import joinedload

from grants.accounts.models import User
from grants.alerts.inbox import merit_review
from grants.alerts.inbox.texts import SUBJECT_LOADS
from grants.alerts.models import Alert
from grants.alerts.rules import Since, settled
from grants.awards.models import EvidenceSubmission, Grant, Milestone, Review
from grants.core.actors import Actor, Person
from grants.core.alert_kinds import AlertKind, Delivery, SubjectType
from grants.core.db import Page, paginate
from grants.core.errors import NotAllowed
from grants.core.lists import Direction, Filter, Listing, ListQuery, in_order, matching, page_by_id
from grants.core.permissions import Action, Subject, require
from grants.core.problems import N_
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
    """A page of the actor's own alerts (newest first unless asked otherwise), with what
    they are about loaded; the search looks in the grant's number and the
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
    """The alerts with what they are about (SUBJECT_LOADS)."""
    query = select(Alert).where(Alert.id.in_(ids)).options(*SUBJECT_LOADS)
    return {alert.id: alert for alert in db.session.scalars(query)}


def settled_ids(actor: User, shown: Sequence[Alert]) -> set[int]:
    """The alerts among `shown` (the actor's, with SUBJECT_LOADS) whose follow-up has
    happened (alerts.rules.settled): one more statement for the review rounds they name,
    whatever their number, and one for the merit review assignments they name."""
    rounds = _review_rounds(
        actor, [a.subject_id for a in shown if a.subject_type == SubjectType.evidence_submission]
    )
    found = {alert.id for alert in shown if settled(AlertKind(alert.kind), _since(alert, rounds))}
    return found | merit_review.settled(shown)


def _since(alert: Alert, rounds: dict[int, tuple[bool, bool]]) -> Since:
    milestone, grant = alert.milestone, alert.grant
    current, reviewed = rounds.get(alert.subject_id, (True, False))
    return Since(
        milestone_state=str(milestone.state) if milestone else None,
        released=milestone is not None and milestone.released_at is not None,
        current_round=current,
        reviewed=reviewed,
        grant_state=str(grant.state) if grant else None,
        application_state=str(alert.application.state) if alert.application else None,
        amendment_state=str(alert.amendment.state) if alert.amendment else None,
        verified=alert.investment is not None and alert.investment.verified_at is not None,
    )


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
    """E-mails sent (or logged) for alerts, newest first, and those still waiting: admins only.
    An alert e-mailed in a daily digest shows the digest's e-mail."""
    require(Action.view_admin, Subject(role=actor.role))
    query = (
        select(Alert)
        .where((Alert.emailed_at.is_not(None)) | (Alert.email_attempts > 0))
        .options(joinedload(Alert.user), joinedload(Alert.digest))
        .order_by(Alert.emailed_at.desc().nulls_first(), Alert.id.desc())
    )
    return paginate(query, page, per_page)


def pending_count(actor: Actor) -> int:
    """Alerts to be e-mailed that were not yet, at once or in a digest (admins only); those
    their recipients chose not to receive by e-mail do not count."""
    require(Action.view_admin, Subject(role=actor.role))
    waiting = or_(Alert.delivery.is_(None), Alert.delivery != Delivery.off)
    query = select(func.count(Alert.id)).where(Alert.emailed_at.is_(None), waiting)
    return db.session.scalar(query) or 0
