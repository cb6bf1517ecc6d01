"""Role changes that wait for a second administrator (rules.needs_confirmation).

An administrator who gives an account a confirmed role (creating, promoting or re-activating
an officer or an administrator) only asks for it: accounts.service calls `hold`, which keeps
the account's role and activity as they were and records the request. Another administrator
confirms it (the account then gets the role) or refuses it; the one who asked may withdraw
it. An installation with a single administrator confirms through the command line
(`flask grants confirm-role-change ID`: `confirm_alone`). The system itself (the command
line, the demo) gives roles at once.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from grants.accounts.models import User
from grants.accounts.role_changes.models import RoleChange
from grants.accounts.role_changes.queries import (
    confirmer_subject,
    other_administrators,
    pending_change,
)
from grants.accounts.role_changes.rules import Access, RoleChangeState, needs_confirmation
from grants.core import audit
from grants.core.actors import SYSTEM, Actor, SystemActor
from grants.core.db import locked_row, use_case
from grants.core.errors import Conflict, RuleViolation
from grants.core.identity import Role
from grants.core.models import utcnow
from grants.core.permissions import Action, Subject, require
from grants.core.problems import N_
from grants.extensions import db


def hold(actor: Actor, user: User, before: Access | None) -> RoleChange | None:
    """In the transaction of a use case that has just set `user`'s fields (`before`: its role
    and activity until then, None for a new account): when `actor`, an administrator, gave it
    a confirmed role, put the old role and activity back and record the request. The caller
    commits."""
    if isinstance(actor, SystemActor):
        return None
    asked = Access(user.role, user.active)
    if not needs_confirmation(before, asked):
        return None
    kept = before or Access(asked.role, False)  # a new account waits, unable to sign in
    user.role, user.active = kept.role, kept.active
    db.session.flush()  # a new account's id
    if pending_change(user.id) is not None:
        message = N_("A role change of this account already waits for a second administrator.")
        raise RuleViolation(N_("The account could not be saved."), {"role": [message]})
    change = RoleChange(
        user_id=user.id,
        role=asked.role,
        from_role=kept.role,
        from_active=kept.active,
        state=RoleChangeState.pending,
        requested_by_id=actor.id,
        requested_at=utcnow(),
    )
    db.session.add(change)
    try:
        db.session.flush()  # one waiting change per account, against a race
    except IntegrityError:
        db.session.rollback()
        raise Conflict(
            N_("A role change of this account already waits for a second administrator.")
        ) from None
    audit.record(actor, "role_change.request", change, after=change_snapshot(change))
    return change


@use_case
def confirm_role_change(actor: Actor, change_id: int) -> RoleChange:
    """Another administrator confirms: the account becomes an active holder of the role."""
    require(Action.confirm_role_change, Subject(role=actor.role))  # before telling what exists
    change = _locked(change_id)
    require(Action.confirm_role_change, confirmer_subject(actor, change))
    return _confirm(actor, change)


@use_case
def confirm_alone(change_id: int) -> RoleChange:
    """The system confirms for an installation where no other active administrator than the
    one who asked could (the command line: the operator of the server decides)."""
    change = _locked(change_id)
    if other_administrators(change, lock=True):
        raise Conflict(
            N_(
                "Another administrator can confirm this role change: it is confirmed on the "
                "role changes page, not from the command line."
            )
        )
    return _confirm(SYSTEM, change)


@use_case
def refuse_role_change(actor: Actor, change_id: int) -> RoleChange:
    """Another administrator refuses the change, or the one who asked withdraws it: the
    account keeps its role."""
    require(Action.manage_users, Subject(role=actor.role))
    change = _locked(change_id)
    _check_pending(change)
    before = change_snapshot(change)
    _decide(actor, change, RoleChangeState.refused)
    audit.record(actor, "role_change.refuse", change, before, change_snapshot(change))
    db.session.commit()
    return change


def _confirm(actor: Actor, change: RoleChange) -> RoleChange:
    _check_pending(change)
    user = db.session.scalar(
        select(User)
        .where(User.id == change.user_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert user is not None  # a foreign key
    if Access(user.role, user.active) != Access(change.from_role, change.from_active):
        raise Conflict(
            N_(
                "The account's role or activity changed after this was asked: refuse it and "
                "ask again."
            )
        )
    _keep_an_administrator(user, change)
    before = change_snapshot(change)
    user.role, user.active = change.role, True
    _decide(actor, change, RoleChangeState.confirmed)
    audit.record(actor, "role_change.confirm", change, before, change_snapshot(change))
    db.session.commit()
    return change


def _keep_an_administrator(user: User, change: RoleChange) -> None:
    """An administrator made an officer leaves another active administrator behind."""
    if user.role != Role.admin or change.role == Role.admin or not user.active:
        return
    admins = db.session.scalars(
        select(User.id).where(User.role == Role.admin, User.active.is_(True)).with_for_update()
    ).all()
    if set(admins) - {user.id}:
        return
    raise Conflict(
        N_(
            "This is the only active administrator: make another account an active "
            "administrator first."
        )
    )


def _decide(actor: Actor, change: RoleChange, state: RoleChangeState) -> None:
    change.state = state
    change.decided_by_id = actor.id
    change.decided_at = utcnow()


def _check_pending(change: RoleChange) -> None:
    if change.state != RoleChangeState.pending:
        raise Conflict(N_("This role change was confirmed or refused already."))


def _locked(change_id: int) -> RoleChange:
    return locked_row(RoleChange, change_id)


def change_snapshot(change: RoleChange) -> dict[str, Any]:
    return {
        "user_id": change.user_id,
        "role": str(change.role),
        "from_role": str(change.from_role),
        "from_active": change.from_active,
        "state": str(change.state),
        "requested_by_id": change.requested_by_id,
        "decided_by_id": change.decided_by_id,
    }
