"""One link used twice at the same moment (two tabs, a double submit) sets one password.

The link's row is locked while it is used; SQLite serialises whole transactions, so the
race only exists, and is only tested, on PostgreSQL.
"""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from grants.accounts import service as accounts
from grants.accounts.credentials import service as credentials
from grants.accounts.credentials.rules import LinkPurpose
from grants.accounts.models import User
from grants.core.errors import Conflict
from grants.core.models import AuditEvent, utcnow
from grants.extensions import db
from tests.support.factories import make_user
from tests.support.races import at_once

THREADS = 8


@pytest.fixture(autouse=True)
def _postgresql_only(app: Flask) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip(
            "Row-lock races need PostgreSQL; SQLite serialises whole transactions. "
            "Run with GRANTS_TEST_DATABASE=postgresql."
        )


def test_a_link_used_at_once_from_several_tabs_sets_one_password(app: Flask) -> None:
    user = make_user()
    link = credentials.request_reset(user.email, "ja", utcnow(), app.config)
    secret, user_id = link.secret or "", user.id

    def use(_user: User, password: str) -> object:
        return credentials.set_password(secret, LinkPurpose.reset, password, utcnow(), app.config)

    passwords = [f"lantern-quarry-ostrich-{n}" for n in range(THREADS)]
    results = at_once(app, use, [(user_id, password) for password in passwords])
    succeeded = [n for n, result in enumerate(results) if not isinstance(result, Exception)]
    assert len(succeeded) == 1, results
    assert all(isinstance(r, Conflict) for n, r in enumerate(results) if n not in succeeded)
    db.session.expire_all()
    assert accounts.check_password(user.email, passwords[succeeded[0]]) is not None
    changes = db.session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "user.password_change", AuditEvent.object_id == str(user_id)
        )
    ).all()
    assert [change.after["through"] for change in changes] == ["invitation", "reset"]
