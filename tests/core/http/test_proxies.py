"""Behind a reverse proxy (TRUSTED_PROXIES), the sign-in limit counts each client."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from grants import create_app
from grants.extensions import db, limiter


def _attempts(app: Flask, client_address: str, count: int) -> list[int]:
    client = app.test_client()
    headers = {"X-Forwarded-For": client_address}
    statuses = []
    for n in range(count):
        with app.app_context():
            page = client.get("/login", headers=headers).get_data(as_text=True)
            token = page.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
            # a new address each time: only the per-client limit counts here, not the account's
            email = f"x{n}.{client_address}@example.jp"
            form = {"csrf_token": token, "email": email, "password": "wrong password"}
            statuses.append(client.post("/login", data=form, headers=headers).status_code)
            db.session.remove()
    return statuses


@pytest.fixture
def behind_a_proxy(app: Flask, database_url: str) -> Iterator[Flask]:
    """A second app on the test database (the `app` fixture made its tables)."""
    proxied = create_app(
        {"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": database_url, "TRUSTED_PROXIES": 1}
    )
    yield proxied
    limiter.reset()
    with proxied.app_context():
        db.engine.dispose()


def test_behind_a_trusted_proxy_each_client_has_its_own_limit(behind_a_proxy: Flask) -> None:
    assert _attempts(behind_a_proxy, "198.51.100.1", 11)[-1] == 429
    assert _attempts(behind_a_proxy, "198.51.100.2", 1) == [200]


def test_without_trusted_proxies_a_forwarded_address_is_ignored(app: Flask) -> None:
    assert _attempts(app, "198.51.100.1", 11)[-1] == 429
    assert _attempts(app, "198.51.100.2", 1) == [429]  # forged: still the same client
