"""Reading the audit log as administrators search it: who did what to which object when.

Filters: the actor (part of the e-mail address or "system"), the action (exactly, or a
family: "tranche" finds tranche.release, tranche.prepare ...), the object's type and id,
and a range of days in Asia/Tokyo. Newest first. A page costs two statements (a count and
the rows: the actor's label is in the row), whatever the page size.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Select, func, or_, select

from grants.core.actors import Actor
from grants.core.calendar import TOKYO, Day
from grants.core.db import Page, bounded, page_within
from grants.core.errors import RuleViolation
from grants.core.models import AuditEvent
from grants.core.permissions import Action, Subject, require
from grants.core.problems import N_, Problem
from grants.extensions import db

PER_PAGE = 50
FILTER_MAX = 254  # the longest actor label, and far beyond any action or object name
BATCH = 500


@dataclass(frozen=True)
class AuditFilters:
    actor: str | None = None
    action: str | None = None
    object_type: str | None = None
    object_id: str | None = None
    date_from: date | None = None  # Tokyo days, both included
    date_to: date | None = None


def check(actor: Actor, filters: AuditFilters) -> None:
    """Administrators only; a range of days that ends on or after it starts."""
    require(Action.view_audit, Subject(role=actor.role))
    errors: dict[str, list[Problem]] = {}
    for name in ("actor", "action", "object_type", "object_id"):
        value = getattr(filters, name)
        if value is not None and len(value) > FILTER_MAX:
            errors[name] = [N_("At most %(n)d characters.", n=FILTER_MAX)]
    start, end = filters.date_from, filters.date_to
    if start is not None and end is not None and end < start:
        errors["date_to"] = [
            N_("The range must end on or after the day it starts (%(day)s).", day=Day(start))
        ]
    if errors:
        raise RuleViolation(N_("Check the audit log filters."), errors)


def events_page(actor: Actor, filters: AuditFilters, page: int, per_page: int) -> Page:
    """A page of the events matching `filters`, newest first, and how many match."""
    check(actor, filters)
    page, per_page = bounded(page, per_page)
    query = events_query(filters)
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    page = page_within(page, total or 0, per_page)
    items = db.session.scalars(query.offset((page - 1) * per_page).limit(per_page)).all()
    return Page(list(items), page, per_page, total or 0)


def events_query(filters: AuditFilters) -> Select[tuple[AuditEvent]]:
    query = select(AuditEvent)
    if filters.actor:
        query = query.where(AuditEvent.actor_label.icontains(filters.actor, autoescape=True))
    if filters.action:
        family = filters.action.rstrip(".") + "."
        query = query.where(
            or_(
                AuditEvent.action == filters.action,
                AuditEvent.action.startswith(family, autoescape=True),
            )
        )
    if filters.object_type:
        query = query.where(AuditEvent.object_type == filters.object_type)
    if filters.object_id:
        query = query.where(AuditEvent.object_id == filters.object_id)
    if filters.date_from is not None:
        query = query.where(AuditEvent.created_at >= day_start(filters.date_from))
    if filters.date_to is not None:
        query = query.where(AuditEvent.created_at < day_start(filters.date_to + timedelta(1)))
    return query.order_by(AuditEvent.id.desc())


def day_start(day: date) -> datetime:
    """Midnight at the start of `day` in Tokyo, in UTC."""
    return datetime.combine(day, time(), TOKYO).astimezone(UTC)


def events_rows(filters: AuditFilters) -> Generator[AuditEvent, None, None]:
    """Every matching event, read in batches (a server-side cursor on PostgreSQL)."""
    result = db.session.scalars(events_query(filters).execution_options(yield_per=BATCH))
    try:
        yield from result
    finally:
        result.close()
