"""Calendar feed tokens (hashed, revocable) and whose milestones each feed holds."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import select

from grants.alerts.calendar import service as calendar_feed
from grants.alerts.models import CalendarToken
from grants.core.actors import SYSTEM
from grants.core.errors import NotAllowed, NotFound
from grants.core.identity import Locale, Role
from grants.core.models import AuditEvent, utcnow
from grants.core.states import GrantState, MilestoneState
from grants.extensions import db
from tests.support.alerts import staff
from tests.support.factories import make_user
from tests.support.grants import GrantWorld, make_grant


@pytest.fixture
def world(app) -> GrantWorld:  # type: ignore[no-untyped-def]
    return make_grant()


def _events(body: bytes) -> dict[str, date]:
    calendar = Calendar.from_ical(body)
    return {str(e.get("summary")): e.get("dtstart").dt for e in calendar.walk("VEVENT")}


def test_the_token_is_stored_hashed_and_shown_once(world: GrantWorld) -> None:
    token = calendar_feed.create_token(world.applicant)
    [record] = db.session.scalars(select(CalendarToken))
    assert record.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in record.token_hash
    assert len(token) >= 40
    actions = db.session.scalars(select(AuditEvent.action)).all()
    assert "calendar_token.create" in actions


def test_the_grantee_feed_holds_its_open_milestones_due_dates(world: GrantWorld) -> None:
    world.milestones[2].state = MilestoneState.approved
    db.session.commit()
    token = calendar_feed.create_token(world.applicant)
    events = _events(calendar_feed.feed(token, utcnow()))
    assert events == {
        "MS-TEST-0001 #1: Milestone 1": date(2026, 9, 30),
        "MS-TEST-0001 #2: Milestone 2": date(2027, 3, 30),
    }
    now = utcnow()
    calendar = Calendar.from_ical(calendar_feed.feed(token, now))
    assert str(calendar["PRODID"]) == calendar_feed.PRODID == "-//Milestone Grants//Due dates//EN"
    assert str(calendar["VERSION"]) == "2.0"
    events = calendar.walk("VEVENT")
    assert [str(e["UID"]) for e in events] == [
        f"milestone-{m.id}@grants" for m in world.milestones[:2]
    ]  # one stable UID per milestone
    for event in events:
        stamp = event["DTSTAMP"].dt
        assert stamp.utcoffset() == timedelta(0)  # UTC, as RFC 5545 wants
        assert stamp.replace(microsecond=0) == now.replace(microsecond=0)
        assert event["DTEND"].dt == event["DTSTART"].dt + timedelta(days=1)  # all day
    again = Calendar.from_ical(calendar_feed.feed(token, utcnow()))
    assert [str(e["UID"]) for e in again.walk("VEVENT")] == [str(e["UID"]) for e in events]


def test_events_link_to_the_milestone_and_carry_the_overdue_flag(world: GrantWorld) -> None:
    english = make_user(Role.applicant, world.grantee, locale=Locale.en)
    world.milestones[0].overdue_since = date(2026, 10, 1)
    db.session.commit()
    body = calendar_feed.feed(
        calendar_feed.create_token(english),
        utcnow(),
        lambda grant_id, milestone_id: f"https://grants.example/{grant_id}#m-{milestone_id}",
    )
    first, second, _third = Calendar.from_ical(body).walk("VEVENT")
    assert (
        str(first["URL"]) == f"https://grants.example/{world.grant.id}#m-{world.milestones[0].id}"
    )
    assert "Overdue since 1 Oct 2026" in str(first["DESCRIPTION"])
    assert "Overdue" not in str(second["DESCRIPTION"])


def test_feeds_follow_the_user_s_work(world: GrantWorld) -> None:
    other = make_grant(code="MS-OTHER")
    other.grant.state = GrantState.terminated
    third = make_grant(code="MS-THIRD")
    db.session.commit()
    officer = staff(Role.officer)
    admin = staff(Role.admin)
    stranger = make_user(Role.applicant)

    def numbers(user) -> set[str]:  # type: ignore[no-untyped-def]
        body = calendar_feed.feed(calendar_feed.create_token(user), utcnow())
        return {summary.split(" ")[0] for summary in _events(body)}

    assert numbers(world.reviewers[0]) == {"MS-TEST-0001"}
    assert numbers(third.reviewers[0]) == {"MS-THIRD-0001"}
    assert numbers(officer) == {"MS-TEST-0001", "MS-THIRD-0001"}  # not the terminated one
    assert numbers(stranger) == set()
    assert numbers(admin) == set()


def test_the_feed_speaks_the_user_s_language(world: GrantWorld) -> None:
    english = make_user(Role.applicant, world.grantee, locale=Locale.en)
    calendar = Calendar.from_ical(calendar_feed.feed(calendar_feed.create_token(english), utcnow()))
    assert str(calendar.get("x-wr-calname")) == "Milestone due dates"


def test_regenerating_replaces_and_revoking_removes_the_address(world: GrantWorld) -> None:
    old = calendar_feed.create_token(world.applicant)
    new = calendar_feed.create_token(world.applicant)
    assert old != new
    with pytest.raises(NotFound):
        calendar_feed.feed(old, utcnow())
    assert calendar_feed.feed(new, utcnow())
    assert calendar_feed.revoke_token(world.applicant) is True
    with pytest.raises(NotFound):
        calendar_feed.feed(new, utcnow())
    assert calendar_feed.revoke_token(world.applicant) is False
    assert db.session.scalars(select(CalendarToken)).all() == []


@pytest.mark.parametrize("token", ["", "x", "a" * 500, "../../etc/passwd"])
def test_unknown_tokens_are_not_found(world: GrantWorld, token: str) -> None:
    calendar_feed.create_token(world.applicant)
    with pytest.raises(NotFound):
        calendar_feed.feed(token, utcnow())


def test_an_inactive_user_s_feed_is_gone(world: GrantWorld) -> None:
    token = calendar_feed.create_token(world.applicant)
    world.applicant.active = False
    db.session.commit()
    with pytest.raises(NotFound):
        calendar_feed.feed(token, utcnow())


def test_the_system_has_no_feed(world: GrantWorld) -> None:
    with pytest.raises(NotAllowed):
        calendar_feed.create_token(SYSTEM)
