"""Signing in and out, rate limiting, CSRF and the language switch."""

import time

import pytest
from flask import Flask, session
from flask.testing import FlaskClient

from grants.accounts.credentials import service as credentials
from grants.accounts.credentials.rules import LinkPurpose
from grants.accounts.models import User
from grants.core.identity import Locale, Role
from grants.core.models import AuditEvent, utcnow
from grants.extensions import db
from tests.support.factories import PASSWORD, make_user
from tests.support.web import csrf_token, login, post_form


def test_login_success_then_logout(client: FlaskClient) -> None:
    user = make_user(Role.officer)
    response = login(client, user.email.upper())
    assert response.status_code == 302 and response.headers["Location"] == "/"
    home = client.get("/")
    assert home.status_code == 200 and user.name in home.get_data(as_text=True)
    assert db.session.get(User, user.id).last_login_at is not None
    assert db.session.query(AuditEvent).filter_by(action="user.login").count() == 1
    post_form(client, "/logout", {})
    assert client.get("/").status_code == 302


def test_wrong_password_is_refused(client: FlaskClient) -> None:
    user = make_user()
    response = login(client, user.email, "wrong-password")
    assert response.status_code == 200
    assert "wrong" in response.get_data(as_text=True) or "違う" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_unknown_user_is_refused_with_the_same_message(client: FlaskClient) -> None:
    user = make_user()
    wrong = login(client, user.email, "wrong-password").get_data(as_text=True)
    unknown = login(client, "nobody@example.jp").get_data(as_text=True)
    marker = 'class="alert alert-error"'
    assert marker in wrong and marker in unknown
    assert wrong.split(marker)[1][:200] == unknown.split(marker)[1][:200]


def test_inactive_user_cannot_sign_in_and_keeps_history(client: FlaskClient) -> None:
    user = make_user(active=False)
    login(client, user.email)
    assert client.get("/").status_code == 302
    events = db.session.query(AuditEvent).filter_by(
        object_type="user_account", object_id=str(user.id)
    )
    assert [event.action for event in events] == ["user.create", "user.password_change"]


def test_deactivation_ends_an_open_session(client: FlaskClient) -> None:
    user = make_user()
    login(client, user.email)
    assert client.get("/").status_code == 200
    db.session.get(User, user.id).active = False
    db.session.commit()
    assert client.get("/").status_code == 302


def _copy_of_the_session(app: Flask, client: FlaskClient) -> FlaskClient:
    """Another browser holding the same session cookie (copied, or stolen)."""
    cookie = client.get_cookie("session")
    assert cookie is not None
    other = app.test_client()
    other.set_cookie("session", cookie.value)
    return other


def test_signing_out_ends_the_session_also_where_its_cookie_was_copied(
    app: Flask, client: FlaskClient
) -> None:
    user = make_user()
    login(client, user.email)
    copy = _copy_of_the_session(app, client)
    assert copy.get("/").status_code == 200
    post_form(client, "/logout", {})
    assert copy.get("/").status_code == 302
    assert db.session.query(AuditEvent).filter_by(action="user.sign_out").count() == 1
    login(client, user.email)  # signing in again works as before
    assert client.get("/").status_code == 200


def test_a_new_password_ends_the_sessions_opened_with_the_old_one(
    app: Flask, client: FlaskClient
) -> None:
    user = make_user()
    login(client, user.email)
    assert client.get("/").status_code == 200
    link = credentials.send_password_link(make_user(Role.admin), user.id, utcnow(), app.config)
    assert client.get("/").status_code == 302  # an administrator's reset signs it out
    login(client, user.email)  # the old password still works until a new one is chosen
    assert client.get("/").status_code == 200
    secret = link.secret or ""
    credentials.set_password(secret, LinkPurpose.reset, "a-new-password-123", utcnow(), app.config)
    assert client.get("/").status_code == 302
    assert login(client, user.email, "a-new-password-123").status_code == 302
    assert client.get("/").status_code == 200


def test_a_session_id_from_before_session_versions_is_refused(app: Flask) -> None:
    from grants.accounts.sessions.web import _load_user

    user = make_user()
    with app.test_request_context():
        session["signed_in_at"] = session["seen_at"] = int(time.time())
        assert _load_user(str(user.id)) is None
        assert _load_user(f"{user.id}:{user.session_version}") is not None
        assert _load_user(f"{user.id}:x") is None


def test_login_is_rate_limited_with_a_clear_message(app: Flask, client: FlaskClient) -> None:
    user = make_user()
    limit = int(app.config["LOGIN_RATE_LIMIT"].split()[0])
    token = csrf_token(client)
    for _ in range(limit):
        client.post("/login", data={"csrf_token": token, "email": user.email, "password": "x"})
    response = client.post(
        "/login", data={"csrf_token": token, "email": user.email, "password": PASSWORD}
    )
    assert response.status_code == 429
    assert "Too many attempts" in response.get_data(as_text=True) or "試行" in response.get_data(
        as_text=True
    )
    assert client.get("/").status_code == 302


def test_login_without_csrf_token_is_rejected(client: FlaskClient) -> None:
    user = make_user()
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/").status_code == 302


def test_every_form_route_rejects_a_post_without_csrf_token(
    app: Flask, client: FlaskClient
) -> None:
    admin = make_user(Role.admin)
    login(client, admin.email)
    rules = [r for r in app.url_map.iter_rules() if "POST" in (r.methods or set())]
    assert rules
    for rule in rules:
        if rule.rule.startswith("/api/"):
            continue  # token-authenticated JSON API: no cookies, no CSRF
        response = client.post(_fill(rule.rule), data={"anything": "x"})
        assert response.status_code == 400, rule.rule


def _fill(rule: str) -> str:
    return "/".join("1" if part.startswith("<") else part for part in rule.split("/"))


def test_next_parameter_cannot_redirect_off_site(client: FlaskClient) -> None:
    user = make_user()
    token = csrf_token(client)
    response = client.post(
        "/login?next=https://evil.example/",
        data={"csrf_token": token, "email": user.email, "password": PASSWORD},
    )
    assert response.headers["Location"] == "/"


def test_language_switch_for_visitors_and_users(client: FlaskClient) -> None:
    assert 'lang="ja"' in client.get("/login").get_data(as_text=True)
    post_form(client, "/language", {"locale": "en", "next": "/login"})
    page = client.get("/login").get_data(as_text=True)
    assert 'lang="en"' in page and "Sign in" in page
    user = make_user(locale=Locale.ja)
    login(client, user.email)
    assert 'lang="ja"' in client.get("/").get_data(as_text=True)
    post_form(client, "/language", {"locale": "en", "next": "/"})
    assert db.session.get(User, user.id).locale == Locale.en
    assert 'lang="en"' in client.get("/").get_data(as_text=True)


def test_accept_language_is_the_last_resort(client: FlaskClient) -> None:
    page = client.get("/login", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert 'lang="en"' in page.get_data(as_text=True)
    page = client.get("/login", headers={"Accept-Language": "fr"})
    assert 'lang="ja"' in page.get_data(as_text=True)


def test_error_pages_in_both_languages(client: FlaskClient) -> None:
    ja = client.get("/no-such-page", headers={"Accept-Language": "ja"})
    en = client.get("/no-such-page", headers={"Accept-Language": "en"})
    assert ja.status_code == en.status_code == 404
    assert "Not found" in en.get_data(as_text=True)
    assert "Not found" not in ja.get_data(as_text=True)


def test_unexpected_errors_render_a_500_page_in_both_languages(database_url: str) -> None:
    from grants import create_app

    app = create_app({"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": database_url})

    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("boom")

    client = app.test_client()
    en = client.get("/boom", headers={"Accept-Language": "en"})
    ja = client.get("/boom", headers={"Accept-Language": "ja"})
    assert en.status_code == ja.status_code == 500
    assert "Server error" in en.get_data(as_text=True)
    assert "サーバーエラー" in ja.get_data(as_text=True)
    api = client.get("/api/nothing-here", headers={"Accept-Language": "en"})
    assert api.status_code == 404
    assert api.get_json() == {
        "error": {"code": "not_found", "message": "There is no page at this address.", "fields": {}}
    }


def test_signing_out_speaks_the_accounts_language_to_the_end(client: FlaskClient) -> None:
    user = make_user(locale=Locale.en)
    login(client, user.email)
    headers = {"Accept-Language": "ja"}
    page = post_form(client, "/logout", {}, follow_redirects=True, headers=headers)
    html = page.get_data(as_text=True)
    assert "You are signed out." in html and 'lang="en"' in html


def test_signing_out_when_signed_out_only_goes_to_the_sign_in_page(client: FlaskClient) -> None:
    response = post_form(client, "/logout", {})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert db.session.query(AuditEvent).filter_by(action="user.sign_out").count() == 0


# --- the session at sign-in, its timeouts, throttling per account ----------------------------


def test_signing_in_starts_a_new_session_with_a_new_csrf_token(
    app: Flask, client: FlaskClient
) -> None:
    user = make_user()
    post_form(client, "/language", {"locale": "en", "next": "/login"})
    before_token = csrf_token(client)
    before_cookie = client.get_cookie("session").value
    login(client, user.email)
    after_token = csrf_token(client, "/")
    assert after_token != before_token
    with client.session_transaction() as session:
        assert "locale" not in session  # nothing of the visitor's session is kept
        assert session["signed_in_at"] == session["seen_at"]
    stale = app.test_client()  # the visitor's old cookie does not hold the sign-in
    stale.set_cookie("session", before_cookie)
    assert stale.get("/").status_code == 302
    refused = client.post(
        "/settings/tokens", data={"csrf_token": before_token, "name": "x"}
    )  # the token of before the sign-in no longer counts
    assert refused.status_code == 400


def _age(client: FlaskClient, **ages: int) -> None:
    """Move the session's timestamps this many seconds into the past (time passed)."""
    with client.session_transaction() as session:
        for key, seconds in ages.items():
            session[key] = int(time.time()) - seconds


@pytest.mark.parametrize(
    ("role", "idle_minutes"), [(Role.officer, 30), (Role.admin, 30), (Role.applicant, 480)]
)
def test_an_idle_session_ends_after_its_roles_timeout(
    app: Flask, client: FlaskClient, role: Role, idle_minutes: int
) -> None:
    user = make_user(role, locale=Locale.en)
    login(client, user.email)
    _age(client, seen_at=(idle_minutes - 1) * 60)
    assert client.get("/").status_code == 200  # and it counts as seen again
    with client.session_transaction() as session:
        assert time.time() - session["seen_at"] < 60
    _age(client, seen_at=idle_minutes * 60 + 1)
    response = client.get("/alerts")
    assert response.status_code == 302 and response.headers["Location"] == "/login?next=%2Falerts"
    page = client.get("/login").get_data(as_text=True)
    assert "Your session has ended" in page and 'lang="en"' in page
    assert client.get("/").status_code == 302


def test_a_busy_session_ends_twelve_hours_after_the_sign_in(
    app: Flask, client: FlaskClient
) -> None:
    login(client, make_user(Role.reviewer).email)
    _age(client, signed_in_at=12 * 3600 - 60)
    assert client.get("/").status_code == 200
    _age(client, signed_in_at=12 * 3600 + 1, seen_at=0)
    assert client.get("/").status_code == 302


def test_a_session_without_its_timestamps_is_ended(app: Flask, client: FlaskClient) -> None:
    login(client, make_user().email)
    with client.session_transaction() as session:
        del session["signed_in_at"]
    assert client.get("/").status_code == 302


def test_failed_sign_ins_are_throttled_per_account_from_any_address(
    app: Flask, client: FlaskClient
) -> None:
    user, bystander = make_user(), make_user()
    limit = int(app.config["LOGIN_ACCOUNT_RATE_LIMIT"].split()[0])
    for n in range(limit):
        attacker = app.test_client()
        attacker.environ_base["REMOTE_ADDR"] = f"192.0.2.{n + 1}"
        assert login(attacker, user.email.upper(), "wrong-password").status_code == 200
    fresh = app.test_client()
    fresh.environ_base["REMOTE_ADDR"] = "198.51.100.7"
    assert login(fresh, user.email, PASSWORD).status_code == 429  # even the right password
    assert fresh.get("/").status_code == 302
    assert login(fresh, bystander.email).status_code == 302  # other accounts go on


def test_successful_sign_ins_do_not_count_against_the_account(
    app: Flask, client: FlaskClient
) -> None:
    user = make_user()
    limit = int(app.config["LOGIN_ACCOUNT_RATE_LIMIT"].split()[0])
    for n in range(limit + 1):
        other = app.test_client()
        other.environ_base["REMOTE_ADDR"] = f"203.0.113.{n + 1}"
        assert login(other, user.email).status_code == 302
