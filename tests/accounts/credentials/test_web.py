"""The credential pages: links from e-mails, the forgotten-password page with its throttles,
the security settings, the administrator's "send a link", and the e-mails they send."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from grants.accounts.credentials.models import CredentialLink
from grants.accounts.models import User
from grants.accounts.tokens import service as tokens
from grants.core.actors import SYSTEM
from grants.core.identity import Locale, Role
from grants.core.models import AuditEvent, utcnow
from grants.extensions import db
from tests.support.factories import PASSWORD, make_user
from tests.support.mails import Outbox, SentMail
from tests.support.matrix import routes
from tests.support.second_factor import no_second_factor_given
from tests.support.smtp import SmtpServer, free_port, smtp_server
from tests.support.web import csrf_token, login, post_form

STRONG = "lantern-quarry-ostrich"
NEW = {"password": STRONG, "password_again": STRONG}
EN = {"Accept-Language": "en"}
_CSRF = re.compile(r'(?<=name="csrf-token" content=")[^"]+|(?<=name="csrf_token" value=")[^"]+')


def _invite_through_the_admin_page(app: Flask, outbox: Outbox, locale: str = "ja") -> SentMail:
    """An administrator (in another browser) creates an account; its invitation e-mail."""
    admin = app.test_client()
    login(admin, make_user(Role.admin).email)
    form = {"email": "Invited@Example.jp", "name": "Hanako Suzuki", "role": "reviewer",
            "locale": locale, "organization_id": "0", "active": "y"}  # fmt: skip
    assert post_form(admin, "/admin/users/new", form).status_code == 302
    return outbox.last("invited@example.jp")


def _sign_out(client: FlaskClient) -> None:
    post_form(client, "/logout", {})


# --- invitation and reset links -------------------------------------------------------------


def test_an_invitation_e_mail_leads_to_a_password_and_a_sign_in(
    app: Flask, client: FlaskClient, outbox: Outbox
) -> None:
    mail = _invite_through_the_admin_page(app, outbox, locale="en")
    assert mail.subject == "[Milestone Grants] Set the password of your new account"
    assert mail.link and mail.link.startswith("http://127.0.0.1:5000/invitation/")
    assert mail.message_id.startswith("<credentials-link-")
    page = client.get(mail.path, headers=EN)
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    text = page.get_data(as_text=True)
    assert "invited@example.jp" in text and 'autocomplete="new-password"' in text
    done = post_form(client, mail.path, NEW)
    assert done.status_code == 302 and done.headers["Location"].endswith("/login")
    assert login(client, "invited@example.jp", STRONG).status_code == 302
    assert client.get("/").status_code == 200
    notice = outbox.last("invited@example.jp")
    assert notice.subject == "[Milestone Grants] Your password was changed"
    assert "invitation link" in notice.body and notice.link is None
    assert STRONG not in notice.body


def test_a_used_expired_forged_or_misdirected_link_is_refused_in_the_readers_language(
    app: Flask, client: FlaskClient, outbox: Outbox
) -> None:
    mail = _invite_through_the_admin_page(app, outbox)
    forged = client.get("/invitation/not-a-real-secret", headers=EN)
    assert forged.status_code == 404
    assert "This link is not valid." in forged.get_data(as_text=True)
    elsewhere = client.get(mail.path.replace("/invitation/", "/password/reset/"))
    assert elsewhere.status_code == 404  # an invitation is no reset link
    assert post_form(client, mail.path, NEW).status_code == 302
    used = client.get(mail.path)
    assert used.status_code == 410
    assert "このリンクは使用済みです。" in used.get_data(as_text=True)
    assert post_form(client, mail.path, NEW).status_code == 410
    refusal = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert (refusal.action, refusal.after) == ("credential_link.refuse", {"reason": "used"})
    link = db.session.scalars(
        select(CredentialLink).join(User).where(User.email == "invited@example.jp")
    ).one()
    link.used_at, link.expires_at = None, utcnow() - timedelta(seconds=1)
    db.session.commit()
    expired = client.get(mail.path, headers=EN)
    assert expired.status_code == 410
    page = expired.get_data(as_text=True)
    assert "This link has expired." in page and 'href="/password/forgot"' in page


def test_a_weak_or_mistyped_password_is_sent_back_with_reasons(
    app: Flask, client: FlaskClient, outbox: Outbox
) -> None:
    mail = _invite_through_the_admin_page(app, outbox)
    weak = post_form(
        client, mail.path, {"password": "password1234", "password_again": "password1234"}
    )
    assert weak.status_code == 422
    page = weak.get_data(as_text=True)
    assert 'id="password-error"' in page and "多くの人が使うパスワード" in page
    address = {"password": "invited@example.jp", "password_again": "invited@example.jp"}
    mine = post_form(client, mail.path, address, headers=EN)
    assert "It contains your name, your e-mail address" in mine.get_data(as_text=True)
    typo = post_form(client, mail.path, {"password": STRONG, "password_again": STRONG + "x"})
    assert typo.status_code == 422 and "2つのパスワードが一致しません。" in typo.get_data(
        as_text=True
    )
    assert db.session.scalar(select(User.password_hash).where(User.email == mail.to)) is None
    assert post_form(client, mail.path, NEW).status_code == 302  # the link still works


# --- the forgotten password -------------------------------------------------------------------


def _ask(client: FlaskClient, email: str, **kwargs: object) -> int:
    return post_form(client, "/password/forgot", {"email": email}, **kwargs).status_code


def test_the_forgotten_password_page_answers_alike_for_known_and_unknown_addresses(
    client: FlaskClient, outbox: Outbox
) -> None:
    user = make_user(locale=Locale.en)
    pages = []
    for email in (user.email, "nobody@example.jp"):
        response = post_form(client, "/password/forgot", {"email": email}, follow_redirects=True)
        assert response.status_code == 200
        page = response.get_data(as_text=True).replace(email, "ADDRESS")
        pages.append(_CSRF.sub("csrf", page))  # a token carries the second it was signed
    assert pages[0] == pages[1]
    assert "ADDRESS を使うアカウントがあれば" in pages[0]
    (reset,) = outbox.to(user.email)
    assert reset.subject == "[Milestone Grants] Choose a new password"  # in the user's language
    assert reset.link and "/password/reset/" in reset.link
    (nobody,) = outbox.to("nobody@example.jp")
    assert (
        nobody.subject == "[マイルストーン型研究開発助成] パスワードの再設定"
    )  # the page's language
    assert nobody.link is None and "有効なアカウントはありません" in nobody.body


def test_a_reset_through_the_forgotten_password_page_revokes_the_api_tokens(
    client: FlaskClient, outbox: Outbox
) -> None:
    user = make_user(Role.officer)
    _token, secret = tokens.create_token(
        SYSTEM, user, "accounting", step_up=no_second_factor_given()
    )
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/tokens", headers=headers).status_code == 200
    assert _ask(client, user.email) == 302
    assert post_form(client, outbox.last(user.email).path, NEW).status_code == 302
    assert client.get("/api/v1/tokens", headers=headers).status_code == 401
    notice = outbox.last(user.email)
    assert "API トークンは無効化されました" in notice.body
    assert login(client, user.email, STRONG).status_code == 302
    assert login(client.application.test_client(), user.email, PASSWORD).status_code == 200


def test_requests_for_one_address_are_throttled_whoever_sends_them(
    app: Flask, client: FlaskClient, outbox: Outbox
) -> None:
    limit = int(app.config["PASSWORD_RESET_ADDRESS_LIMIT"].split()[0])
    user = make_user()
    for address in (user.email, "nobody@example.jp"):  # known or not, alike
        for n in range(limit):
            assert _ask(client, address, environ_base={"REMOTE_ADDR": f"10.0.0.{n}"}) == 302
        other_client = {"REMOTE_ADDR": "10.0.1.1"}
        assert _ask(client, address.upper(), environ_base=other_client) == 429
    assert len(outbox.to(user.email)) == limit
    assert _ask(client, "someone-else@example.jp", environ_base={"REMOTE_ADDR": "10.0.1.1"}) == 302


def test_requests_from_one_client_are_throttled(
    app: Flask, client: FlaskClient, outbox: Outbox
) -> None:
    limit = int(app.config["PASSWORD_RESET_CLIENT_LIMIT"].split()[0])
    one = {"REMOTE_ADDR": "10.0.0.7"}
    for n in range(limit):
        assert _ask(client, f"person{n}@example.jp", environ_base=one) == 302
    refused = post_form(client, "/password/forgot", {"email": "x@example.jp"}, environ_base=one)
    assert refused.status_code == 429
    assert "試行" in refused.get_data(as_text=True)
    assert _ask(client, "x@example.jp", environ_base={"REMOTE_ADDR": "10.0.0.8"}) == 302
    assert len(outbox.mails) == limit + 1


def test_a_malformed_address_is_a_field_error(client: FlaskClient, outbox: Outbox) -> None:
    response = post_form(client, "/password/forgot", {"email": "not an address"})
    assert response.status_code == 422
    assert 'id="email-error"' in response.get_data(as_text=True)
    assert outbox.mails == []


# --- the security settings ----------------------------------------------------------------------


def test_changing_ones_password_ends_the_other_sessions_and_keeps_this_one(
    app: Flask, outbox: Outbox
) -> None:
    user = make_user(locale=Locale.en)
    here, elsewhere = app.test_client(), app.test_client()
    login(here, user.email)
    login(elsewhere, user.email)
    page = here.get("/settings/security")
    assert page.status_code == 200 and 'id="password-heading"' in page.get_data(as_text=True)
    form = {"current_password": PASSWORD, **NEW}
    changed = post_form(here, "/settings/security/password", form, follow_redirects=True)
    assert changed.status_code == 200
    assert "Your password is changed." in changed.get_data(as_text=True)
    assert here.get("/").status_code == 200  # this session goes on
    assert elsewhere.get("/").status_code == 302  # the other one is signed out
    notice = outbox.last(user.email)
    assert notice.subject == "[Milestone Grants] Your password was changed"
    assert "security settings" in notice.body and "/password/forgot" in notice.body
    assert PASSWORD not in notice.body and STRONG not in notice.body


def test_the_current_password_is_required_and_checked(app: Flask, client: FlaskClient) -> None:
    user = make_user()
    login(client, user.email)
    wrong = post_form(client, "/settings/security/password", {"current_password": "nope", **NEW})
    assert wrong.status_code == 422
    page = wrong.get_data(as_text=True)
    assert 'id="current_password-error"' in page and "現在のパスワードが正しくありません。" in page
    missing = post_form(client, "/settings/security/password", NEW)
    assert missing.status_code == 422
    assert login(app.test_client(), user.email, PASSWORD).status_code == 302  # unchanged


def test_attempts_to_change_a_password_are_throttled_per_account(
    app: Flask, client: FlaskClient
) -> None:
    limit = int(app.config["PASSWORD_CHANGE_RATE_LIMIT"].split()[0])
    user = make_user()
    login(client, user.email)
    other = app.test_client()
    login(other, user.email)
    for n in range(limit):
        session = client if n % 2 else other
        post_form(session, "/settings/security/password", {"current_password": f"guess-{n}", **NEW})
    form = {"current_password": PASSWORD, **NEW}
    assert post_form(client, "/settings/security/password", form).status_code == 429
    someone_else = app.test_client()
    login(someone_else, make_user().email)
    assert post_form(someone_else, "/settings/security/password", form).status_code != 429


# --- administrators -----------------------------------------------------------------------------


def test_an_administrators_reset_e_mails_a_link_and_signs_the_account_out(
    app: Flask, outbox: Outbox
) -> None:
    user = make_user(locale=Locale.en)
    theirs, admins = app.test_client(), app.test_client()
    login(theirs, user.email)
    login(admins, make_user(Role.admin).email)
    page = admins.get(f"/admin/users/{user.id}").get_data(as_text=True)
    assert "The account has chosen its password." in page or "パスワードを設定済み" in page
    assert 'type="password"' not in page
    sent = post_form(admins, f"/admin/users/{user.id}/password-link", {}, follow_redirects=True)
    assert f"{user.email} に送信し" in sent.get_data(as_text=True)
    assert theirs.get("/").status_code == 302
    mail = outbox.last(user.email)
    assert mail.subject == "[Milestone Grants] Choose a new password"
    assert "An administrator asked" in mail.body and mail.link
    assert mail.link not in sent.get_data(as_text=True)  # the administrator never sees it
    assert post_form(theirs, mail.path, NEW).status_code == 302
    assert login(theirs, user.email, STRONG).status_code == 302


def test_the_invitation_can_be_sent_again_until_the_password_is_set(
    app: Flask, client: FlaskClient, outbox: Outbox
) -> None:
    first = _invite_through_the_admin_page(app, outbox)
    invited = db.session.scalar(select(User).where(User.email == first.to))
    admin = app.test_client()
    login(admin, make_user(Role.admin).email)
    page = admin.get(f"/admin/users/{invited.id}").get_data(as_text=True)
    assert "まだパスワードを設定していません" in page and "招待メールを再送する" in page
    post_form(admin, f"/admin/users/{invited.id}/password-link", {})
    again = outbox.last(first.to)
    assert again.link != first.link and "/invitation/" in again.path
    assert post_form(client, first.path, NEW).status_code == 302  # either link works, once
    assert client.get(again.path).status_code == 410  # and then the other ends


# --- e-mails over SMTP, and when they cannot be sent ----------------------------------------------


@pytest.fixture
def smtp(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpServer]:
    with smtp_server() as server:
        monkeypatch.setitem(app.config, "MAIL_BACKEND", "smtp")
        monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
        monkeypatch.setitem(app.config, "MAIL_PORT", server.port)
        monkeypatch.setitem(app.config, "MAIL_SENDER", "grants@example.jp")
        yield server


def _body(message: EmailMessage) -> str:
    part = message.get_body()
    assert part is not None
    return str(part.get_content())


def test_the_e_mails_go_over_smtp_in_the_recipients_language_without_a_password(
    client: FlaskClient, smtp: SmtpServer
) -> None:
    user = make_user(locale=Locale.ja)
    assert _ask(client, user.email, headers=EN) == 302
    (reset,) = smtp.mailbox.received
    assert reset["To"].addresses[0].addr_spec == user.email
    assert reset["Subject"] == "[マイルストーン型研究開発助成] 新しいパスワードの設定"
    assert re.fullmatch(r"<credentials-link-\d+\.[0-9a-f]{16}@example\.jp>", reset["Message-ID"])
    path = re.search(r"/password/reset/\S+", _body(reset)).group(0)  # type: ignore[union-attr]
    assert post_form(client, path, NEW).status_code == 302
    notice = smtp.mailbox.received[-1]
    assert notice["Subject"] == "[マイルストーン型研究開発助成] パスワードが変更されました"
    assert "/password/reset/" not in _body(notice) and STRONG not in _body(notice)
    assert notice["Message-ID"].startswith("<credentials-event-")


def test_when_the_e_mail_cannot_be_sent_the_page_says_so_for_any_address(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "MAIL_BACKEND", "smtp")
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", free_port())  # nobody listens there
    user = make_user()
    answers = []
    for email in (user.email, "nobody@example.jp"):
        response = post_form(client, "/password/forgot", {"email": email})
        page = _CSRF.sub("csrf", response.get_data(as_text=True).replace(email, "@"))
        answers.append((response.status_code, page))
    assert answers[0] == answers[1]
    assert answers[0][0] == 503 and "メールを送信できませんでした。" in answers[0][1]
    login(client, make_user(Role.admin).email)
    sent = post_form(client, f"/admin/users/{user.id}/password-link", {}, follow_redirects=True)
    assert "リンクをメールで送信できませんでした。" in sent.get_data(as_text=True)


# --- who may open what ---------------------------------------------------------------------------

SIGNED_IN = tuple(Role)


def _expected(method: str, path: str, who: str) -> int:
    if path.startswith(("/invitation/", "/password/reset/")):
        return 404  # a forged link, for anyone
    if path == "/password/forgot":
        return 200 if method == "GET" else 422  # an empty form
    if who == "anonymous":
        return 302  # to sign in
    if path.startswith("/admin/"):
        return 302 if who == Role.admin else 403
    return 200 if method == "GET" else 422


def test_permission_matrix(app: Flask, client: FlaskClient) -> None:
    target = make_user()
    paths = routes(app, "credentials", ids=target.id)
    assert {path for _method, path in paths} == {
        f"/invitation/{target.id}", f"/password/reset/{target.id}", "/password/forgot",
        "/settings/security", "/settings/security/password",
        f"/admin/users/{target.id}/password-link",
    }  # fmt: skip
    for who in ("anonymous", *SIGNED_IN):
        _sign_out(client)
        if who != "anonymous":
            login(client, make_user(Role(who)).email)
        for method, path in paths:
            if method == "GET":
                response = client.get(path)
            else:
                response = client.post(path, data={"csrf_token": csrf_token(client, "/login")})
            assert response.status_code == _expected(method, path, who), (who, method, path)
            if response.status_code == 302 and who == "anonymous":
                assert "/login" in response.headers["Location"]
