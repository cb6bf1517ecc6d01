"""Private iCalendar feeds of milestone due dates, at a secret and revocable address.

The secret is shown once, when created; only its SHA-256 is stored, so a database leak
does not reveal feed addresses. Regenerating replaces it (the old address stops working);
revoking deletes it. An unknown or revoked token, or an inactive user, is NotFound.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

from icalendar import Calendar, Event
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager

from grants.accounts.models import User
from grants.alerts.models import CalendarToken
from grants.alerts.rules import OPEN_STATES
from grants.awards.models import Grant, Milestone, ReviewerAssignment
from grants.core import audit
from grants.core.actors import Actor
from grants.core.calendar import Day
from grants.core.db import use_case
from grants.core.errors import Conflict, NotAllowed, NotFound
from grants.core.i18n import translate
from grants.core.identity import Role
from grants.core.models import utcnow
from grants.core.problems import N_
from grants.core.states import GrantState
from grants.extensions import db

TOKEN_BYTES = 32
TOKEN_MAX_LENGTH = 100
PRODID = "-//Milestone Grants//Due dates//EN"

# The address of a milestone (grant id, milestone id): its section of the grant page.
MilestoneUrl = Callable[[int, int], str | None]


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def current_token(actor: Actor) -> CalendarToken | None:
    """The actor's feed token record (its hash and creation time), or None."""
    return db.session.scalar(select(CalendarToken).where(CalendarToken.user_id == _user_id(actor)))


@use_case
def create_token(actor: Actor) -> str:
    """A new secret for the actor's feed, replacing any earlier one; returned once."""
    user_id = _user_id(actor)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    record = db.session.scalar(
        select(CalendarToken).where(CalendarToken.user_id == user_id).with_for_update()
    )
    before = None if record is None else {"created_at": record.created_at.isoformat()}
    if record is None:
        record = CalendarToken(user_id=user_id)
        db.session.add(record)
    record.token_hash = token_hash(token)
    record.created_at = utcnow()
    after = {"user_id": user_id, "created_at": record.created_at.isoformat()}
    audit.record(actor, "calendar_token.create", record, before, after)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Conflict(
            N_("The calendar address was changed at the same time. Try again.")
        ) from None
    return token


@use_case
def revoke_token(actor: Actor) -> bool:
    """Delete the actor's feed token; False when there was none."""
    record = current_token(actor)
    if record is None:
        return False
    audit.record(
        actor, "calendar_token.revoke", record, {"created_at": record.created_at.isoformat()}
    )
    db.session.delete(record)
    db.session.commit()
    return True


def user_for_token(token: str) -> User:
    if not token or len(token) > TOKEN_MAX_LENGTH:
        raise NotFound(N_("Not found."))
    user = db.session.scalar(
        select(User)
        .join(CalendarToken, CalendarToken.user_id == User.id)
        .where(CalendarToken.token_hash == token_hash(token))
    )
    if user is None or not user.active:
        raise NotFound(N_("Not found."))
    return user


def feed_milestones(user: User) -> list[Milestone]:
    """Open milestones of active grants the user works on, by due date."""
    query = (
        select(Milestone)
        .join(Grant, Grant.id == Milestone.grant_id)
        .options(contains_eager(Milestone.grant))
        .where(Grant.state == GrantState.active, Milestone.state.in_(OPEN_STATES))
        .order_by(Milestone.due_date, Milestone.id)
    )
    if user.role == Role.applicant:
        if user.organization_id is None:
            return []
        query = query.where(Grant.organization_id == user.organization_id)
    elif user.role == Role.reviewer:
        assigned = select(ReviewerAssignment.grant_id).where(
            ReviewerAssignment.reviewer_id == user.id
        )
        query = query.where(Grant.id.in_(assigned))
    elif user.role != Role.officer:
        return []
    return list(db.session.scalars(query))


def feed(token: str, now: datetime, milestone_url: MilestoneUrl | None = None) -> bytes:
    """The .ics document for the feed at `token` (NotFound when it is unknown or revoked).

    One VEVENT per open milestone: a stable UID (milestone-<id>@grants, so that calendar
    applications update the event when its due date moves), DTSTAMP `now`, the due date as
    an all-day event, and the overdue flag's date in the description when it is set. In
    the feed owner's language: the calendar application that reads it has no session.
    """
    user = user_for_token(token)
    locale = str(user.locale)
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", translate(N_("Milestone due dates"), locale))
    calendar.add("x-wr-timezone", "Asia/Tokyo")
    for milestone in feed_milestones(user):
        calendar.add_component(_event(milestone, now, milestone_url, locale))
    return calendar.to_ical()


def _event(
    milestone: Milestone, now: datetime, milestone_url: MilestoneUrl | None, locale: str
) -> Event:
    grant = milestone.grant
    event = Event()
    event.add("uid", f"milestone-{milestone.id}@grants")
    event.add("dtstamp", now)
    event.add("dtstart", milestone.due_date)
    event.add("dtend", milestone.due_date + timedelta(days=1))
    event.add("summary", f"{grant.number} #{milestone.sequence}: {milestone.title}")
    description = translate(
        N_(
            "Due date of milestone %(sequence)d of grant %(grant)s.",
            sequence=milestone.sequence,
            grant=grant.number,
        ),
        locale,
    )
    if milestone.overdue_since is not None:  # the scan's flag, as on every page
        overdue = N_("Overdue since %(day)s", day=Day(milestone.overdue_since))
        description += "\n" + translate(overdue, locale)
    event.add("description", description)
    event.add("transp", "TRANSPARENT")
    link = milestone_url(grant.id, milestone.id) if milestone_url else None
    if link:
        event.add("url", link)
    return event


def _user_id(actor: Actor) -> int:
    if actor.id is None:
        raise NotAllowed(N_("Only a signed-in user has a calendar feed."))
    return actor.id
