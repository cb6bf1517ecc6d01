"""The signed one-click links: who and which kind, for how long, and only as signed here."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from itsdangerous import URLSafeTimedSerializer

from grants.alerts.preferences import links
from grants.core.alert_kinds import AlertKind

KEY = "an-installation-secret"
NOW = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)
DAYS_30 = timedelta(days=30)


def test_a_link_names_its_user_and_kind_until_it_expires() -> None:
    token = links.sign(42, AlertKind.due_soon, KEY, NOW)
    later = NOW + DAYS_30 - timedelta(seconds=1)
    assert links.read(token, KEY, DAYS_30, later) == links.LinkedChoice(42, AlertKind.due_soon)
    with pytest.raises(links.LinkExpired):
        links.read(token, KEY, DAYS_30, NOW + DAYS_30 + timedelta(seconds=1))


def _tampered(token: str) -> list[str]:
    payload, stamp, signature = token.split(".")
    other = links.sign(43, AlertKind.due_soon, KEY, NOW).split(".")[0]
    flipped = signature[:-1] + ("A" if signature[-1] != "A" else "B")
    return [f"{other}.{stamp}.{signature}", f"{payload}.{stamp}.{flipped}", payload, "", "x.y.z"]


def test_a_changed_token_is_refused() -> None:
    token = links.sign(42, AlertKind.due_soon, KEY, NOW)
    for changed in _tampered(token):
        with pytest.raises(links.LinkRefused) as caught:
            links.read(changed, KEY, DAYS_30, NOW)
        assert not isinstance(caught.value, links.LinkExpired)


def test_another_installation_s_or_another_salt_s_token_is_refused() -> None:
    with pytest.raises(links.LinkRefused):
        links.read(links.sign(42, AlertKind.due_soon, "another", NOW), KEY, DAYS_30, NOW)
    session_like = URLSafeTimedSerializer(KEY, salt="cookie-session").dumps([42, "due_soon"])
    with pytest.raises(links.LinkRefused):
        links.read(session_like, KEY, DAYS_30, datetime.now(UTC))


@pytest.mark.parametrize(
    "value", [[42], [42, "no_such_kind"], ["42", "due_soon"], [True, "due_soon"], {"u": 42}]
)
def test_a_signed_value_that_names_no_user_and_kind_is_refused(value: object) -> None:
    from itsdangerous import URLSafeTimedSerializer

    token = URLSafeTimedSerializer(KEY, salt=links.SALT).dumps(value)
    with pytest.raises(links.LinkRefused):
        links.read(token, KEY, DAYS_30, datetime.now(UTC))
