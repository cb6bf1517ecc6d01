"""Managing accounts gives no money power: an officer or administrator role given by an
administrator waits for a second administrator."""

from __future__ import annotations

from dataclasses import replace

import pytest
from flask import Flask, current_app
from flask.testing import FlaskCliRunner
from sqlalchemy import select

from grants.accounts import service as accounts
from grants.accounts.credentials import service as credentials
from grants.accounts.credentials.rules import LinkPurpose
from grants.accounts.models import User
from grants.accounts.role_changes import service as role_changes
from grants.accounts.role_changes.models import RoleChange
from grants.accounts.role_changes.rules import Access, RoleChangeState, needs_confirmation
from grants.core.errors import Conflict, NotAllowed, NotFound, RuleViolation
from grants.core.identity import Role
from grants.core.models import AuditEvent, utcnow
from grants.extensions import db
from tests.support.factories import make_user

STRONG = "lantern-quarry-ostrich"


def _data(user: User, **changes: object) -> accounts.UserData:
    data = accounts.UserData(
        email=user.email,
        name=user.name,
        role=user.role,
        locale=user.locale,
        organization_id=user.organization_id,
        active=user.active,
    )
    return replace(data, **changes)  # type: ignore[arg-type]


def _new(role: Role, active: bool = True) -> accounts.UserData:
    return accounts.UserData(email=f"new-{role}@example.jp", name="New", role=role, active=active)


def _create(actor: User, data: accounts.UserData) -> User:
    user, _invitation = accounts.create_user(actor, data, now=utcnow(), settings=current_app.config)
    return user


def _stored(user_id: int) -> Access:
    db.session.expire_all()
    user = db.session.get(User, user_id)
    assert user is not None
    return Access(user.role, user.active)


def _actions() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


@pytest.mark.parametrize(
    ("before", "after", "waits"),
    [
        (None, Access(Role.officer, True), True),
        (None, Access(Role.admin, True), True),
        (None, Access(Role.officer, False), False),
        (None, Access(Role.reviewer, True), False),
        (Access(Role.reviewer, True), Access(Role.officer, True), True),
        (Access(Role.officer, False), Access(Role.officer, True), True),
        (Access(Role.admin, True), Access(Role.officer, True), True),
        (Access(Role.officer, True), Access(Role.officer, True), False),
        (Access(Role.officer, True), Access(Role.reviewer, True), False),
        (Access(Role.officer, True), Access(Role.officer, False), False),
    ],
)
def test_which_changes_wait(before: Access | None, after: Access, waits: bool) -> None:
    assert needs_confirmation(before, after) is waits


def test_creating_an_officer_waits_inactive_for_a_second_administrator(app: Flask) -> None:
    asking, confirming = make_user(Role.admin), make_user(Role.admin)
    officer = _create(asking, _new(Role.officer))
    assert _stored(officer.id) == Access(Role.officer, False)  # cannot sign in yet
    change = db.session.scalars(select(RoleChange)).one()
    assert (change.role, change.state, change.requested_by_id) == (
        Role.officer,
        RoleChangeState.pending,
        asking.id,
    )
    with pytest.raises(NotAllowed, match="another administrator must confirm it"):
        role_changes.confirm_role_change(asking, change.id)
    assert _stored(officer.id) == Access(Role.officer, False)

    role_changes.confirm_role_change(confirming, change.id)
    assert _stored(officer.id) == Access(Role.officer, True)
    db.session.refresh(change)
    assert (change.state, change.decided_by_id) == (RoleChangeState.confirmed, confirming.id)
    assert _actions()[-4:] == [
        "role_change.request",
        "user.create",
        "credential_link.issue",  # the invitation: it works once the role is confirmed
        "role_change.confirm",
    ]
    with pytest.raises(Conflict, match="confirmed or refused already"):
        role_changes.confirm_role_change(make_user(Role.admin), change.id)


def test_the_invitation_of_an_officer_works_once_the_role_is_confirmed(app: Flask) -> None:
    asking, confirming = make_user(Role.admin), make_user(Role.admin)
    _officer, invitation = accounts.create_user(
        asking, _new(Role.officer), now=utcnow(), settings=current_app.config
    )
    secret = invitation.secret or ""
    with pytest.raises(Conflict, match="inactive"):
        credentials.set_password(
            secret, LinkPurpose.invitation, STRONG, utcnow(), current_app.config
        )
    role_changes.confirm_role_change(confirming, db.session.scalars(select(RoleChange)).one().id)
    notice = credentials.set_password(
        secret, LinkPurpose.invitation, STRONG, utcnow(), current_app.config
    )
    assert notice.to == "new-officer@example.jp"


def test_a_promotion_keeps_the_old_role_until_confirmed(app: Flask) -> None:
    asking, confirming = make_user(Role.admin), make_user(Role.admin)
    reviewer = make_user(Role.reviewer)
    saved = accounts.update_user(
        asking, reviewer.id, _data(reviewer, role=Role.officer, name="Renamed")
    )
    assert saved.name == "Renamed"  # the rest is saved at once
    assert _stored(reviewer.id) == Access(Role.reviewer, True)
    with pytest.raises(RuleViolation) as twice:
        accounts.update_user(asking, reviewer.id, _data(saved, role=Role.admin))
    assert "already waits for a second administrator" in str(twice.value.fields["role"])
    change = db.session.scalars(select(RoleChange)).one()
    role_changes.confirm_role_change(confirming, change.id)
    assert _stored(reviewer.id) == Access(Role.officer, True)


def test_reactivating_an_officer_waits(app: Flask) -> None:
    admin = make_user(Role.admin)
    dormant = make_user(Role.officer, active=False)
    accounts.update_user(admin, dormant.id, _data(dormant, active=True))
    assert _stored(dormant.id) == Access(Role.officer, False)
    # taking power away is immediate
    officer = make_user(Role.officer)
    accounts.update_user(admin, officer.id, _data(officer, active=False))
    assert _stored(officer.id) == Access(Role.officer, False)
    assert db.session.query(RoleChange).count() == 1


def test_the_account_itself_cannot_confirm_and_anyone_may_refuse(app: Flask) -> None:
    first, second = make_user(Role.admin), make_user(Role.admin)
    # first asks to make second an officer: second may not confirm a change of their own
    accounts.update_user(first, second.id, _data(second, role=Role.officer))
    change = db.session.scalars(select(RoleChange)).one()
    with pytest.raises(NotAllowed, match="about your own account"):
        role_changes.confirm_role_change(second, change.id)
    refused = role_changes.refuse_role_change(first, change.id)  # the one who asked withdraws
    assert (refused.state, refused.decided_by_id) == (RoleChangeState.refused, first.id)
    assert _stored(second.id) == Access(Role.admin, True)
    with pytest.raises(Conflict):
        role_changes.refuse_role_change(first, change.id)
    with pytest.raises(NotFound):
        role_changes.refuse_role_change(first, 999)
    with pytest.raises(NotAllowed):
        role_changes.refuse_role_change(make_user(Role.officer), change.id)


def test_a_change_made_stale_cannot_be_confirmed(app: Flask) -> None:
    asking, confirming = make_user(Role.admin), make_user(Role.admin)
    reviewer = make_user(Role.reviewer)
    accounts.update_user(asking, reviewer.id, _data(reviewer, role=Role.officer))
    accounts.update_user(asking, reviewer.id, _data(reviewer, active=False))
    change = db.session.scalars(select(RoleChange)).one()
    with pytest.raises(Conflict, match="changed after this was asked"):
        role_changes.confirm_role_change(confirming, change.id)
    assert _stored(reviewer.id) == Access(Role.reviewer, False)


def test_the_system_gives_roles_at_once(app: Flask) -> None:
    officer = make_user(Role.officer)  # the factories act as the system (command line)
    assert _stored(officer.id) == Access(Role.officer, True)
    assert db.session.query(RoleChange).count() == 0


def test_one_administrator_confirms_on_the_command_line(app: Flask, runner: FlaskCliRunner) -> None:
    only = make_user(Role.admin)
    officer = _create(only, _new(Role.officer))
    change = db.session.scalars(select(RoleChange)).one()
    result = runner.invoke(args=["grants", "confirm-role-change", str(change.id)])
    assert result.exit_code == 0, result.output
    assert f"{officer.email} is now an active officer" in result.output
    assert _stored(officer.id) == Access(Role.officer, True)
    confirm = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "role_change.confirm")
    ).one()
    assert confirm.actor_id is None and confirm.actor_label == "system"
    again = runner.invoke(args=["grants", "confirm-role-change", str(change.id)])
    # the command line speaks the installation's language
    assert again.exit_code == 1 and "既に承認または却下されています" in again.output
    unknown = runner.invoke(args=["grants", "confirm-role-change", "99999999999999999999"])
    assert unknown.exit_code != 0


def test_the_command_line_leaves_it_to_a_second_administrator_when_there_is_one(
    app: Flask, runner: FlaskCliRunner
) -> None:
    asking = make_user(Role.admin)
    make_user(Role.admin)
    officer = _create(asking, _new(Role.officer))
    change = db.session.scalars(select(RoleChange)).one()
    result = runner.invoke(args=["grants", "confirm-role-change", str(change.id)])
    assert result.exit_code == 1 and "別の管理者が承認できます" in result.output
    assert _stored(officer.id) == Access(Role.officer, False)


def test_the_last_administrator_does_not_become_an_officer_by_the_command_line(
    app: Flask, runner: FlaskCliRunner
) -> None:
    only, other = make_user(Role.admin), make_user(Role.admin)
    accounts.update_user(other, only.id, _data(only, role=Role.officer))
    accounts.update_user(only, other.id, _data(other, role=Role.reviewer))
    change = db.session.scalars(select(RoleChange)).one()
    result = runner.invoke(args=["grants", "confirm-role-change", str(change.id)])
    assert result.exit_code == 1 and "有効な管理者はこのアカウントだけです" in result.output
    assert _stored(only.id) == Access(Role.admin, True)
