"""flask grants create-user and demo."""

from flask import Flask
from flask.testing import FlaskCliRunner

from grants.accounts.models import Organization, User
from grants.core.identity import Role
from grants.demo.service import ACCOUNTS, DEMO_PASSWORD
from grants.extensions import db
from tests.support.factories import make_org
from tests.support.web import login


def test_create_user(app: Flask, runner: FlaskCliRunner) -> None:
    org = make_org()
    args = ["grants", "create-user", "--email", "Officer@Example.jp", "--name", "Officer",
            "--role", "officer", "--organization", org.corporate_number,
            "--password", "pw-longer"]  # fmt: skip
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    user = db.session.query(User).filter_by(email="officer@example.jp").one()
    assert user.role == Role.officer and user.organization_id == org.id
    assert user.password_hash != "pw-longer"


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
        "--password",
        "pw-long-enough",
    ]
    assert runner.invoke(args=[*base, "--email", "a@example.jp"]).exit_code == 0
    duplicate = runner.invoke(args=[*base, "--email", "A@example.jp"])
    assert duplicate.exit_code == 1 and "email" in duplicate.output
    short = runner.invoke(args=["grants", "create-user", "--email", "b@example.jp", "--name", "B",
                                "--role", "admin", "--password", "short"])  # fmt: skip
    assert short.exit_code == 1 and "password" in short.output
    no_org = runner.invoke(args=[*base, "--email", "c@example.jp", "--organization", "424242"])
    assert no_org.exit_code == 1 and "No organization" in no_org.output
    bad_role = runner.invoke(args=[*base[:4], "--role", "root", "--email", "d@example.jp"])
    assert bad_role.exit_code == 2
    assert db.session.query(User).count() == 1


def test_create_user_refuses_an_implausible_e_mail_address(
    app: Flask, runner: FlaskCliRunner
) -> None:
    base = ["grants", "create-user", "--name", "X", "--role", "admin", "--password", "pw-long-1"]
    for email in ("@", "a\r\nBcc: x@y@example.jp", "root@localhost", "a b@example.jp"):
        result = runner.invoke(args=[*base, "--email", email])
        assert result.exit_code == 1 and "email" in result.output, (email, result.output)
    assert db.session.query(User).count() == 0


def test_create_user_refuses_a_name_that_disguises_itself(
    app: Flask, runner: FlaskCliRunner
) -> None:
    base = ["grants", "create-user", "--email", "e@example.jp", "--role", "admin"]
    for name in ("Ad\u202emin", "Ad\u200bmin", "Ad\x1bmin", "two\nlines"):
        result = runner.invoke(args=[*base, "--name", name, "--password", "pw-long-enough"])
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
        "--password",
        "pw-long-1",
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
