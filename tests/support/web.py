"""Driving the HTML pages from tests: CSRF tokens and signing in."""

from __future__ import annotations

import importlib
import pkgutil
import re
from types import ModuleType

from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from grants.accounts.models import User
from grants.accounts.rules import normalize_email
from grants.core.identity import Locale
from grants.extensions import db
from tests.support.factories import PASSWORD
from tests.support.second_factor import enrol_totp, needs_second_factor, next_code

_TOKEN = re.compile(r'<meta name="csrf-token" content="([^"]+)">')


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    page = client.get(path, follow_redirects=True).get_data(as_text=True)
    match = _TOKEN.search(page)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def post_form(
    client: FlaskClient, path: str, data: dict[str, object], **kwargs: object
) -> TestResponse:
    """POST like a browser does: with the page's CSRF token."""
    return client.post(path, data={"csrf_token": csrf_token(client), **data}, **kwargs)


def login(client: FlaskClient, email: str, password: str = PASSWORD) -> TestResponse:
    """Sign in as a person does: the password, then the second factor when the account has
    one (a code from its app), or setting one up first when its role needs one. The answer
    is the one that signed in (its redirect), or the password step's when that failed."""
    response = post_form(client, "/login", {"email": email, "password": password})
    if response.status_code != 302:
        return response
    with client.application.app_context():  # the test may hold none
        user = db.session.scalar(select(User).where(User.email == normalize_email(email)))
        if response.headers["Location"] == "/login/second-factor":
            return post_form(client, "/login/second-factor", {"code": next_code(user)})
        if needs_second_factor(user):
            enrol_totp(client, user)
    return response


def login_english(client: FlaskClient, user: User) -> TestResponse:
    """Sign in as `user` reading English, for assertions on the messages as written."""
    user.locale = Locale.en
    db.session.commit()
    return login(client, user.email)


def edge_modules() -> list[ModuleType]:
    """Every module of the HTML edge: each feature's web and forms modules (a web package's
    too) and the shared form base."""
    import grants

    found = []
    for info in pkgutil.walk_packages(grants.__path__, "grants."):
        leaf = info.name.rsplit(".", 1)[-1]
        if leaf in ("web", "forms") or info.name.startswith("grants.rulesets.web."):
            found.append(importlib.import_module(info.name))
    return found
