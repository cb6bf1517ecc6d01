"""The e-mail preferences page, and the page a signed link in an e-mail opens without a
sign-in: for that user and that kind only, until it expires, and only as signed here."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from grants.accounts.models import User
from grants.alerts.preferences import links
from grants.alerts.preferences.queries import preference_of, preferences_of
from grants.core.alert_kinds import AlertKind, Delivery
from grants.core.identity import Locale, Role
from grants.core.models import utcnow
from grants.extensions import db
from tests.support.factories import make_user
from tests.support.web import csrf_token, login, post_form

K = AlertKind


def _checked(page: str) -> dict[str, str]:
    """The radio buttons checked on a page: field name -> value."""
    return dict(re.findall(r'<input checked [^>]*name="(\w+)"[^>]*value="(\w+)"', page))


def _choices(user: User) -> dict[AlertKind, Delivery]:
    db.session.expire_all()
    return {p.kind: p.delivery for p in preferences_of(user)}


def test_the_page_lists_my_role_s_kinds_with_what_i_chose(client: FlaskClient, app: Flask) -> None:
    reviewer = make_user(Role.reviewer)
    login(client, reviewer.email)
    page = client.get("/settings/notifications").get_data(as_text=True)
    assert "評価者への割り当て" in page and "エビデンスの提出" in page
    assert "期日間近" not in page  # a grantee's kind
    assert _checked(page) == {
        "review_waiting": "now",
        "reviewer_assigned": "now",
        "evidence_submitted": "now",
        "grant_terminated": "now",
    }
    assert "アカウントとパスワードに関するメールは、常に送信されます。" in page


def test_saving_the_page_changes_every_choice_shown(client: FlaskClient, app: Flask) -> None:
    reviewer = make_user(Role.reviewer)
    login(client, reviewer.email)
    chosen = {
        "review_waiting": "digest",
        "reviewer_assigned": "off",
        "evidence_submitted": "now",
        "grant_terminated": "digest",
    }
    response = post_form(client, "/settings/notifications", chosen)
    assert response.status_code == 303
    assert _choices(reviewer) == {K(kind): Delivery(value) for kind, value in chosen.items()}
    page = client.get("/settings/notifications").get_data(as_text=True)
    assert "メール通知の設定を保存しました。" in page and _checked(page) == chosen


def test_a_choice_that_is_not_offered_is_refused(client: FlaskClient, app: Flask) -> None:
    reviewer = make_user(Role.reviewer)
    login(client, reviewer.email)
    response = post_form(
        client,
        "/settings/notifications",
        {"review_waiting": "weekly", "reviewer_assigned": "off", "evidence_submitted": "now"},
    )
    assert response.status_code == 422
    assert set(_choices(reviewer).values()) == {Delivery.now}


def test_the_page_needs_a_sign_in_and_its_form_the_csrf_token(
    client: FlaskClient, app: Flask
) -> None:
    assert client.get("/settings/notifications").status_code == 302
    reviewer = make_user(Role.reviewer)
    login(client, reviewer.email)
    response = client.post("/settings/notifications", data={"review_waiting": "off"})
    assert response.status_code == 400
    assert set(_choices(reviewer).values()) == {Delivery.now}


# --- the signed link -----------------------------------------------------------------------


def _link(user: User, kind: AlertKind, signed_at: object = None) -> str:
    token = links.sign(user.id, kind, str(_secret()), signed_at or utcnow())  # type: ignore[arg-type]
    return f"/settings/notifications/link/{token}"


def _secret() -> str:
    from flask import current_app

    return str(current_app.config["SECRET_KEY"])


def _choose(client: FlaskClient, path: str, delivery: str) -> int:
    token = csrf_token(client, path)
    return client.post(path, data={"csrf_token": token, "delivery": delivery}).status_code


def test_a_link_changes_that_one_choice_without_a_sign_in(client: FlaskClient, app: Flask) -> None:
    applicant = make_user(Role.applicant, locale=Locale.en)
    path = _link(applicant, K.due_soon)
    page = html.unescape(client.get(path).get_data(as_text=True))
    assert f"How “期日間近” alerts reach {applicant.email} by e-mail:" not in page
    assert applicant.email in page and "期日間近" in page  # the page's language, not the user's
    assert _choose(client, path, "off") == 303
    choices = _choices(applicant)
    assert choices[K.due_soon] == Delivery.off
    assert {kind for kind, delivery in choices.items() if delivery != Delivery.now} == {K.due_soon}
    assert "選択を保存しました。" in client.get(path).get_data(as_text=True)


def test_a_link_only_opens_its_kind(client: FlaskClient, app: Flask) -> None:
    applicant = make_user(Role.applicant)
    path = _link(applicant, K.due_soon)
    token = csrf_token(client, path)
    client.post(path, data={"csrf_token": token, "delivery": "off", "overdue": "off"})
    assert _choices(applicant)[K.overdue] == Delivery.now


def test_a_changed_link_is_refused_and_changes_nothing(client: FlaskClient, app: Flask) -> None:
    applicant, other = make_user(Role.applicant), make_user(Role.applicant)
    good = _link(applicant, K.due_soon).rsplit("/", 1)[1]
    payload, stamp, signature = good.split(".")
    forged_payload = _link(other, K.due_soon).rsplit("/", 1)[1].split(".")[0]
    for token in (f"{forged_payload}.{stamp}.{signature}", f"{payload}.{stamp}.x{signature[1:]}"):
        path = f"/settings/notifications/link/{token}"
        response = client.get(path)
        assert response.status_code == 404
        assert "このリンクは無効です。" in response.get_data(as_text=True)
        assert client.post(path, data={"delivery": "off"}).status_code in (400, 404)
    assert _choices(applicant)[K.due_soon] == _choices(other)[K.due_soon] == Delivery.now


def test_an_expired_link_is_refused(client: FlaskClient, app: Flask) -> None:
    applicant = make_user(Role.applicant)
    days = int(app.config["NOTIFICATION_LINK_DAYS"])
    path = _link(applicant, K.due_soon, utcnow() - timedelta(days=days, minutes=1))
    response = client.get(path)
    assert response.status_code == 410
    assert "有効期限が切れています" in response.get_data(as_text=True)
    fresh = _link(applicant, K.due_soon, utcnow() - timedelta(days=days - 1))
    assert client.get(fresh).status_code == 200


def test_another_user_s_link_changes_only_that_user_s_choice(
    client: FlaskClient, app: Flask
) -> None:
    owner, signed_in = make_user(Role.applicant), make_user(Role.applicant)
    login(client, signed_in.email)
    path = _link(owner, K.tranche_released)
    assert owner.email in client.get(path).get_data(as_text=True)
    assert _choose(client, path, "digest") == 303
    assert preference_of(owner, K.tranche_released).delivery == Delivery.digest
    assert set(_choices(signed_in).values()) == {Delivery.now}


@pytest.mark.parametrize("closed", ["inactive", "deleted"])
def test_the_link_of_a_closed_account_is_refused(
    client: FlaskClient, app: Flask, closed: str
) -> None:
    applicant = make_user(Role.applicant)
    path = _link(applicant, K.due_soon)
    if closed == "inactive":
        applicant.active = False
        db.session.commit()
    else:
        path = path.replace(
            path.rsplit("/", 1)[1],
            links.sign(424242, K.due_soon, _secret(), utcnow()),
        )
    assert client.get(path).status_code == 404


def test_the_link_s_form_needs_its_csrf_token(client: FlaskClient, app: Flask) -> None:
    applicant = make_user(Role.applicant)
    path = _link(applicant, K.due_soon)
    assert client.post(path, data={"delivery": "off"}).status_code == 400
    assert _choices(applicant)[K.due_soon] == Delivery.now
