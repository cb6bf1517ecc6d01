"""The second factor on the pages: the gate, enrolment, sign-in's second step, passkeys,
recovery codes, giving it again before creating a token, and an administrator's reset."""

from __future__ import annotations

import json
import logging
import re
import time

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from grants.accounts.models import User
from grants.accounts.second_factor import queries
from grants.accounts.second_factor.models import PasskeyCredential, TotpAuthenticator
from grants.accounts.sessions.web import SECOND_FACTOR_AT
from grants.accounts.tokens.models import ApiToken
from grants.core.identity import Locale, Role
from grants.core.models import AuditEvent
from grants.extensions import db
from tests.support.factories import PASSWORD, make_user
from tests.support.passkeys import SoftAuthenticator
from tests.support.second_factor import PREFIX, enrol_totp, next_code
from tests.support.web import csrf_token, login, post_form

SIGNED_IN_PAGES = ["/", "/settings/tokens", "/alerts"]


def _password_only(client: FlaskClient, user: User) -> None:
    response = post_form(client, "/login", {"email": user.email, "password": PASSWORD})
    assert response.status_code == 302


def _signed_in(client: FlaskClient) -> bool:
    return client.get("/").status_code == 200


# --- the gate -----------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.officer, Role.admin])
def test_a_role_that_needs_a_factor_is_sent_to_set_one_up_first(
    app: Flask, client: FlaskClient, role: Role
) -> None:
    user = make_user(role)
    _password_only(client, user)
    for path in SIGNED_IN_PAGES:
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith(f"{PREFIX}/enrol?next=")
    assert post_form(client, "/settings/tokens", {"name": "x"}).status_code == 302
    assert db.session.scalar(select(func.count()).select_from(ApiToken)) == 0
    enrol = client.get(f"{PREFIX}/enrol").get_data(as_text=True)
    assert "Set up" in enrol or "設定" in enrol
    # the language switch and signing out stay open
    assert post_form(client, "/language", {"locale": "en", "next": "/"}).status_code == 302
    codes = enrol_totp(client, user)
    assert len(codes) == 10
    for path in SIGNED_IN_PAGES:
        assert client.get(path).status_code == 200, path


def test_other_roles_are_not_sent_to_set_one_up(app: Flask, client: FlaskClient) -> None:
    for role in (Role.applicant, Role.reviewer):
        client = app.test_client()
        _password_only(client, make_user(role))
        assert _signed_in(client)


def test_the_setting_names_the_roles(app: Flask, client: FlaskClient) -> None:
    app.config["SECOND_FACTOR_ROLES"] = ("admin",)
    try:
        _password_only(client, make_user(Role.officer))
        assert _signed_in(client)
    finally:
        app.config["SECOND_FACTOR_ROLES"] = ("officer", "admin")


def test_enrolment_shows_a_qr_code_drawn_here_and_refuses_a_wrong_code(
    app: Flask, client: FlaskClient
) -> None:
    user = make_user(Role.officer, locale=Locale.en)
    _password_only(client, user)
    assert post_form(client, f"{PREFIX}/totp", {}).status_code == 302
    page = client.get(f"{PREFIX}/totp").get_data(as_text=True)
    assert "<svg" in page and "qr-code-image" in page and "http" not in page.split("<svg")[1][:200]
    assert 'id="totp-secret"' in page
    wrong = post_form(client, f"{PREFIX}/totp/confirm", {"code": "000000"})
    assert wrong.status_code == 422 and "wrong or has expired" in wrong.get_data(as_text=True)
    assert not queries.has_second_factor(user.id)
    assert client.get("/").status_code == 302  # still gated


# --- signing in ---------------------------------------------------------------------------


def test_the_password_alone_gives_no_session_when_the_account_has_a_factor(
    app: Flask, client: FlaskClient
) -> None:
    user = make_user(Role.officer, locale=Locale.en)
    login(client, user.email)  # sets up the app
    post_form(client, "/logout", {})
    response = post_form(client, "/login", {"email": user.email, "password": PASSWORD})
    assert response.headers["Location"] == "/login/second-factor"
    assert client.get("/").status_code == 302 and client.get("/settings/tokens").status_code == 302
    page = client.get("/login/second-factor").get_data(as_text=True)
    assert 'name="code"' in page and 'autocomplete="one-time-code"' in page
    wrong = post_form(client, "/login/second-factor", {"code": "123456"})
    assert wrong.status_code == 422 and 'id="code-error"' in wrong.get_data(as_text=True)
    assert client.get("/").status_code == 302
    code = next_code(user)
    assert post_form(client, "/login/second-factor", {"code": code}).status_code == 302
    assert _signed_in(client)
    login_event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "user.login")
    ).all()[-1]
    assert login_event.after == {"second_factor": "totp"}
    # the same code cannot sign in again
    post_form(client, "/logout", {})
    _password_only(client, user)
    replay = post_form(client, "/login/second-factor", {"code": code})
    assert replay.status_code == 422 and client.get("/").status_code == 302


def test_a_recovery_code_signs_in_once(app: Flask, client: FlaskClient) -> None:
    user = make_user(Role.officer)
    _password_only(client, user)
    codes = enrol_totp(client, user)
    post_form(client, "/logout", {})
    _password_only(client, user)
    assert post_form(client, "/login/second-factor", {"code": codes[0]}).status_code == 302
    post_form(client, "/logout", {})
    _password_only(client, user)
    assert post_form(client, "/login/second-factor", {"code": codes[0]}).status_code == 422


def test_the_second_step_without_the_first_goes_back_to_the_password(
    app: Flask, client: FlaskClient
) -> None:
    assert client.get("/login/second-factor").headers["Location"] == "/login"
    response = post_form(client, "/login/second-factor", {"code": "123456"})
    assert response.status_code == 302 and response.headers["Location"] == "/login"


def test_the_second_step_ends_when_the_account_signs_out_everywhere(
    app: Flask, client: FlaskClient
) -> None:
    user = make_user(Role.officer)
    login(client, user.email)
    other = app.test_client()
    _password_only(other, user)  # waiting for the second factor
    post_form(client, "/logout", {})  # ends every session of the account
    response = post_form(other, "/login/second-factor", {"code": next_code(user)})
    assert response.headers["Location"] == "/login"


def test_the_second_step_is_throttled_per_account(app: Flask, client: FlaskClient) -> None:
    user = make_user(Role.officer)
    login(client, user.email)
    post_form(client, "/logout", {})
    limit = int(app.config["SECOND_FACTOR_RATE_LIMIT"].split()[0])
    for n in range(limit):
        other = app.test_client()  # each attempt from a new client address and session
        other.environ_base["REMOTE_ADDR"] = f"10.0.0.{n + 1}"
        _password_only(other, user)
        assert post_form(other, "/login/second-factor", {"code": "000000"}).status_code == 422
    last = app.test_client()
    last.environ_base["REMOTE_ADDR"] = "10.0.1.1"
    _password_only(last, user)
    refused = post_form(last, "/login/second-factor", {"code": next_code(user)})
    assert refused.status_code == 429 and last.get("/").status_code == 302


# --- passkeys -----------------------------------------------------------------------------


def _register_passkey(client: FlaskClient, key: SoftAuthenticator, name: str) -> str:
    token = csrf_token(client, "/settings/security")
    options = client.post(f"{PREFIX}/passkeys/options.json", headers={"X-CSRFToken": token})
    assert options.status_code == 200 and options.mimetype == "application/json"
    answer = key.create(options.get_json())
    page = post_form(client, f"{PREFIX}/passkeys", {"name": name, "credential": answer})
    return page.get_data(as_text=True)


def test_a_passkey_registered_on_the_settings_page_signs_in(
    app: Flask, client: FlaskClient
) -> None:
    user = make_user(Role.officer)
    _password_only(client, user)
    key = SoftAuthenticator("localhost", "http://localhost")
    page = _register_passkey(client, key, "work laptop")
    assert 'id="recovery-codes"' in page  # the first factor comes with recovery codes
    assert _signed_in(client)
    assert "work laptop" in client.get("/settings/security").get_data(as_text=True)
    post_form(client, "/logout", {})
    _password_only(client, user)
    second_step = client.get("/login/second-factor").get_data(as_text=True)
    assert 'data-passkey="get"' in second_step and "js/passkey.js" in second_step
    token = csrf_token(client, "/login/second-factor")
    options = client.post("/login/passkey-options.json", headers={"X-CSRFToken": token})
    answer = key.get(options.get_json())
    assert post_form(client, "/login/passkey", {"credential": answer}).status_code == 302
    assert _signed_in(client)
    assert db.session.scalar(select(PasskeyCredential.last_used_at)) is not None
    post_form(client, "/logout", {})
    _password_only(client, user)
    replayed = post_form(client, "/login/passkey", {"credential": answer})
    assert replayed.status_code == 422 and client.get("/").status_code == 302  # challenge spent


def test_passkey_options_need_the_password_step_and_a_csrf_token(
    app: Flask, client: FlaskClient
) -> None:
    assert client.post("/login/passkey-options.json").status_code == 400  # no CSRF token
    token = csrf_token(client)
    assert (
        client.post("/login/passkey-options.json", headers={"X-CSRFToken": token}).status_code
        == 409
    )


def test_a_forged_passkey_answer_is_refused_in_words(app: Flask, client: FlaskClient) -> None:
    user = make_user(Role.officer, locale=Locale.en)
    _password_only(client, user)
    key = SoftAuthenticator("localhost", "https://evil.example")  # a phishing site's answer
    page = _register_passkey(client, key, "laptop")
    assert "could not be verified" in page
    assert db.session.scalar(select(func.count()).select_from(PasskeyCredential)) == 0


# --- the security settings page -----------------------------------------------------------


def test_the_security_page_lists_factors_and_keeps_the_last_one_of_an_officer(
    app: Flask, client: FlaskClient
) -> None:
    user = make_user(Role.officer, locale=Locale.en)
    login(client, user.email)
    page = client.get("/settings/security").get_data(as_text=True)
    assert "Authenticator app" in page and "10 unused recovery codes" in page
    assert "Remove the authenticator app" not in page  # the last factor of an officer
    assert post_form(client, f"{PREFIX}/totp/remove", {}).status_code == 302
    assert queries.has_second_factor(user.id)
    regenerated = post_form(client, f"{PREFIX}/recovery-codes", {})
    assert regenerated.status_code == 200 and 'id="recovery-codes"' in regenerated.get_data(
        as_text=True
    )


def test_an_applicant_may_add_and_remove_a_factor(app: Flask, client: FlaskClient) -> None:
    user = make_user(Role.applicant, locale=Locale.en)
    login(client, user.email)
    assert "Set up an authenticator app" in client.get("/settings/security").get_data(as_text=True)
    enrol_totp(client, user)
    post_form(client, "/logout", {})
    assert login(client, user.email).headers["Location"] == "/"  # through the second step
    page = client.get("/settings/security").get_data(as_text=True)
    assert "Remove the authenticator app" in page
    post_form(client, f"{PREFIX}/totp/remove", {})
    assert not queries.has_second_factor(user.id)


def test_owners_are_told_by_e_mail(
    app: Flask, client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    user = make_user(Role.officer, locale=Locale.en)
    with caplog.at_level(logging.INFO, logger="grants.mail"):
        login(client, user.email)
    mails = [r.getMessage() for r in caplog.records if r.name == "grants.mail"]
    assert any(user.email in m and "authenticator app was added" in m for m in mails)
    assert not any(re.search(r"\b[a-z2-9]{4}-[a-z2-9]{4}-", m) for m in mails)  # no codes


# --- giving it again before creating a token ----------------------------------------------


def _age_second_factor(client: FlaskClient, seconds: int) -> None:
    with client.session_transaction() as session:
        session[SECOND_FACTOR_AT] = int(time.time()) - seconds


def test_creating_a_token_asks_an_officer_for_the_second_factor_after_ten_minutes(
    app: Flask, client: FlaskClient
) -> None:
    user = make_user(Role.officer)
    login(client, user.email)
    _age_second_factor(client, 9 * 60)
    assert post_form(client, "/settings/tokens", {"name": "fresh"}).status_code == 200
    _age_second_factor(client, 10 * 60 + 5)
    asked = post_form(client, "/settings/tokens", {"name": "stale"})
    assert asked.status_code == 302
    assert asked.headers["Location"] == f"{PREFIX}/verify?next=/settings/tokens"
    assert db.session.scalar(select(func.count()).select_from(ApiToken)) == 1
    verify = client.get(asked.headers["Location"])
    assert verify.status_code == 200
    wrong = post_form(client, f"{PREFIX}/verify?next=/settings/tokens", {"code": "000000"})
    assert wrong.status_code == 422
    done = post_form(client, f"{PREFIX}/verify?next=/settings/tokens", {"code": next_code(user)})
    assert done.headers["Location"] == "/settings/tokens"  # back to the form
    assert post_form(client, "/settings/tokens", {"name": "stale"}).status_code == 200
    assert db.session.scalar(select(func.count()).select_from(ApiToken)) == 2


def test_an_applicant_is_not_asked_again(app: Flask, client: FlaskClient) -> None:
    login(client, make_user(Role.applicant).email)
    _age_second_factor(client, 60 * 60)
    assert post_form(client, "/settings/tokens", {"name": "mine"}).status_code == 200


def test_the_step_up_page_goes_on_only_to_this_site(app: Flask, client: FlaskClient) -> None:
    user = make_user(Role.officer)
    login(client, user.email)
    done = post_form(
        client, f"{PREFIX}/verify?next=https://evil.example/", {"code": next_code(user)}
    )
    assert done.headers["Location"] == "/"


# --- an administrator's reset -------------------------------------------------------------


def test_an_administrator_resets_an_officers_second_factor(
    app: Flask, client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    officer = make_user(Role.officer, locale=Locale.ja)
    officer_client = app.test_client()
    login(officer_client, officer.email)
    admin = make_user(Role.admin, locale=Locale.en)
    login(client, admin.email)
    page = client.get(f"/admin/users/{officer.id}").get_data(as_text=True)
    assert f"/admin/users/{officer.id}/second-factor/reset" in page
    with caplog.at_level(logging.INFO, logger="grants.mail"):
        done = post_form(
            client, f"/admin/users/{officer.id}/second-factor/reset", {}, follow_redirects=True
        )
    assert "is reset" in done.get_data(as_text=True)
    assert not queries.has_second_factor(officer.id)
    assert officer_client.get("/").status_code == 302  # signed out
    mails = [r.getMessage() for r in caplog.records if r.name == "grants.mail"]
    assert any(officer.email in m and "管理者" in m for m in mails)  # in the owner's language
    login(officer_client, officer.email)  # sets up a new factor at once
    assert queries.has_second_factor(officer.id)


def test_an_administrator_cannot_reset_their_own_or_the_last_administrators(
    app: Flask, client: FlaskClient
) -> None:
    admin = make_user(Role.admin, locale=Locale.en)
    login(client, admin.email)
    page = client.get(f"/admin/users/{admin.id}").get_data(as_text=True)
    assert "second-factor/reset" not in page
    done = post_form(
        client, f"/admin/users/{admin.id}/second-factor/reset", {}, follow_redirects=True
    )
    assert "security settings" in done.get_data(as_text=True)
    assert queries.has_second_factor(admin.id)


def test_only_administrators_reset(app: Flask, client: FlaskClient) -> None:
    target = make_user(Role.applicant)
    login(client, make_user(Role.officer).email)
    assert post_form(client, f"/admin/users/{target.id}/second-factor/reset", {}).status_code == 403


def test_the_command_line_resets_the_last_administrator(app: Flask, client: FlaskClient) -> None:
    admin = make_user(Role.admin)
    login(client, admin.email)
    result = app.test_cli_runner().invoke(
        args=["grants", "reset-second-factor", admin.email.upper()]
    )
    assert result.exit_code == 0, result.output
    assert not queries.has_second_factor(admin.id) and client.get("/").status_code == 302
    unknown = app.test_cli_runner().invoke(args=["grants", "reset-second-factor", "no@example.jp"])
    assert unknown.exit_code == 1 and "No user" in unknown.output


# --- what needs signing in ----------------------------------------------------------------


def test_the_settings_need_a_sign_in_and_every_form_a_csrf_token(
    app: Flask, client: FlaskClient
) -> None:
    for path in ("/settings/security", f"{PREFIX}/enrol", f"{PREFIX}/totp", f"{PREFIX}/verify"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    login(client, make_user(Role.officer).email)
    for path in (f"{PREFIX}/totp", f"{PREFIX}/recovery-codes", f"{PREFIX}/passkeys/options.json"):
        assert client.post(path).status_code == 400, path
    assert db.session.scalar(select(func.count()).select_from(TotpAuthenticator)) == 1
    assert (
        json.loads(client.get("/api/v1/tokens").get_data(as_text=True))["error"]["code"]
        == "unauthorized"
    )
