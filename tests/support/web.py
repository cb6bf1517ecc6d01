"""Driving the HTML pages from tests: CSRF tokens and signing in."""

from __future__ import annotations

import importlib
import pkgutil
import re
from types import ModuleType

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from grants.accounts.models import User
from grants.core.identity import Locale
from grants.extensions import db
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
