"""Credential use cases: links that work once, for their purpose, until they expire; new
passwords that end sessions and links; nothing secret in the audit log."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from grants.accounts import service as accounts
from grants.accounts.credentials import service as credentials
from grants.accounts.credentials.models import CredentialLink
from grants.accounts.credentials.rules import LinkPurpose, MailKind, secret_hash
from grants.accounts.models import User
from grants.accounts.tokens import service as tokens
from grants.core.actors import SYSTEM
from grants.core.errors import Conflict, NotAllowed, NotFound, RuleViolation
from grants.core.identity import Locale, Role
from grants.core.models import AuditEvent, utcnow
from grants.extensions import db
from tests.support.factories import PASSWORD, make_org, make_user
from tests.support.i18n import said
from tests.support.second_factor import no_second_factor_given

STRONG = "lantern-quarry-ostrich"


def _invite(app: Flask, email: str = "new@example.jp") -> tuple[User, credentials.CredentialMail]:
    data = accounts.UserData(email=email, name="Hanako Suzuki", role=Role.reviewer)
    return accounts.create_user(SYSTEM, data, now=utcnow(), settings=app.config)


def _audit_count() -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEvent)) or 0


def _actions() -> list[str]:
    query = select(AuditEvent.action).order_by(AuditEvent.id)
    return list(db.session.scalars(query))


def test_a_new_account_has_no_password_and_an_invitation_stored_as_a_hash(app: Flask) -> None:
    user, invitation = _invite(app)
    assert user.password_hash is None
    assert invitation.kind == MailKind.invitation and invitation.to == "new@example.jp"
    assert invitation.secret and invitation.secret not in repr(invitation)
    link = db.session.scalars(select(CredentialLink)).one()
    assert link.token_hash == secret_hash(invitation.secret)
    assert link.expires_at - link.created_at == timedelta(hours=72)
    assert _actions() == ["user.create", "credential_link.issue"]


def test_the_invitation_link_sets_the_password_once(app: Flask) -> None:
    user, invitation = _invite(app)
    secret, now = invitation.secret or "", utcnow()
    notice = credentials.set_password(secret, LinkPurpose.invitation, STRONG, now, app.config)
    assert notice.kind == MailKind.password_changed and notice.secret is None
    assert notice.to == user.email and notice.changed_at == now
    assert accounts.check_password(user.email, STRONG) is not None
    with pytest.raises(Conflict) as again:
        credentials.set_password(secret, LinkPurpose.invitation, STRONG + "!", now, app.config)
    assert said(again.value.message) == "このリンクは使用済みです。リンクは1回だけ使えます。"
    assert accounts.check_password(user.email, STRONG) is not None  # the reuse changed nothing
    refusal = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "credential_link.refuse")
    ).one()
    assert refusal.after == {"reason": "used"}


def test_an_expired_link_is_refused_and_the_refusal_recorded(app: Flask) -> None:
    user, invitation = _invite(app)
    late = utcnow() + timedelta(hours=72, seconds=1)
    with pytest.raises(Conflict) as caught:
        credentials.set_password(
            invitation.secret or "", LinkPurpose.invitation, STRONG, late, app.config
        )
    assert said(caught.value.message, "en") == "This link has expired."
    db.session.refresh(user)
    assert user.password_hash is None
    assert _actions()[-1] == "credential_link.refuse"


@pytest.mark.parametrize("secret", ["forged", "x" * 43, "", "%00"])
def test_a_forged_link_is_not_found_and_writes_nothing(app: Flask, secret: str) -> None:
    _invite(app)
    before = _audit_count()
    with pytest.raises(NotFound):
        credentials.set_password(secret, LinkPurpose.invitation, STRONG, utcnow(), app.config)
    assert _audit_count() == before


def test_a_link_works_only_for_its_purpose(app: Flask) -> None:
    _user, invitation = _invite(app)
    before = _audit_count()
    with pytest.raises(NotFound):
        credentials.set_password(
            invitation.secret or "", LinkPurpose.reset, STRONG, utcnow(), app.config
        )
    assert _audit_count() == before


@pytest.mark.parametrize(
    ("password", "said_ja"),
    [
        ("short-one", "パスワードは12文字以上にしてください。"),
        ("password1234", "多くの人が使うパスワード、またはそれに近いパスワードです。"),
        (
            "new@example.jp",
            "あなたの名前、メールアドレス、またはこのサイトの名前が含まれています。",
        ),
        (
            "HanakoSuzuki-99",
            "あなたの名前、メールアドレス、またはこのサイトの名前が含まれています。",
        ),
    ],
)
def test_a_weak_password_is_refused_and_the_link_keeps_working(
    app: Flask, password: str, said_ja: str
) -> None:
    user, invitation = _invite(app)
    before = _audit_count()
    secret = invitation.secret or ""
    with pytest.raises(RuleViolation) as caught:
        credentials.set_password(secret, LinkPurpose.invitation, password, utcnow(), app.config)
    assert said_ja in said(caught.value.fields)["password"]
    assert _audit_count() == before
    db.session.refresh(user)
    assert user.password_hash is None
    credentials.set_password(secret, LinkPurpose.invitation, STRONG, utcnow(), app.config)


def test_the_organisation_is_guessable_too(app: Flask) -> None:
    org = make_org(name="株式会社ミライ", name_en="Mirai Therapeutics")
    data = accounts.UserData(email="k@example.jp", name="K", role=Role.applicant,
                             organization_id=org.id)  # fmt: skip
    _user, invitation = accounts.create_user(SYSTEM, data, now=utcnow(), settings=app.config)
    with pytest.raises(RuleViolation):
        credentials.set_password(
            invitation.secret or "", LinkPurpose.invitation, "MiraiTherapeutics26",
            utcnow(), app.config,
        )  # fmt: skip


def test_using_a_link_ends_the_accounts_sessions_and_other_links(app: Flask) -> None:
    user = make_user()
    version = user.session_version
    first = credentials.request_reset(user.email, "ja", utcnow(), app.config)
    second = credentials.request_reset(user.email, "ja", utcnow(), app.config)
    credentials.set_password(second.secret or "", LinkPurpose.reset, STRONG, utcnow(), app.config)
    db.session.refresh(user)
    assert user.session_version == version + 1
    with pytest.raises(Conflict) as caught:
        credentials.set_password(
            first.secret or "", LinkPurpose.reset, STRONG + "2", utcnow(), app.config
        )
    assert "newer password" in said(caught.value.message, "en")
    change = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "user.password_change")
        .order_by(AuditEvent.id.desc())
    ).first()  # fmt: skip
    assert change is not None and change.after["through"] == "reset"
    assert change.after["links_revoked"] == 1


def test_a_reset_link_revokes_the_api_tokens_and_the_notice_says_so(app: Flask) -> None:
    user = make_user(Role.officer)
    _token, secret = tokens.create_token(
        SYSTEM, user, "accounting", step_up=no_second_factor_given()
    )
    assert tokens.authenticate(secret) is not None
    link = credentials.request_reset(user.email, "ja", utcnow(), app.config)
    notice = credentials.set_password(
        link.secret or "", LinkPurpose.reset, STRONG, utcnow(), app.config
    )
    assert notice.tokens_revoked == 1
    assert tokens.authenticate(secret) is None
    revoke = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "api_token.revoke")
    ).one()
    assert revoke.after["reason"] == "password reset"


def test_the_forgotten_password_request_answers_alike_for_any_address(app: Flask) -> None:
    user = make_user(locale=Locale.en)
    inactive = make_user(active=False)
    known = credentials.request_reset(user.email.upper(), "ja", utcnow(), app.config)
    unknown = credentials.request_reset("nobody@example.jp", "ja", utcnow(), app.config)
    asleep = credentials.request_reset(inactive.email, "en", utcnow(), app.config)
    assert (known.kind, known.to, known.locale) == (MailKind.reset, user.email, "en")
    assert known.secret and known.expires_at
    assert (unknown.kind, unknown.to, unknown.locale) == (
        MailKind.no_account, "nobody@example.jp", "ja",
    )  # fmt: skip
    assert unknown.secret is None and asleep.kind == MailKind.no_account
    assert db.session.scalar(select(func.count()).select_from(CredentialLink).where(
        CredentialLink.purpose == LinkPurpose.reset)) == 1  # fmt: skip
    with pytest.raises(RuleViolation):
        credentials.request_reset("not an address", "ja", utcnow(), app.config)


def test_changing_ones_own_password_needs_the_current_one(app: Flask) -> None:
    user = make_user()
    _token, secret = tokens.create_token(user, user, "dashboard", step_up=no_second_factor_given())
    before = _audit_count()
    with pytest.raises(RuleViolation) as wrong:
        credentials.change_own_password(user, "not-it-at-all", STRONG, utcnow(), app.config)
    assert said(wrong.value.fields) == {
        "current_password": ["現在のパスワードが正しくありません。"]
    }
    with pytest.raises(RuleViolation) as same:
        credentials.change_own_password(user, PASSWORD, PASSWORD, utcnow(), app.config)
    assert list(same.value.fields) == ["password"]
    with pytest.raises(RuleViolation):
        credentials.change_own_password(user, PASSWORD, "1234567890ab", utcnow(), app.config)
    assert _audit_count() == before
    version = user.session_version
    notice = credentials.change_own_password(user, PASSWORD, STRONG, utcnow(), app.config)
    assert notice.kind == MailKind.password_changed and notice.tokens_revoked == 0
    assert user.session_version == version + 1
    assert accounts.check_password(user.email, STRONG) is not None
    assert tokens.authenticate(secret) is not None  # its owner knew the password: kept


def test_an_administrators_reset_sends_a_link_and_never_a_password(app: Flask) -> None:
    admin, user = make_user(Role.admin), make_user(locale=Locale.en)
    hashed, version = user.password_hash, user.session_version
    link = credentials.send_password_link(admin, user.id, utcnow(), app.config)
    assert link.kind == MailKind.reset_by_admin and link.to == user.email and link.locale == "en"
    db.session.refresh(user)
    assert user.password_hash == hashed  # the current password works until a new one is set
    assert user.session_version == version + 1  # but every session ended
    invited, _ = _invite(app)
    again = credentials.send_password_link(admin, invited.id, utcnow(), app.config)
    assert again.kind == MailKind.invitation and again.purpose == LinkPurpose.invitation


def test_only_an_administrator_sends_password_links(app: Flask) -> None:
    user = make_user()
    for role in (Role.officer, Role.reviewer, Role.applicant):
        with pytest.raises(NotAllowed):
            credentials.send_password_link(make_user(role), user.id, utcnow(), app.config)
    with pytest.raises(NotFound):
        credentials.send_password_link(make_user(Role.admin), 999_999, utcnow(), app.config)
    inactive = make_user(active=False)
    with pytest.raises(Conflict):
        credentials.send_password_link(SYSTEM, inactive.id, utcnow(), app.config)


def test_a_deactivated_accounts_link_is_refused(app: Flask) -> None:
    user, invitation = _invite(app)
    data = accounts.UserData(user.email, user.name, user.role, active=False)
    accounts.update_user(SYSTEM, user.id, data)
    with pytest.raises(Conflict) as caught:
        credentials.set_password(
            invitation.secret or "", LinkPurpose.invitation, STRONG, utcnow(), app.config
        )
    assert said(caught.value.message, "en") == "This account is inactive."


def test_a_new_address_ends_the_links_sent_to_the_old_one(app: Flask) -> None:
    user, invitation = _invite(app)
    data = accounts.UserData("corrected@example.jp", user.name, user.role)
    accounts.update_user(SYSTEM, user.id, data)
    update = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "user.update")).one()
    assert update.after["links_revoked"] == 1
    with pytest.raises(Conflict):
        credentials.set_password(
            invitation.secret or "", LinkPurpose.invitation, STRONG, utcnow(), app.config
        )
    renamed = accounts.UserData("corrected@example.jp", "Another name", user.role)
    accounts.update_user(SYSTEM, user.id, renamed)  # the same address: links stay
    assert "links_revoked" not in db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "user.update")
        .order_by(AuditEvent.id.desc())
    ).first().after  # fmt: skip


def test_no_secret_and_no_password_reaches_the_audit_log(app: Flask) -> None:
    user, invitation = _invite(app)
    secret = invitation.secret or ""
    credentials.set_password(secret, LinkPurpose.invitation, STRONG, utcnow(), app.config)
    link = credentials.send_password_link(SYSTEM, user.id, utcnow(), app.config)
    credentials.set_password(link.secret or "", LinkPurpose.reset, STRONG + "-2", utcnow(),
                             app.config)  # fmt: skip
    changer = db.session.get(User, user.id)
    credentials.change_own_password(changer, STRONG + "-2", STRONG + "-3", utcnow(), app.config)
    events = db.session.scalars(select(AuditEvent)).all()
    logged = json.dumps([[e.action, e.before, e.after] for e in events], ensure_ascii=False)
    for forbidden in (secret, link.secret, STRONG, "lantern", changer.password_hash):
        assert forbidden and forbidden not in logged
    assert {"credential_link.issue", "credential_link.use", "user.password_change"} <= {
        e.action for e in events
    }
