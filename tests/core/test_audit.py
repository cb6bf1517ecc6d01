"""The hash-chained audit log."""

from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import text, update

from grants.core.audit import GENESIS, verify_chain
from grants.core.models import AuditEvent
from grants.extensions import db
from tests.support.factories import make_org, make_user


def _events() -> list[AuditEvent]:
    return list(db.session.query(AuditEvent).order_by(AuditEvent.id))


def test_each_row_links_to_the_previous_one(app: Flask) -> None:
    org = make_org()
    make_user(org=org)
    events = _events()
    assert [e.action for e in events] == [
        "organization.create",
        "user.create",
        "credential_link.issue",  # the new user's invitation,
        "credential_link.use",  # used to choose a password
        "user.password_change",
    ]
    assert events[0].prev_hash == GENESIS
    assert [e.prev_hash for e in events[1:]] == [e.hash for e in events[:-1]]
    assert events[0].after["name"] == org.name
    assert events[0].created_at.tzinfo is not None
    assert verify_chain().ok and verify_chain().checked == len(events)


def test_an_edited_row_is_detected(app: Flask, runner: FlaskCliRunner) -> None:
    make_org()
    make_user()
    make_user()
    target = _events()[1]
    db.session.execute(
        update(AuditEvent).where(AuditEvent.id == target.id).values(actor_label="mallory")
    )
    db.session.commit()
    db.session.expire_all()
    report = verify_chain()
    assert not report.ok and report.broken_id == target.id and report.checked == 1
    result = runner.invoke(args=["grants", "audit-verify"])
    assert result.exit_code == 1
    assert f"audit event {target.id}" in result.output


def test_a_deleted_row_is_detected(app: Flask) -> None:
    make_org()
    make_org()
    make_org()
    middle = _events()[1]
    db.session.execute(text("DELETE FROM audit_event WHERE id = :id"), {"id": middle.id})
    db.session.commit()
    report = verify_chain()
    assert report.broken_id == _events()[1].id and report.reason == "prev_hash"


def test_audit_verify_reports_ok(app: Flask, runner: FlaskCliRunner) -> None:
    make_org()
    result = runner.invoke(args=["grants", "audit-verify"])
    assert result.exit_code == 0
    assert "OK: 1 audit events verified." in result.output


def test_an_anchor_shows_that_the_newest_rows_were_cut_off(
    app: Flask, runner: FlaskCliRunner
) -> None:
    make_org()
    make_org()
    head = verify_chain().head
    assert head == _events()[-1].hash
    ok = runner.invoke(args=["grants", "audit-verify", "--anchor", head])
    assert ok.exit_code == 0 and f"Head: {head}" in ok.output
    pasted = runner.invoke(args=["grants", "audit-verify", "--anchor", f" {head.upper()} "])
    assert pasted.exit_code == 0
    typo = runner.invoke(args=["grants", "audit-verify", "--anchor", "deadbeef"])
    assert typo.exit_code == 2 and "64 hexadecimal digits" in typo.output
    make_org()  # later rows keep an older anchor valid
    assert verify_chain(head).ok
    newest = _events()[-2:]
    db.session.execute(
        text("DELETE FROM audit_event WHERE id >= :id"), {"id": newest[0].id}
    )  # the newest rows, which the chain alone cannot miss
    db.session.commit()
    assert verify_chain().ok
    report = verify_chain(head)
    assert not report.ok and report.reason == "anchor"
    cut = runner.invoke(args=["grants", "audit-verify", "--anchor", head])
    assert cut.exit_code == 1 and "is not in the log" in cut.output
