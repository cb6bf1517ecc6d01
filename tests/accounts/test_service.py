"""User accounts: the last active administrator stays one."""

from __future__ import annotations

from dataclasses import replace

import pytest
from flask import Flask

from grants.accounts import service as accounts
from grants.accounts.models import User
from grants.core.errors import RuleViolation
from grants.core.identity import Role
from grants.core.models import AuditEvent
from grants.extensions import db
from tests.support.factories import make_user
from tests.support.i18n import said

ONLY_ADMIN = (
    "有効な管理者はこのアカウントだけです。先に別のアカウントを有効な管理者にしてください。"
)


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


@pytest.mark.parametrize(
    ("changes", "field"),
    [({"role": Role.officer}, "role"), ({"active": False}, "active"),
     ({"role": Role.reviewer, "active": False}, "role")],
)  # fmt: skip
def test_the_only_active_admin_cannot_demote_or_deactivate_themselves(
    app: Flask, changes: dict[str, object], field: str
) -> None:
    admin = make_user(Role.admin)
    make_user(Role.admin, active=False)  # an inactive admin does not count
    with pytest.raises(RuleViolation) as caught:
        accounts.update_user(admin, admin.id, _data(admin, **changes))
    assert said(caught.value.fields) == {field: [ONLY_ADMIN]}
    db.session.rollback()
    stored = db.session.get(User, admin.id)
    assert (stored.role, stored.active) == (Role.admin, True)
    assert db.session.query(AuditEvent).filter_by(action="user.update").count() == 0


def test_another_admin_may_be_demoted_while_one_stays(app: Flask) -> None:
    first, second = make_user(Role.admin), make_user(Role.admin)
    accounts.update_user(first, second.id, _data(second, role=Role.officer))
    with pytest.raises(RuleViolation):  # now first is the last one
        accounts.update_user(first, first.id, _data(first, active=False))
    db.session.rollback()
    renamed = accounts.update_user(first, first.id, _data(first, name="Still admin"))
    assert renamed.name == "Still admin" and renamed.role == Role.admin
