"""flask grants create-user, password-link and demo."""

import logging
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner

from grants.accounts.models import Organization, User
from grants.core.identity import Role
from grants.demo.service import ACCOUNTS, DEMO_PASSWORD
from grants.extensions import db
from tests.support.factories import PASSWORD, make_org, make_user
from tests.support.smtp import free_port
from tests.support.web import login, post_form

NEW_PASSWORD = "lantern-quarry-ostrich"


def test_create_user_e_mails_an_invitation(
    app: Flask, runner: FlaskCliRunner, caplog: pytest.LogCaptureFixture
) -> None:
    org = make_org()
    args = ["grants", "create-user", "--email", "Officer@Example.jp", "--name", "Officer",
            "--role", "officer", "--organization", org.corporate_number]  # fmt: skip
    with caplog.at_level(logging.INFO, logger="grants.mail"):
        result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    user = db.session.query(User).filter_by(email="officer@example.jp").one()
    assert user.role == Role.officer and user.organization_id == org.id
    assert user.password_hash is None
    assert "e-mailed to officer@example.jp" in result.output
    assert "/invitation/" not in result.output  # the link went by e-mail only
    (mail,) = [r.getMessage() for r in caplog.records if r.name == "grants.mail"]
    assert "to=officer@example.jp" in mail and "http://127.0.0.1:5000/invitation/" in mail


def test_create_user_prints_an_invitation_link_for_the_first_administrator(
    app: Flask, runner: FlaskCliRunner, caplog: pytest.LogCaptureFixture
) -> None:
    args = ["grants", "create-user", "--email", "admin@example.jp", "--name", "Admin",
            "--role", "admin", "--print-link"]  # fmt: skip
    with caplog.at_level(logging.INFO, logger="grants.mail"):
        result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    assert not [r for r in caplog.records if r.name == "grants.mail"]  # nothing e-mailed
    link = result.output.strip().splitlines()[-1]
    assert link.startswith("http://127.0.0.1:5000/invitation/")
    client = app.test_client()
    path = urlsplit(link).path
    form = {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD}
    assert post_form(client, path, form).status_code == 302
    assert login(client, "admin@example.jp", NEW_PASSWORD).status_code == 302
    assert client.get("/admin/users").status_code == 200


def test_password_link_gives_a_reset_link_or_the_invitation_again(
    app: Flask, runner: FlaskCliRunner
) -> None:
    user = make_user(Role.admin)
    result = runner.invoke(args=["grants", "password-link", "--email", user.email.upper(),
                                 "--print-link"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1].startswith("http://127.0.0.1:5000/password/")
    runner.invoke(args=["grants", "create-user", "--email", "n@example.jp", "--name", "N",
                        "--role", "reviewer", "--print-link"])  # fmt: skip
    again = runner.invoke(args=["grants", "password-link", "--email", "n@example.jp",
                                "--print-link"])  # fmt: skip
    assert again.output.strip().splitlines()[-1].startswith("http://127.0.0.1:5000/invitation/")
    unknown = runner.invoke(args=["grants", "password-link", "--email", "x@example.jp"])
    assert unknown.exit_code == 1 and "No user" in unknown.output
    assert login(app.test_client(), user.email, PASSWORD).status_code == 302  # still works


def test_a_link_that_cannot_be_e_mailed_says_how_to_print_one(
    app: Flask, runner: FlaskCliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "MAIL_BACKEND", "smtp")
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", free_port())  # nobody listens there
    args = ["grants", "create-user", "--email", "a@example.jp", "--name", "A", "--role", "admin"]
    result = runner.invoke(args=args)
    assert result.exit_code == 1
    assert "could not be e-mailed" in result.output
    assert "flask grants password-link --email a@example.jp --print-link" in result.output
    assert db.session.query(User).filter_by(email="a@example.jp").count() == 1


def test_create_user_errors_exit_non_zero_with_a_message(
    app: Flask, runner: FlaskCliRunner
) -> None:
    base = [
        "grants",
        "create-user",
        "--name",
        "X",
        "--role",
        "admin",
        "--print-link",
    ]
    assert runner.invoke(args=[*base, "--email", "a@example.jp"]).exit_code == 0
    duplicate = runner.invoke(args=[*base, "--email", "A@example.jp"])
    assert duplicate.exit_code == 1 and "email" in duplicate.output
    no_org = runner.invoke(args=[*base, "--email", "c@example.jp", "--organization", "424242"])
    assert no_org.exit_code == 1 and "No organization" in no_org.output
    bad_role = runner.invoke(args=[*base[:4], "--role", "root", "--email", "d@example.jp"])
    assert bad_role.exit_code == 2
    assert db.session.query(User).count() == 1


def test_create_user_refuses_an_implausible_e_mail_address(
    app: Flask, runner: FlaskCliRunner
) -> None:
    base = ["grants", "create-user", "--name", "X", "--role", "admin", "--print-link"]
    for email in ("@", "a\r\nBcc: x@y@example.jp", "root@localhost", "a b@example.jp"):
        result = runner.invoke(args=[*base, "--email", email])
        assert result.exit_code == 1 and "email" in result.output, (email, result.output)
    assert db.session.query(User).count() == 0


def test_create_user_refuses_a_name_that_disguises_itself(
    app: Flask, runner: FlaskCliRunner
) -> None:
    base = ["grants", "create-user", "--email", "e@example.jp", "--role", "admin"]
    for name in ("Ad\u202emin", "Ad\u200bmin", "Ad\x1bmin", "two\nlines"):
        result = runner.invoke(args=[*base, "--name", name])
        assert result.exit_code == 2 and "--name" in result.output, (name, result.output)
    assert db.session.query(User).count() == 0


def test_create_user_finds_the_organization_by_its_number_as_typed(
    app: Flask, runner: FlaskCliRunner
) -> None:
    org = make_org()
    typed = org.corporate_number.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    typed = f"{typed[:4]}-{typed[4:8]}-{typed[8:]}"
    base = [
        "grants",
        "create-user",
        "--name",
        "X",
        "--role",
        "applicant",
        "--print-link",
    ]
    result = runner.invoke(args=[*base, "--email", "x@example.jp", "--organization", typed])
    assert result.exit_code == 0, result.output
    assert db.session.query(User).one().organization_id == org.id
    huge = runner.invoke(args=[*base, "--email", "y@example.jp", "--organization", "9" * 5000])
    assert huge.exit_code == 1 and "No organization" in huge.output


def test_demo_is_idempotent_and_its_accounts_sign_in(app: Flask, runner: FlaskCliRunner) -> None:
    first = runner.invoke(args=["grants", "demo"])
    assert first.exit_code == 0, first.output
    counts = (db.session.query(User).count(), db.session.query(Organization).count())
    second = runner.invoke(args=["grants", "demo"])
    assert second.exit_code == 0
    assert (db.session.query(User).count(), db.session.query(Organization).count()) == counts
    assert {Role(a.role) for a in ACCOUNTS} == set(Role)
    for account in ACCOUNTS:
        assert account.email in first.output
    client = app.test_client()
    login(client, ACCOUNTS[0].email, DEMO_PASSWORD)
    assert client.get("/").status_code == 200
