"""Driving the HTML pages from tests: CSRF tokens and signing in."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from grants.domain.accounts import Locale
from grants.extensions import db
from grants.models import User
from tests.support.factories import PASSWORD

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
    return post_form(client, "/login", {"email": email, "password": password})


def login_english(client: FlaskClient, user: User) -> TestResponse:
    """Sign in as `user` reading English, for assertions on the messages as written."""
    user.locale = Locale.en
    db.session.commit()
    return login(client, user.email)
