"""Applicants learn the merit review's outcome once decided: each criterion's mean and the
comments, reviewers numbered; nothing before, and never a reviewer's identity in anything an
applicant reads (pages, API answers, alerts)."""

from __future__ import annotations

import json
from fractions import Fraction

import pytest
from flask import Flask
from flask.testing import FlaskClient

from grants.alerts.inbox.texts import advice, describe
from grants.alerts.models import Alert
from grants.awards import service as awards
from grants.core.errors import Conflict, NotAllowed, NotFound
from grants.extensions import db
from grants.merit_review.feedback.queries import feedback
from grants.merit_review.rules import ScoreEntry
from grants.merit_review.scores import service as scores
from tests.support.api import ApiClient
from tests.support.applications import TODAY, make_applicant
from tests.support.merit import CRITERIA, MeritWorld, assign, merit_world, scored
from tests.support.web import login


def _reviewed(comment_one: str = "計画が具体的で妥当である。") -> MeritWorld:
    world = merit_world(applications=1)
    application_id = world.applications[0]
    one, two, three = world.reviewers
    first = assign(world, application_id, one)
    given = [ScoreEntry(c["id"], 4, comment_one) for c in CRITERIA]
    scores.submit_scores(one, first.id, given)
    scored(world, application_id, two, (3, 5, 2))
    assign(world, application_id, three)  # never submitted: not counted
    return world


def test_nothing_before_the_decision(app: Flask) -> None:
    world = _reviewed()
    call = world.calls[0]
    with pytest.raises(Conflict):
        feedback(call.applicant, call.application.id)


def test_after_the_decision_the_means_and_numbered_comments(app: Flask) -> None:
    world = _reviewed()
    call = world.calls[0]
    awards.reject(world.officer, call.application.id, "予算の範囲外", TODAY)
    found = feedback(call.applicant, call.application.id)
    (written,) = found.stages
    assert written.reviewers == 2
    means = {row.criterion.id: row.mean for row in written.rows}
    assert means == {"fit": Fraction(7, 2), "science": Fraction(9, 2), "plan": 3}
    plan = next(row for row in written.rows if row.criterion.id == "plan")
    assert plan.comments == ((1, "計画が具体的で妥当である。"), (2, "根拠のある評価です。"))


def test_only_the_applicant_reads_it(app: Flask) -> None:
    world = _reviewed()
    call = world.calls[0]
    awards.reject(world.officer, call.application.id, "予算の範囲外", TODAY)
    with pytest.raises(NotFound):
        feedback(make_applicant(), call.application.id)
    with pytest.raises(NotAllowed):
        feedback(world.reviewers[0], call.application.id)


def _applicant_outputs(client: FlaskClient, world: MeritWorld) -> str:
    call = world.calls[0]
    application_id = call.application.id
    api = ApiClient(client, call.applicant)
    login(client, call.applicant.email)
    pages = [
        client.get(f"/applications/{application_id}").get_data(as_text=True),
        client.get(f"/applications/{application_id}/feedback").get_data(as_text=True),
        client.get("/alerts").get_data(as_text=True),
        client.get("/").get_data(as_text=True),
    ]
    paths = [f"/applications/{application_id}", f"/applications/{application_id}/feedback"]
    answers = [
        json.dumps(api.get(f"/api/v1{path}").get_json(), ensure_ascii=False)
        for path in [*paths, "/alerts"]
    ]
    return "\n".join(pages + answers)


def test_no_reviewer_identity_in_anything_the_applicant_reads(
    app: Flask, client: FlaskClient
) -> None:
    world = _reviewed()
    call = world.calls[0]
    awards.reject(world.officer, call.application.id, "予算の範囲外", TODAY)
    told = db.session.query(Alert).filter_by(user_id=call.applicant.id).all()
    # the screening and the decision, nothing of the review
    assert {alert.kind for alert in told} == {"application_screened", "application_rejected"}
    said = [
        text(alert, locale)
        for alert in told
        for text in (describe, advice)
        for locale in ("ja", "en")
    ]
    everything = "\n".join([_applicant_outputs(client, world), *said])
    assert "計画が具体的で妥当である。" in everything  # the feedback is there...
    assert "評価者1" in everything  # the page in the applicant's language
    for reviewer in world.reviewers:  # ...but no one who wrote it
        assert reviewer.name not in everything
        assert reviewer.email not in everything
        if reviewer.organization is not None:
            assert reviewer.organization.name not in everything
