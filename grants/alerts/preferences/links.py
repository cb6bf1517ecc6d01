"""Signed one-click links to the e-mail preference of one kind of alert, for every e-mail.

Following the link proves who it was sent to: it opens that user's choice for that kind
without a sign-in, and the page it opens changes that one choice (a POST with its CSRF
token). The token holds the user's id and the kind, signed with the installation's secret
key (itsdangerous, HMAC-SHA256) under a salt of its own, so that no other value the
installation signs (the session cookie, CSRF tokens) passes for one; it expires after
NOTIFICATION_LINK_DAYS. A changed token, another installation's or an expired one is
refused. `now` is an argument: the e-mail signs with its own time, the page checks with its.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from grants.core.alert_kinds import AlertKind

SALT = "grants.alerts.preferences.link"


@dataclass(frozen=True)
class LinkedChoice:
    """What a valid link names: one user's choice for one kind."""

    user_id: int
    kind: AlertKind


class LinkRefused(Exception):
    """The link is not one this installation signed, or not in this form."""


class LinkExpired(LinkRefused):
    """The link was signed here, but longer ago than it stays valid."""


def sign(user_id: int, kind: AlertKind, secret_key: str, now: datetime) -> str:
    """The token of a link to `user_id`'s choice for `kind`, signed at `now`."""
    return _serializer(secret_key, now).dumps([user_id, str(kind)])


def read(token: str, secret_key: str, valid_for: timedelta, now: datetime) -> LinkedChoice:
    """The choice a token names; LinkExpired when it is older than `valid_for` at `now`,
    LinkRefused when it was not signed here or does not name a user and a kind."""
    serializer = _serializer(secret_key, now)
    try:
        value = serializer.loads(token, max_age=int(valid_for.total_seconds()))
    except SignatureExpired as error:
        raise LinkExpired() from error
    except BadSignature as error:  # also a token that is not even in the right form
        raise LinkRefused() from error
    return _choice(value)


def _choice(value: Any) -> LinkedChoice:
    if not (isinstance(value, list) and len(value) == 2):
        raise LinkRefused()
    user_id, kind = value
    if not isinstance(user_id, int) or isinstance(user_id, bool) or kind not in set(AlertKind):
        raise LinkRefused()
    return LinkedChoice(user_id, AlertKind(kind))


class _SignerAt(TimestampSigner):
    """A signer whose clock is the given instant, not the process's."""

    def __init__(self, *args: Any, now: datetime, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.now = now

    def get_timestamp(self) -> int:
        return int(self.now.timestamp())


def _serializer(secret_key: str, now: datetime) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(
        secret_key,
        salt=SALT,
        signer=_SignerAt,
        signer_kwargs={"now": now, "digest_method": hashlib.sha256},
    )
