"""The inbox list: read or unread, kind and text filters, sorts, in the page and the API;
marking one read returns to the list as it was shown."""

from __future__ import annotations

from datetime import date

from flask import Flask
from flask.testing import FlaskClient

from grants.alerts.models import Alert
from grants.alerts.rules import AlertKind
from grants.core.identity import Locale, Role
from grants.core.models import utcnow
from grants.extensions import db
from tests.support.alerts import alert_row
from tests.support.api import ApiClient
from tests.support.factories import make_user
from tests.support.grants import make_grant
from tests.support.web import login, post_form

DAY = date(2026, 9, 1)


def test_the_inbox_filters_and_sorts(app: Flask, client: FlaskClient) -> None:
    first = make_grant(code="AL")
    second = make_grant(code="AZ")
    officer = make_user(Role.officer, locale=Locale.en)
    rows = [
        alert_row(officer, AlertKind.overdue, 1, first.milestones[0], DAY),
        alert_row(officer, AlertKind.escalation, 1, first.milestones[0], DAY),
        alert_row(officer, AlertKind.overdue, 1, second.milestones[1], DAY),
    ]
    db.session.add_all(rows)
    db.session.commit()
    rows[1].read_at = utcnow()
    db.session.commit()
    api = ApiClient(client, officer)

    def ids(query: str) -> list[int]:
        response = api.get(f"/api/v1/alerts?{query}")
        assert response.status_code == 200, response.get_json()
        return [item["id"] for item in response.get_json()["items"]]

    newest_first = [rows[2].id, rows[1].id, rows[0].id]
    assert ids("") == newest_first
    assert ids("state=unread") == ids("unread=true") == [rows[2].id, rows[0].id]
    assert ids("state=read") == [rows[1].id]
    assert ids("kind=escalation") == [rows[1].id]
    assert ids("q=AZ-0001") == [rows[2].id]
    assert ids(f"program_id={first.program.id}&sort=kind") == [rows[0].id, rows[1].id]
    assert ids("sort=received&direction=asc") == newest_first[::-1]
    login(client, officer.email)
    query = "state=unread&kind=overdue&sort=received&direction=asc"
    page = client.get(f"/alerts?{query}").get_data(as_text=True)
    assert page.index(f'id="alert-{rows[0].id}"') < page.index(f'id="alert-{rows[2].id}"')
    response = post_form(
        client,
        f"/alerts/{rows[0].id}/read",
        {"state": "unread", "kind": "overdue", "sort": "received", "direction": "asc", "page": "1"},
    )
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/alerts?")
    for part in ("state=unread", "kind=overdue", "direction=asc"):
        assert part in response.headers["Location"]
    assert db.session.get(Alert, rows[0].id).read_at is not None
