"""Pages: the alerts inbox, the header count, calendar settings and feed, the admin outbox."""

from __future__ import annotations

import re
from datetime import date

import pytest
from flask import Flask
from flask.testing import FlaskClient
from icalendar import Calendar
from sqlalchemy import select

from grants.domain.accounts import Locale, Role
from grants.extensions import db
from grants.models import Alert, CalendarToken
from grants.models.base import utcnow
from grants.services import mail
from grants.services.actors import SYSTEM
from tests.support.alerts import all_alerts, run_scan, staff
from tests.support.factories import make_user
from tests.support.grants import GrantWorld, make_grant
from tests.support.web import login, post_form

OVERDUE_DAY = date(2026, 10, 1)
FEED = re.compile(r'value="(http://localhost/calendar/([A-Za-z0-9_-]+)\.ics)"')


@pytest.fixture
def world(app: Flask) -> GrantWorld:
    world = make_grant()
    world.officer = staff(Role.officer, Locale.en)
    run_scan(date(2026, 8, 31))  # due_soon tier 1: the applicant
    run_scan(OVERDUE_DAY)  # overdue: the applicant and the officer
    return world


def _mine(world: GrantWorld) -> list[Alert]:
    return [a for a in all_alerts() if a.user_id == world.applicant.id]


def test_anonymous_users_are_sent_to_sign_in(client: FlaskClient, world: GrantWorld) -> None:
    for path in ("/alerts", "/settings/calendar", "/admin/outbox"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_inbox_lists_my_alerts_newest_first_with_the_unread_count(
    client: FlaskClient, world: GrantWorld
) -> None:
    login(client, world.applicant.email)
    page = client.get("/alerts").get_data(as_text=True)
    overdue, due_soon = sorted(_mine(world), key=lambda a: -a.id)
    assert page.index(f'id="alert-{overdue.id}"') < page.index(f'id="alert-{due_soon.id}"')
    assert (
        f'id="alert-{next(a for a in all_alerts() if a.user_id == world.officer.id).id}"'
        not in page
    )
    assert 'id="unread-alerts" data-count="2"' in page
    assert "2026年9月30日" in page  # ja: the grantee's language
    assert f'href="/grants/{world.grant.id}"' in page or "grant_pages.show" not in (
        client.application.view_functions
    )


def test_marking_one_read_updates_the_header(client: FlaskClient, world: GrantWorld) -> None:
    login(client, world.applicant.email)
    first = _mine(world)[0]
    response = post_form(client, f"/alerts/{first.id}/read", {})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Alert, first.id).read_at is not None
    page = client.get("/").get_data(as_text=True)
    assert 'id="unread-alerts" data-count="1"' in page


def test_mark_all_read_clears_the_header(client: FlaskClient, world: GrantWorld) -> None:
    login(client, world.applicant.email)
    response = post_form(client, "/alerts/read-all", {}, follow_redirects=True)
    assert response.status_code == 200
    assert 'id="unread-alerts"' not in response.get_data(as_text=True)
    assert all(a.read_at is not None for a in _mine(world))
    others = [a for a in all_alerts() if a.user_id != world.applicant.id]
    assert others and all(a.read_at is None for a in others)


def test_someone_else_s_alert_cannot_be_marked_read(client: FlaskClient, world: GrantWorld) -> None:
    officer_alert = next(a for a in all_alerts() if a.user_id == world.officer.id)
    login(client, world.applicant.email)
    assert post_form(client, f"/alerts/{officer_alert.id}/read", {}).status_code == 404
    assert post_form(client, "/alerts/999999/read", {}).status_code == 404
    db.session.expire_all()
    assert db.session.get(Alert, officer_alert.id).read_at is None


def test_marking_read_needs_the_csrf_token(client: FlaskClient, world: GrantWorld) -> None:
    login(client, world.applicant.email)
    alert = _mine(world)[0]
    assert client.post(f"/alerts/{alert.id}/read").status_code == 400
    assert client.post("/alerts/read-all").status_code == 400
    db.session.expire_all()
    assert db.session.get(Alert, alert.id).read_at is None


def test_the_inbox_page_number_is_forgiving(client: FlaskClient, world: GrantWorld) -> None:
    login(client, world.applicant.email)
    for page in ("0", "-3", "abc", "99999"):
        assert client.get(f"/alerts?page={page}").status_code == 200


# --- calendar --------------------------------------------------------------------------------


def _create_feed(client: FlaskClient) -> tuple[str, str]:
    response = post_form(client, "/settings/calendar", {})
    assert response.status_code == 200
    match = FEED.search(response.get_data(as_text=True))
    assert match, "the new address is shown"
    return match.group(1), match.group(2)


def test_calendar_feed_create_subscribe_revoke(client: FlaskClient, world: GrantWorld) -> None:
    login(client, world.applicant.email)
    before = client.get("/settings/calendar").get_data(as_text=True)
    assert 'id="feed-status"' in before and 'id="new-feed"' not in before
    url, token = _create_feed(client)
    stored = db.session.scalar(select(CalendarToken))
    assert stored.token_hash != token and token not in client.get("/settings/calendar").get_data(
        as_text=True
    )  # shown once only
    client.get("/")  # any page
    client.post("/logout")
    feed = client.get(f"/calendar/{token}.ics")  # no sign-in: calendar apps fetch it
    assert feed.status_code == 200
    assert feed.mimetype == "text/calendar"
    calendar = Calendar.from_ical(feed.data)
    due = sorted(e.get("dtstart").dt for e in calendar.walk("VEVENT"))
    assert due == [m.due_date for m in world.milestones]
    login(client, world.applicant.email)
    response = post_form(client, "/settings/calendar/revoke", {}, follow_redirects=True)
    assert response.status_code == 200
    assert client.get(f"/calendar/{token}.ics").status_code == 404


def test_regenerating_the_address_retires_the_old_one(
    client: FlaskClient, world: GrantWorld
) -> None:
    login(client, world.applicant.email)
    _url, old = _create_feed(client)
    _url, new = _create_feed(client)
    assert client.get(f"/calendar/{old}.ics").status_code == 404
    assert client.get(f"/calendar/{new}.ics").status_code == 200


def test_unknown_feed_tokens_are_404(client: FlaskClient, world: GrantWorld) -> None:
    for token in ("nope", "a" * 300, "%00"):
        assert client.get(f"/calendar/{token}.ics").status_code == 404


def test_calendar_posts_need_the_csrf_token(client: FlaskClient, world: GrantWorld) -> None:
    login(client, world.applicant.email)
    assert client.post("/settings/calendar").status_code == 400
    assert db.session.scalar(select(CalendarToken)) is None


# --- outbox ----------------------------------------------------------------------------------


def test_admins_read_the_outbox(client: FlaskClient, world: GrantWorld) -> None:
    admin = staff(Role.admin, email="root@example.jp")
    mail.deliver(SYSTEM, utcnow())
    login(client, admin.email)
    page = client.get("/admin/outbox").get_data(as_text=True)
    assert world.applicant.email in page and world.officer.email in page
    assert "期日超過" in page and "Overdue" in page  # each mail in its recipient's language


@pytest.mark.parametrize("role", [Role.officer, Role.applicant, Role.reviewer])
def test_others_may_not_read_the_outbox(client: FlaskClient, world: GrantWorld, role: Role) -> None:
    user = make_user(role)
    login(client, user.email)
    assert client.get("/admin/outbox").status_code == 403
