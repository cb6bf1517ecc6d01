"""Every event's alert reads as a sentence in ja and en, leads to where its recipient acts,
and is settled once its follow-up happened."""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import date

import pytest
from flask import Flask, url_for
from flask.testing import FlaskClient
from sqlalchemy import select

from grants.accounts.models import User
from grants.alerts.inbox import queries as inbox
from grants.alerts.inbox import texts
from grants.alerts.models import Alert
from grants.amendments import service as amendments
from grants.applications.models import Application
from grants.applications.screening import service as screening
from grants.awards.models import Amendment
from grants.awards.termination import service as terminations
from grants.core.alert_kinds import AlertKind
from grants.core.identity import Role
from grants.core.states import ReviewDecision
from grants.extensions import db
from grants.investments import service as investments
from grants.milestones.reviews import service as reviews
from grants.releases import service as releases
from tests.support.api import ApiClient
from tests.support.events import (
    EVENTS,
    TODAY,
    Cast,
    Told,
    amendment_requested,
    application_submitted,
    changes_requested,
    evidence_submitted,
    investment_recorded,
    make_cast,
    milestone_approved,
    milestone_rejected,
    submit_evidence,
)
from tests.support.queries import count_queries
from tests.support.web import login

K = AlertKind


@pytest.fixture
def cast(app: Flask) -> Cast:
    return make_cast()


def _alert_of(told: Told) -> tuple[Alert, User]:
    db.session.expire_all()
    alert = db.session.scalars(
        select(Alert).where(Alert.kind == told.kind).options(*texts.SUBJECT_LOADS)
    ).first()
    assert alert is not None
    return alert, db.session.get(User, alert.user_id)


@pytest.mark.parametrize("event", EVENTS, ids=lambda event: event.__name__)
def test_each_event_s_alert_reads_in_both_languages_and_leads_somewhere(
    app: Flask, cast: Cast, event: Callable[[Cast], list[Told]]
) -> None:
    for told in event(cast):
        alert, recipient = _alert_of(told)
        ja, en = texts.describe(alert, "ja"), texts.describe(alert, "en")
        for said in (ja, en, texts.advice(alert, "ja"), texts.advice(alert, "en")):
            assert said and "%(" not in said and "None" not in said
        assert ja != en and not ja.isascii()
        link = texts.subject_link(alert, recipient.role)
        assert link is not None
        with app.test_request_context():
            assert url_for(link.endpoint, **link.values)
        browser = app.test_client()
        login(browser, recipient.email)
        page = html.unescape(browser.get("/alerts").get_data(as_text=True))
        assert ja in page


def test_the_api_says_each_alert_in_the_caller_s_language(client: FlaskClient, cast: Cast) -> None:
    [told] = evidence_submitted(cast)
    alert, reviewer = _alert_of(told)
    body = ApiClient(client, reviewer).get("/api/v1/alerts").get_json()
    assert body["items"][0]["text"] == texts.describe(alert, str(reviewer.locale))
    assert body["items"][0]["kind"] == "evidence_submitted"


def test_a_reviewer_decides_on_the_review_page_and_an_officer_releases(cast: Cast) -> None:
    milestone_approved(cast)
    by_kind = {AlertKind(a.kind): a for a in _all()}
    review = texts.subject_link(by_kind[K.evidence_submitted], Role.reviewer)
    release = texts.subject_link(by_kind[K.tranche_ready], Role.officer)
    approved = texts.subject_link(by_kind[K.milestone_approved], Role.applicant)
    milestone_id = cast.world.milestones[0].id
    assert review == texts.Link("reviews.decide", {"milestone_id": milestone_id})
    assert release == texts.Link("releases.show", {"milestone_id": milestone_id})
    assert approved == texts.Link(
        "grant_page.show",
        {"grant_id": cast.world.grant.id, "_anchor": f"milestone-{milestone_id}"},
    )


def _all() -> list[Alert]:
    db.session.expire_all()
    return list(db.session.scalars(select(Alert).options(*texts.SUBJECT_LOADS)))


def _settled(user: User, kind: AlertKind) -> bool:
    db.session.expire_all()
    shown = inbox.alert_list(user, inbox.ALERTS.query(per_page=100)).items
    [alert] = [a for a in shown if a.kind == kind]
    return alert.id in inbox.settled_ids(user, shown)


def test_evidence_is_settled_for_the_reviewer_who_decided(cast: Cast) -> None:
    evidence_submitted(cast)
    first, second = cast.world.reviewers
    milestone_id = cast.world.milestones[0].id
    reviews.decide(first, milestone_id, ReviewDecision.approve, "", TODAY)
    assert _settled(first, K.evidence_submitted) and not _settled(second, K.evidence_submitted)


def test_an_application_is_settled_for_the_officers_once_screened(cast: Cast) -> None:
    [told] = application_submitted(cast)
    assert not _settled(cast.officer, K.application_submitted)
    screening.screen(cast.other_officer, told.subject[1], TODAY)
    assert _settled(cast.officer, K.application_submitted)
    assert db.session.get(Application, told.subject[1]).state == "screened_eligible"


def test_a_change_request_is_settled_once_evidence_came_again(cast: Cast) -> None:
    changes_requested(cast)
    assert not _settled(cast.world.applicant, K.changes_requested)
    submit_evidence(cast)
    assert _settled(cast.world.applicant, K.changes_requested)
    assert _settled(cast.officer, K.changes_requested)


def test_a_ready_tranche_is_settled_once_released(cast: Cast) -> None:
    milestone_approved(cast)
    assert not _settled(cast.officer, K.tranche_ready)
    releases.release(cast.officer, cast.world.milestones[0].id, TODAY)
    assert _settled(cast.officer, K.tranche_ready) and _settled(cast.other_officer, K.tranche_ready)


def test_a_no_go_is_settled_once_an_officer_ended_the_grant(cast: Cast) -> None:
    milestone_rejected(cast)
    assert not _settled(cast.other_officer, K.milestone_rejected)
    terminations.terminate(cast.officer, cast.world.grant.id, "No-go at the review.", TODAY)
    assert _settled(cast.other_officer, K.milestone_rejected)


def test_an_amendment_request_is_settled_once_decided(cast: Cast) -> None:
    [told] = amendment_requested(cast)
    assert not _settled(cast.other_officer, K.amendment_requested)
    amendments.decide_amendment(cast.officer, told.subject[1], True, "", TODAY)
    assert _settled(cast.other_officer, K.amendment_requested)
    assert db.session.get(Amendment, told.subject[1]).state == "approved"


def test_a_recorded_investment_is_settled_once_verified(cast: Cast) -> None:
    [told] = investment_recorded(cast)
    assert not _settled(cast.other_officer, K.investment_recorded)
    investments.verify_investment(cast.other_officer, told.subject[1], date(2026, 10, 2))
    assert _settled(cast.other_officer, K.investment_recorded)


def test_the_inbox_reads_alerts_of_every_kind_in_a_constant_number_of_queries(
    client: FlaskClient, cast: Cast
) -> None:
    officer = cast.officer

    def inbox_queries() -> int:
        with count_queries() as statements:
            assert client.get("/alerts").status_code == 200
        return len(statements)

    login(client, officer.email)
    changes_requested(cast)
    few = inbox_queries()
    application_submitted(cast)
    amendment_requested(cast)
    investment_recorded(cast)  # by the officer: told to the other one
    terminations.terminate(cast.other_officer, cast.world.grant.id, "Ended.", TODAY)
    assert inbox.alert_list(officer, inbox.ALERTS.query()).total == 3
    assert inbox_queries() == few
