"""Role changes waiting for a second administrator, and what an administrator may do with
them now."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Select, case, select
from sqlalchemy.orm import selectinload

from grants.accounts.models import User
from grants.accounts.role_changes.models import RoleChange
from grants.accounts.role_changes.rules import RoleChangeState
from grants.core.actors import Actor
from grants.core.db import paginate
from grants.core.identity import Role
from grants.core.permissions import Action, Subject, decide
from grants.extensions import db


def pending_change(user_id: int) -> RoleChange | None:
    query = select(RoleChange).where(
        RoleChange.user_id == user_id, RoleChange.state == RoleChangeState.pending
    )
    return db.session.scalar(query)


def pending_changes(user_ids: Iterable[int]) -> dict[int, RoleChange]:
    """The waiting change of each of these accounts that has one."""
    ids = set(user_ids)
    if not ids:
        return {}
    query = select(RoleChange).where(
        RoleChange.user_id.in_(ids), RoleChange.state == RoleChangeState.pending
    )
    return {change.user_id: change for change in db.session.scalars(query)}


def confirmer_subject(actor: Actor, change: RoleChange) -> Subject:
    """The actor's relation to the change: they asked for it, or it is about their account."""
    return Subject(
        role=actor.role,
        is_requester=actor.id is not None and change.requested_by_id == actor.id,
        is_own_account=actor.id is not None and change.user_id == actor.id,
    )


def other_administrators(change: RoleChange, lock: bool = False) -> list[int]:
    """The active administrators who could confirm the change (not the one who asked, not
    the account it is about)."""
    query = select(User.id).where(
        User.role == Role.admin,
        User.active.is_(True),
        User.id.not_in([change.requested_by_id, change.user_id]),
    )
    if lock:
        query = query.with_for_update()
    return list(db.session.scalars(query))


@dataclass(frozen=True)
class ChangeRow:
    change: RoleChange
    may_confirm: bool  # another administrator than the one who asked, not its own account
    may_refuse: bool  # any administrator, while it waits
    confirmable_here: bool  # someone may confirm it on the page (else: the command line)


PER_PAGE = 50


def changes_page(actor: Actor, page: int) -> tuple[Pagination, list[ChangeRow]]:
    """Waiting changes first (oldest first), then the decided ones (newest first)."""
    waiting = RoleChange.state == RoleChangeState.pending
    query = (
        select(RoleChange)
        .options(
            selectinload(RoleChange.user),
            selectinload(RoleChange.requested_by),
            selectinload(RoleChange.decided_by),
        )
        .order_by(
            case((waiting, 0), else_=1),
            case((waiting, RoleChange.id), else_=-RoleChange.id),
        )
    )
    found = paginate(query, page, PER_PAGE)
    admins = set(
        db.session.scalars(select(User.id).where(User.role == Role.admin, User.active.is_(True)))
    )
    rows = [_row(actor, change, admins) for change in found.items]
    return found, rows


def _row(actor: Actor, change: RoleChange, admins: set[int]) -> ChangeRow:
    pending = change.state == RoleChangeState.pending
    subject = confirmer_subject(actor, change)
    return ChangeRow(
        change=change,
        may_confirm=pending and decide(Action.confirm_role_change, subject).allowed,
        may_refuse=pending and decide(Action.manage_users, subject).allowed,
        confirmable_here=bool(admins - {change.requested_by_id, change.user_id}),
    )


def changes_in(state: RoleChangeState) -> Select[tuple[RoleChange]]:
    """Role changes in `state`: waiting ones oldest first, decided ones newest first."""
    query = select(RoleChange).where(RoleChange.state == state)
    if state == RoleChangeState.pending:
        return query.order_by(RoleChange.id)
    return query.order_by(RoleChange.id.desc())
