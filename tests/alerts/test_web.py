"""Pages: the alerts inbox, the header count, calendar settings and feed, the admin outbox."""

from __future__ import annotations

import re
from datetime import date

import pytest
from flask import Flask, current_app
from flask.testing import FlaskClient
from icalendar import Calendar
from sqlalchemy import select

from grants.accounts.models import User
from grants.alerts import web as alerts_web
from grants.alerts.calendar import service as calendar_feed
from grants.alerts.delivery import service as mail
from grants.alerts.inbox import queries as inbox
from grants.alerts.models import Alert, CalendarToken
from grants.awards.models import EvidenceSubmission, Milestone, Review
from grants.core.actors import SYSTEM
from grants.core.alert_kinds import AlertKind
from grants.core.identity import Locale, Role
from grants.core.models import utcnow
from grants.extensions import db
from tests.support.alerts import alert_row, all_alerts, run_scan, staff
from tests.support.factories import make_user
from tests.support.grants import GrantWorld, make_grant
from tests.support.web import login, login_english, post_form

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
    milestone = world.milestones[0]
    assert f'href="/grants/{world.grant.id}#milestone-{milestone.id}"' in page


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


HUGE_PAGES = ("0", "-3", "abc", "99999", "99999999999999999999999", "-99999999999999999999999")


def test_the_inbox_page_number_is_forgiving(client: FlaskClient, world: GrantWorld) -> None:
    login(client, world.applicant.email)
    for page in HUGE_PAGES:
        response = client.get(f"/alerts?page={page}")
        assert response.status_code == 200, page
    page = client.get("/alerts?page=99999999999999999999999").get_data(as_text=True)
    assert 'id="alert-' in page  # far past the last page: the last page
    assert 'id="alert-' in client.get("/alerts?page=-99999999999999999999999").get_data(
        as_text=True
    )


def test_marking_read_with_a_huge_page_goes_back_to_a_page_that_exists(
    client: FlaskClient, world: GrantWorld
) -> None:
    login(client, world.applicant.email)
    alert = _mine(world)[0]
    response = post_form(client, f"/alerts/{alert.id}/read", {"page": "99999999999999999999999"})
    assert response.status_code == 302
    assert client.get(response.headers["Location"]).status_code == 200


@pytest.mark.parametrize(
    ("unread", "text"), [(1, "1 alert marked as read."), (2, "2 alerts marked as read.")]
)
def test_marking_all_read_says_how_many_in_proper_english(
    client: FlaskClient, world: GrantWorld, unread: int, text: str
) -> None:
    login_english(client, world.applicant)
    if unread == 1:
        post_form(client, f"/alerts/{_mine(world)[0].id}/read", {})
    page = post_form(client, "/alerts/read-all", {}, follow_redirects=True).get_data(as_text=True)
    assert text in page


def test_the_unread_summary_counts(client: FlaskClient, world: GrantWorld) -> None:
    login_english(client, world.applicant)
    assert "2 unread" in client.get("/alerts").get_data(as_text=True)


# --- calendar --------------------------------------------------------------------------------


def _create_feed(client: FlaskClient) -> tuple[str, str]:
    """POST, then the redirect's GET shows the new address (POST-redirect-GET)."""
    response = post_form(client, "/settings/calendar", {})
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/settings/calendar")
    page = client.get(response.headers["Location"])
    assert page.status_code == 200
    match = FEED.search(page.get_data(as_text=True))
    assert match, "the new address is shown"
    return match.group(1), match.group(2)


def _assert_feed(data: bytes) -> Calendar:
    """A valid iCalendar document: PRODID and VERSION, a UID and a DTSTAMP per VEVENT."""
    calendar = Calendar.from_ical(data)
    assert str(calendar["PRODID"]) == calendar_feed.PRODID
    assert str(calendar["VERSION"]) == "2.0"
    events = list(calendar.walk("VEVENT"))
    uids = [str(event["UID"]) for event in events]
    assert len(uids) == len(set(uids)) == len(events)
    assert all(event.get("DTSTAMP") is not None for event in events)
    return calendar


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
    calendar = _assert_feed(feed.data)
    events = list(calendar.walk("VEVENT"))
    due = sorted(e.get("dtstart").dt for e in events)
    assert due == [m.due_date for m in world.milestones]
    assert sorted(str(e["UID"]) for e in events) == sorted(
        f"milestone-{m.id}@grants" for m in world.milestones
    )
    links = {str(e["UID"]): str(e["URL"]) for e in events}
    first = world.milestones[0]
    assert links[f"milestone-{first.id}@grants"] == (
        f"http://localhost/grants/{world.grant.id}#milestone-{first.id}"
    )
    login(client, world.applicant.email)
    response = post_form(client, "/settings/calendar/revoke", {}, follow_redirects=True)
    assert response.status_code == 200
    assert client.get(f"/calendar/{token}.ics").status_code == 404


def test_refreshing_after_creating_does_not_replace_the_address(
    client: FlaskClient, world: GrantWorld
) -> None:
    login(client, world.applicant.email)
    _url, token = _create_feed(client)
    stored = db.session.scalar(select(CalendarToken.token_hash))
    for _ in range(2):  # the browser's refresh repeats the GET it was redirected to
        again = client.get("/settings/calendar")
        assert again.status_code == 200
        page = again.get_data(as_text=True)
        assert token not in page and 'id="new-feed"' not in page  # shown once, then gone
        assert 'id="feed-status"' in page
    db.session.expire_all()
    assert db.session.scalar(select(CalendarToken.token_hash)) == stored
    assert client.get(f"/calendar/{token}.ics").status_code == 200


def test_the_new_address_is_shown_to_its_owner_only(client: FlaskClient, world: GrantWorld) -> None:
    login(client, world.applicant.email)
    response = post_form(client, "/settings/calendar", {})
    assert response.status_code == 303
    post_form(client, "/logout", {})
    other = make_user(Role.applicant, world.grantee, locale=Locale.en)
    login(client, other.email)
    page = client.get("/settings/calendar").get_data(as_text=True)
    assert 'id="new-feed"' not in page and "You have no calendar address." in page
    assert "/calendar/" not in page


def test_the_page_showing_the_new_address_is_not_cached(
    client: FlaskClient, world: GrantWorld
) -> None:
    login(client, world.applicant.email)
    response = post_form(client, "/settings/calendar", {})
    shown = client.get(response.headers["Location"])
    assert FEED.search(shown.get_data(as_text=True))
    assert shown.headers["Cache-Control"] == "no-store"


def test_the_new_address_is_forgotten_at_sign_out_and_after_a_while(
    app: Flask, client: FlaskClient, world: GrantWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    login(client, world.applicant.email)
    post_form(client, "/settings/calendar", {})
    post_form(client, "/logout", {})
    with client.session_transaction() as session:
        assert alerts_web.NEW_FEED_KEY not in session
    login(client, world.applicant.email)
    assert not FEED.search(client.get("/settings/calendar").get_data(as_text=True))
    post_form(client, "/settings/calendar", {})
    monkeypatch.setattr(alerts_web, "NEW_FEED_SECONDS", 0)
    assert not FEED.search(client.get("/settings/calendar").get_data(as_text=True))


def test_regenerating_the_address_retires_the_old_one(
    client: FlaskClient, world: GrantWorld
) -> None:
    login(client, world.applicant.email)
    _url, old = _create_feed(client)
    _url, new = _create_feed(client)
    assert old != new
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
    mail.deliver(SYSTEM, utcnow(), current_app.config)
    login(client, admin.email)
    page = client.get("/admin/outbox").get_data(as_text=True)
    assert world.applicant.email in page and world.officer.email in page
    assert "期日超過" in page and "Overdue" in page  # each mail in its recipient's language


@pytest.mark.parametrize("role", [Role.officer, Role.applicant, Role.reviewer])
def test_others_may_not_read_the_outbox(client: FlaskClient, world: GrantWorld, role: Role) -> None:
    user = make_user(role)
    login(client, user.email)
    assert client.get("/admin/outbox").status_code == 403


# --- where each alert leads ------------------------------------------------------------------


def _alert(user: User, kind: AlertKind, tier: int, milestone: Milestone) -> Alert:
    return alert_row(user, kind, tier, milestone, OVERDUE_DAY)


def _href(page: str, alert: Alert) -> str:
    row = page[page.index(f'id="alert-{alert.id}"') :]
    row = row[: row.index("</tr>")]
    match = re.search(r'<a href="([^"]+)">', row)
    assert match, row
    return match.group(1)


def test_each_alert_links_to_its_subject(app: Flask, client: FlaskClient) -> None:
    world = make_grant()
    first, second, _third = world.milestones
    reviewer = world.reviewers[0]
    officer = staff(Role.officer, Locale.en)
    grant_page = f"/grants/{world.grant.id}"
    at_first, at_second = (
        f"{grant_page}#milestone-{first.id}",
        f"{grant_page}#milestone-{second.id}",
    )
    expected = {
        world.applicant: [
            (_alert(world.applicant, AlertKind.due_soon, 1, second), at_second),
            (_alert(world.applicant, AlertKind.overdue, 1, first), at_first),
        ],
        reviewer: [
            (
                _alert(reviewer, AlertKind.review_waiting, 1, first),
                f"/milestones/{first.id}/review",
            ),
        ],
        officer: [
            (_alert(officer, AlertKind.escalation, 1, first), at_first),
            (_alert(officer, AlertKind.review_waiting, 2, first), at_first),
            (
                _alert(officer, AlertKind.tranche_waiting, 1, second),
                f"/officer/milestones/{second.id}/release",
            ),
        ],
    }
    for user, alerts in expected.items():
        login(client, user.email)
        page = client.get("/alerts").get_data(as_text=True)
        for alert, href in alerts:
            assert _href(page, alert) == href, (alert.kind, alert.tier, user.role)
        post_form(client, "/logout", {})
    # the anchors exist: each milestone has its section on the grant page
    login(client, officer.email)
    page = client.get(grant_page).get_data(as_text=True)
    for milestone in world.milestones:
        assert f'id="milestone-{milestone.id}"' in page


def test_the_inbox_marks_an_alert_s_milestone_overdue_with_its_date(
    app: Flask, client: FlaskClient, world: GrantWorld
) -> None:
    login_english(client, world.applicant)
    page = client.get("/alerts").get_data(as_text=True)
    overdue = next(a for a in _mine(world) if a.kind == AlertKind.overdue)
    row = page[page.index(f'id="alert-{overdue.id}"') :]
    assert "Overdue since 1 Oct 2026" in row[: row.index("</tr>")]  # the scan's flag
    evidence_arrives = world.milestones[0]
    evidence_arrives.overdue_since = None  # as the evidence service clears it
    db.session.commit()
    assert "Overdue since" not in client.get("/alerts").get_data(as_text=True)


def test_the_outbox_page_number_is_bounded_and_its_count_is_plural_aware(
    client: FlaskClient, world: GrantWorld
) -> None:
    admin = staff(Role.admin, Locale.en, email="root@example.jp")
    login(client, admin.email)
    for page in HUGE_PAGES:
        assert client.get(f"/admin/outbox?page={page}").status_code == 200, page
    assert "3 alerts are waiting to be e-mailed." in client.get("/admin/outbox").get_data(
        as_text=True
    )
    mail.deliver(SYSTEM, utcnow(), current_app.config, limit=2)
    assert "1 alert is waiting to be e-mailed." in client.get("/admin/outbox").get_data(
        as_text=True
    )


def test_alerts_whose_cause_is_gone_are_marked_settled(
    client: FlaskClient, world: GrantWorld
) -> None:
    milestone = db.session.get(Milestone, world.milestones[0].id)
    login(client, world.applicant.email)
    assert "対応済み" not in client.get("/alerts").get_data(as_text=True)
    milestone.state = "submitted"  # the evidence came in
    db.session.commit()
    page = client.get("/alerts").get_data(as_text=True)
    assert page.count('class="badge badge-ok settled"') == 2 and "対応済み" in page


def _review_alert(reviewer: User, submission: EvidenceSubmission, milestone: Milestone) -> Alert:
    alert = Alert(
        user_id=reviewer.id, subject_type="evidence_submission", subject_id=submission.id,
        kind=AlertKind.review_waiting, tier=1, grant_id=milestone.grant_id,
        milestone_id=submission.milestone_id, scan_date=date(2026, 10, 1),
    )  # fmt: skip
    db.session.add(alert)
    db.session.commit()
    return alert


def test_a_review_reminder_is_settled_by_this_reviewers_decision_or_a_newer_round(
    app: Flask, world: GrantWorld
) -> None:
    milestone = db.session.get(Milestone, world.milestones[0].id)
    first, second = world.reviewers[:2]
    milestone.state, milestone.round = "submitted", 1
    submission = EvidenceSubmission(milestone_id=milestone.id, round=1, narrative="-", measured=[])
    db.session.add(submission)
    db.session.commit()
    reminders = {r.id: _review_alert(r, submission, milestone) for r in (first, second)}
    db.session.add(
        Review(milestone_id=milestone.id, submission_id=submission.id, reviewer_id=first.id,
               decision="request_changes", comment="Add the raw data.")
    )  # fmt: skip
    db.session.commit()

    def settled(reviewer: User) -> bool:
        shown = inbox.alert_list(reviewer, inbox.ALERTS.query()).items
        return reminders[reviewer.id].id in inbox.settled_ids(reviewer, shown)

    assert settled(first) and not settled(second)
    milestone.round = 2  # sent back, and evidence came again: the first round is over
    db.session.commit()
    assert settled(second)
