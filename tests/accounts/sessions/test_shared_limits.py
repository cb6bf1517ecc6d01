"""The sign-in limit on several app servers: with GRANTS_RATELIMIT_STORAGE_URI=redis://...
the attempts made on every server count against one limit (a real Redis server)."""

from __future__ import annotations

import redis
from flask import Flask

from grants.extensions import db
from tests.support.factories import PASSWORD, make_user
from tests.support.limits import attempts_on_a_server


def _two_servers(app: Flask, database_url: str, storage_uri: str) -> tuple[list[int], list[int]]:
    """Refused attempts on a first server up to two below the account's limit, then two more
    and the right password on a second one."""
    email = make_user().email
    db.session.rollback()  # SQLite's write lock is free for the servers
    limit = int(app.config["LOGIN_ACCOUNT_RATE_LIMIT"].split()[0])
    first = attempts_on_a_server(database_url, storage_uri, email, ["wrong"] * (limit - 2))
    second = attempts_on_a_server(database_url, storage_uri, email, ["wrong", "wrong", PASSWORD])
    return first, second


def test_sign_in_attempts_on_two_servers_count_against_one_limit(
    app: Flask, database_url: str, redis_url: str
) -> None:
    store = redis.Redis.from_url(redis_url)
    store.flushdb()
    first, second = _two_servers(app, database_url, redis_url)
    assert set(first) == {200}  # refused, still allowed to try
    assert second == [200, 200, 429]  # the limit counted the first server's attempts too
    assert store.keys("LIMITS*")  # the counters are in Redis
    store.close()


def test_in_memory_counters_hold_on_one_server_only(app: Flask, database_url: str) -> None:
    """Why production needs the shared store: each server counts on its own."""
    first, second = _two_servers(app, database_url, "memory://")
    assert set(first) == {200} and second == [200, 200, 302]
