"""The audit-log page and GET /api/v1/audit-events: filters, pages, the CSV file, and
administrators only."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from grants.accounts.models import User
from grants.core import audit
from grants.core.audit import Named, verify_chain
from grants.core.identity import Locale, Role
from grants.core.models import AuditEvent
from grants.extensions import db
from tests.support.api import api_as, assert_error
from tests.support.factories import make_user
from tests.support.matrix import routes
from tests.support.queries import count_queries
from tests.support.web import login

# The logged events' month: the users' own steps when they were made (setting their password
# through the invitation) fall on today, outside it.
OCTOBER = "date_from=2026-10-01&date_to=2026-10-31"


def _event(actor: User, action: str, object_id: str, at: datetime, **after: object) -> None:
    audit.record(actor, action, Named("grant_award", object_id), after=dict(after) or None)
    db.session.commit()
    # placed in time for the date filters (the hash chain covers the time: re-checked below)
    last = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert last is not None
    db.session.execute(update(AuditEvent).where(AuditEvent.id == last.id).values(created_at=at))
    db.session.commit()


@pytest.fixture
def logged(app: Flask) -> dict[str, User]:
    """Events of two officers over three Tokyo days (the users' own creation events too)."""
    alice = make_user(Role.officer, email="alice@example.jp")
    bob = make_user(Role.officer, email="bob@example.jp")
    # 2026-10-01 23:30 in Tokyo is 14:30 UTC; 2026-10-02 00:30 in Tokyo is 15:30 UTC
    _event(alice, "tranche.release", "1", datetime(2026, 10, 1, 14, 30, tzinfo=UTC))
    _event(alice, "tranche.prepare", "2", datetime(2026, 10, 1, 15, 30, tzinfo=UTC))
    _event(
        bob, "grant.award", "2", datetime(2026, 10, 3, 1, 0, tzinfo=UTC), note="=cmd|' /C calc'!A0"
    )
    return {"alice": alice, "bob": bob}


def _admin(client: FlaskClient, locale: Locale = Locale.en) -> User:
    admin = make_user(Role.admin, locale=locale)
    login(client, admin.email)
    return admin


def _ids(page: str) -> list[int]:
    return [int(n) for n in re.findall(r'<tr id="event-(\d+)"', page)]


def test_every_route_is_enumerated(app: Flask) -> None:
    assert routes(app, "audit") == [("GET", "/admin/audit"), ("GET", "/admin/audit/audit-log.csv")]


@pytest.mark.parametrize("role", [Role.applicant, Role.reviewer, Role.officer])
def test_refused_to_everyone_but_administrators(
    app: Flask, client: FlaskClient, role: Role
) -> None:
    login(client, make_user(role).email)
    assert client.get("/admin/audit").status_code == 403
    assert client.get("/admin/audit/audit-log.csv").status_code == 403
    assert_error(api_as(client, role).get("/api/v1/audit-events"), 403, "forbidden")


def test_anonymous_is_sent_to_sign_in(app: Flask, client: FlaskClient) -> None:
    response = client.get("/admin/audit")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert_error(client.get("/api/v1/audit-events"), 401)


def test_the_page_filters_by_actor_action_object_and_tokyo_days(
    logged: dict[str, User], client: FlaskClient
) -> None:
    _admin(client)
    everything = client.get("/admin/audit").get_data(as_text=True)
    assert 'href="/admin/audit"' in everything  # in the navigation
    events = {
        e.action: e.id for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))
    }

    def shown(query: str) -> list[int]:
        response = client.get(f"/admin/audit?{query}")
        assert response.status_code == 200, query
        return _ids(response.get_data(as_text=True))

    assert shown(f"actor=alice&{OCTOBER}") == [events["tranche.prepare"], events["tranche.release"]]
    assert shown("action=tranche") == [events["tranche.prepare"], events["tranche.release"]]
    assert shown("action=tranche.release") == [events["tranche.release"]]
    assert shown("action=tranch") == []  # a family is named whole
    assert shown("object_type=grant_award&object_id=2") == [
        events["grant.award"],
        events["tranche.prepare"],
    ]
    assert shown("date_from=2026-10-01&date_to=2026-10-01") == [events["tranche.release"]]
    assert shown("date_from=2026/10/02&date_to=2026-10-03") == [
        events["grant.award"],
        events["tranche.prepare"],
    ]
    assert shown("actor=%25") == []  # a % is a character, not a wildcard


def test_bad_filters_are_422_with_the_field(logged: dict[str, User], client: FlaskClient) -> None:
    _admin(client)
    backwards = client.get("/admin/audit?date_from=2026-10-03&date_to=2026-10-01")
    assert backwards.status_code == 422
    assert "The range must end on or after the day it starts" in backwards.get_data(as_text=True)
    assert client.get("/admin/audit?date_from=someday").status_code == 422
    assert client.get(f"/admin/audit?actor={'x' * 300}").status_code == 422
    assert client.get("/admin/audit/audit-log.csv?date_from=someday").status_code == 422


def test_pages_cost_the_same_number_of_statements(app: Flask, client: FlaskClient) -> None:
    admin = _admin(client)
    for n in range(60):
        audit.record(admin, "test.event", Named("grant_award", str(n)))
    db.session.commit()

    def statements(path: str) -> int:
        with count_queries() as sent:
            assert client.get(path).status_code == 200
        return len(sent)

    first, second = statements("/admin/audit"), statements("/admin/audit?page=2")
    assert first == second
    page = client.get("/admin/audit?page=2").get_data(as_text=True)
    # the admin's creation and sign-in, the 60 events and the rest on the second page
    total = db.session.scalar(select(func.count()).select_from(AuditEvent))
    assert total is not None and total > 60 and len(_ids(page)) == total - 50
    assert "Page 2 of 2" in page
    assert client.get("/admin/audit?page=99").status_code == 200  # the last page


def test_the_csv_file_holds_the_filtered_events_with_formulas_made_inert(
    logged: dict[str, User], client: FlaskClient
) -> None:
    admin = _admin(client, Locale.ja)
    response = client.get(f"/admin/audit/audit-log.csv?actor=bob&{OCTOBER}", buffered=True)
    assert response.status_code == 200
    disposition = response.headers["Content-Disposition"]
    assert disposition == 'attachment; filename="audit-log-2026-10-01-2026-10-31.csv"'
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0][:3] == ["番号", "日時（日本時間）", "実行者"]
    assert [row[4] for row in rows[1:]] == ["grant.award"]
    award = rows[1]
    assert award[1] == "2026-10-03T10:00:00+09:00"
    assert award[8] == '{"note": "=cmd|\' /C calc\'!A0"}'  # JSON: no formula to a spreadsheet
    taken = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "audit_log.export")
    ).one()
    assert taken.actor_id == admin.id and taken.after["actor"] == "bob"


def test_a_formula_in_a_cell_is_neutralised(app: Flask, client: FlaskClient) -> None:
    admin = _admin(client)
    audit.record(admin, "=1+1", Named("=2", "@3"))
    db.session.commit()
    response = client.get("/admin/audit/audit-log.csv?object_type=%3D2", buffered=True)
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert rows[1][4:7] == ["'=1+1", "'=2", "'@3"]


def test_the_api_filters_and_pages(logged: dict[str, User], client: FlaskClient) -> None:
    api = api_as(client, Role.admin)
    body = api.get(f"/api/v1/audit-events?actor=alice&per_page=1&{OCTOBER}").get_json()
    assert body["total"] == 2 and body["per_page"] == 1 and len(body["items"]) == 1
    first = body["items"][0]
    assert first["action"] == "tranche.prepare" and first["actor_label"] == "alice@example.jp"
    assert {"hash", "prev_hash", "before", "after", "created_at"} <= set(first)
    second = api.get(f"/api/v1/audit-events?actor=alice&per_page=1&page=2&{OCTOBER}").get_json()
    assert second["items"][0]["action"] == "tranche.release"
    days = api.get("/api/v1/audit-events?date_from=2026-10-02&date_to=2026-10-02").get_json()
    assert [e["action"] for e in days["items"]] == ["tranche.prepare"]
    typed = api.get("/api/v1/audit-events?object_type=grant_award&action=grant").get_json()
    assert [e["action"] for e in typed["items"]] == ["grant.award"]
    for query, field in (
        ("date_from=2026-10-03&date_to=2026-10-01", "date_to"),
        ("date_from=soon", "date_from"),
        ("per_page=1000", "per_page"),
        ("actor=", "actor"),
    ):
        error = assert_error(api.get(f"/api/v1/audit-events?{query}"), 422)
        assert field in error["fields"], (query, error)


def test_the_chain_still_verifies_after_the_reads(
    logged: dict[str, User], client: FlaskClient
) -> None:
    _admin(client)
    client.get("/admin/audit/audit-log.csv", buffered=True)
    report = verify_chain()
    # the fixture moved the test events in time, which the chain notices; nothing else does
    assert report.broken_id is not None and report.reason == "hash"
