"""Giving and setting up second factors from tests, as a person with an authenticator app
does: codes come from the account's own secret (read and opened as the server does)."""

from __future__ import annotations

import re

from flask import current_app
from flask.testing import FlaskClient
from sqlalchemy import select

from grants.accounts.models import User
from grants.accounts.second_factor import queries, service
from grants.accounts.second_factor.models import TotpAuthenticator
from grants.accounts.second_factor.rules import (
    SecondFactorPolicy,
    SecretBox,
    StepUp,
    code_at,
    time_step,
)
from grants.core.models import utcnow
from grants.extensions import db

PREFIX = "/settings/security/second-factor"
_CODES = re.compile(r"<li><code>([a-z0-9-]+)</code></li>")


def next_code(user: User) -> str:
    """A code the server accepts now: the app's code of the first step not used yet (this
    one or the next, both within the skew), else a new recovery code (made through the
    service, as the settings page makes them)."""
    db.session.expire_all()
    totp = db.session.scalar(
        select(TotpAuthenticator).where(
            TotpAuthenticator.user_id == user.id, TotpAuthenticator.confirmed_at.is_not(None)
        )
    )
    if totp is not None:
        secret = SecretBox.of(current_app.config).open(totp.secret_sealed)
        assert secret is not None
        now = time_step(utcnow())
        for step in (now, now + 1):
            if totp.last_used_step is None or step > totp.last_used_step:
                return code_at(secret, step)
    codes, _notice = service.regenerate_recovery_codes(db.session.get(User, user.id))
    return codes[0]


def no_second_factor_given() -> StepUp:
    """As the command line and the API pass it: no second factor given in this session
    (only the system may then create a token for an officer or administrator)."""
    return StepUp(SecondFactorPolicy.of(current_app.config), None, utcnow())


def needs_second_factor(user: User) -> bool:
    return SecondFactorPolicy.of(current_app.config).required_for(user.role)


def enrol_totp(client: FlaskClient, user: User) -> list[str]:
    """Set up an authenticator app through the pages (signed in as `user`); its recovery codes."""
    from tests.support.web import post_form

    assert post_form(client, f"{PREFIX}/totp", {}).status_code == 302
    secret = queries.pending_totp_secret(user.id, SecretBox.of(current_app.config))
    assert secret is not None
    code = code_at(secret, time_step(utcnow()))
    page = post_form(client, f"{PREFIX}/totp/confirm", {"code": code})
    assert page.status_code == 200, page.get_data(as_text=True)
    return _CODES.findall(page.get_data(as_text=True))
