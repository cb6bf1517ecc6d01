"""The inbox as its owner reads it: what is unread."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from grants.accounts.models import User
from grants.alerts.models import Alert
from grants.core.actors import Actor, Person
from grants.core.errors import NotAllowed
from grants.extensions import db


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
        raise NotAllowed(_("Only a signed-in user has an inbox."))
    return actor.id
