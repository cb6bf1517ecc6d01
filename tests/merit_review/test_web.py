"""The merit review's pages: officers (settings, panels, the rubric editor, the ranking with
its what-if, chart and export, the decision against the ranking), reviewers (their
assignments and scores) and applicants (the feedback) in Japanese and English; bad input
answered with field messages and nothing stored."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from grants.awards import service as awards
from grants.awards.decision import web as decision_web
from grants.awards.models import Grant
from grants.core.identity import Locale, Role
from grants.extensions import db
from grants.merit_review.models import MeritAssignment, MeritScore, RankingDeparture
from grants.merit_review.panels import web as panels_web
from grants.merit_review.ranking import web as ranking_web
from grants.merit_review.scores import web as scores_web
from grants.programs.models import Program
from grants.rulesets import service as rulesets
from grants.rulesets.models import RuleSet
from tests.support.applications import TODAY
from tests.support.factories import make_user
from tests.support.merit import CRITERIA, MeritWorld, assign, merit_world, scored
from tests.support.web import login, login_english, post_form


@pytest.fixture(autouse=True)
def _fixed_today(monkeypatch: pytest.MonkeyPatch) -> None:
    for module in (decision_web, panels_web, ranking_web, scores_web):
        monkeypatch.setattr(module, "_today", lambda: TODAY)


def _page(client: FlaskClient, path: str, status: int = 200) -> str:
    response = client.get(path)
    assert response.status_code == status, response.get_data(as_text=True)[:2000]
    return response.get_data(as_text=True)


def _ranked(app_count: int = 3) -> MeritWorld:
    world = merit_world(applications=app_count, appropriation=300_000_000)
    for application_id, value in zip(world.applications, (5, 4, 3, 2, 1), strict=False):
        scored(world, application_id, world.reviewers[0], (value, value, value))
    return world


# --- officers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("locale", "words"),
    [
        (Locale.ja, ("順位と採択ライン", "採択ライン", "同点")),
        (Locale.en, ("Ranking", "Funding line", "tie")),
    ],
)
def test_the_officer_pages_in_both_languages(
    client: FlaskClient, locale: Locale, words: tuple[str, ...]
) -> None:
    world = _ranked()
    officer = make_user(Role.officer, locale=locale)
    login(client, officer.email)
    program, application = world.program.id, world.applications[0]
    merit = _page(client, f"/officer/programs/{program}/merit")
    assert words[0] in merit and "panels" in merit
    ranking = _page(client, f"/officer/programs/{program}/ranking")
    assert words[1] in ranking and words[2] in ranking.lower()
    assert 'id="funding-line"' in ranking and 'role="img"' in ranking  # the line, the chart
    assert 'id="score-distribution-table"' in ranking  # the chart's figures as a table
    panel = _page(client, f"/officer/merit/applications/{application}")
    assert world.reviewers[0].name in panel  # officers see who scored
    _page(client, f"/officer/programs/{program}/merit/settings")
    _page(client, f"/officer/rulesets/{world.ruleset.id}/rubric")


def test_reviewers_and_applicants_do_not_see_the_officers_pages(client: FlaskClient) -> None:
    world = _ranked(1)
    login(client, world.reviewers[0].email)
    for path in (
        f"/officer/programs/{world.program.id}/ranking",
        f"/officer/programs/{world.program.id}/merit",
        f"/officer/merit/applications/{world.applications[0]}",
    ):
        assert client.get(path).status_code == 403


def test_the_settings_page_shows_field_messages_and_saves_nothing_wrong(
    client: FlaskClient,
) -> None:
    world = merit_world(applications=0)
    login_english(client, world.officer)
    path = f"/officer/programs/{world.program.id}/merit/settings"
    bad = {
        "panel_size": "0",
        "review_days": "14",
        "aggregation": "mean",
        "normalisation": "none",
        "disagreement": "abc",
    }
    response = post_form(client, path, bad)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Enter a whole number from 1 to 20." in page
    response = post_form(client, path, {**bad, "panel_size": "2"})  # the service's check
    assert response.status_code == 422 and "Not a ratio" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Program, world.program.id).merit_panel_size == 3
    good = {**bad, "panel_size": "２", "disagreement": "1.25", "aggregation": "median"}
    assert post_form(client, path, good).status_code == 302
    db.session.expire_all()
    program = db.session.get(Program, world.program.id)
    assert (program.merit_panel_size, program.merit_aggregation) == (2, "median")


def test_assigning_one_by_one_and_filling_every_panel_from_the_pages(client: FlaskClient) -> None:
    world = merit_world(applications=2)
    login(client, world.officer.email)
    first = world.applications[0]
    path = f"/officer/merit/applications/{first}"
    reviewer = world.reviewers[0]
    response = post_form(client, f"{path}/assign", {"reviewer_id": reviewer.id, "stage": "written"})
    assert response.status_code == 302
    conflicted = make_user(Role.reviewer, world.calls[0].org)
    refused = post_form(
        client, f"{path}/assign", {"reviewer_id": conflicted.id, "stage": "written"}
    )
    assert refused.status_code == 422 and "同一組織" in refused.get_data(as_text=True)
    filled = post_form(
        client, f"/officer/programs/{world.program.id}/merit/fill", {"stage": "written"}
    )
    assert filled.status_code == 302
    assert db.session.query(MeritAssignment).count() == 6


def test_the_rubric_editor_names_the_wrong_field_and_keeps_the_draft(client: FlaskClient) -> None:
    world = merit_world(applications=0)
    draft = rulesets.copy_to_draft(world.officer, world.ruleset.id, "ja")
    before = dict(draft.document)
    login_english(client, world.officer)
    path = f"/officer/rulesets/{draft.id}/rubric"
    rows = {
        f"criteria-{i}-{key}": value
        for i, criterion in enumerate(CRITERIA)
        for key, value in (
            ("id", criterion["id"]),
            ("weight", str(criterion["weight"] - (5 if i == 0 else 0))),
            ("name_ja", criterion["name"]["ja"]),
            ("name_en", criterion["name"]["en"]),
        )
    }
    form = {"scale_min": "1", "scale_max": "5", "weight_total": "100", "save": "1", **rows}
    response = post_form(client, path, form)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    errors = page[page.index('id="weight_total"') :][:2000]
    assert "The weights add up to 95; they must add up to 100." in errors
    db.session.expire_all()
    assert db.session.get(RuleSet, draft.id).document == before
    form["criteria-0-weight"] = "30"
    assert post_form(client, path, form).status_code == 302
    db.session.expire_all()
    saved = db.session.get(RuleSet, draft.id).document["rubric"]
    assert [c["weight"] for c in saved["criteria"]] == [30, 30, 40]
    published = _page(client, f"/officer/rulesets/{world.ruleset.id}/rubric")
    assert "Fit" in published and 'id="rubric-form"' not in published


def test_the_ranking_what_if_and_its_bad_input(client: FlaskClient) -> None:
    world = _ranked()
    first = world.applications[0]
    login_english(client, world.officer)
    path = f"/officer/programs/{world.program.id}/ranking"
    natural = _page(client, path)
    assert "falls after 2 undecided applications" in natural
    tried = _page(client, f"{path}?line=3")
    assert "over-commits a budget pool" in tried
    lower = _page(
        client, f"{path}?amount-{first}=１億円&amount-{world.applications[1]}=100,000,000"
    )
    assert "(at these amounts it would fall after 3)" in lower
    wrong = _page(client, f"{path}?line=x&amount-{first}=9億", status=422)
    assert "Enter a whole number of applications." in wrong
    bigger = _page(client, f"{path}?amount-{first}=9億", status=422)
    assert "what the award rules give" in bigger


def test_the_ranking_exports_as_csv_with_formulas_made_inert(client: FlaskClient) -> None:
    world = _ranked(2)
    application = world.calls[0].application
    application.title = '=HYPERLINK("http://evil")'
    db.session.commit()
    login_english(client, world.officer)
    response = client.get(f"/officer/programs/{world.program.id}/ranking.csv", buffered=True)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    text = response.get_data().decode("utf-8")
    lines = text.lstrip("\ufeff").splitlines()
    assert lines[0].startswith("Rank,Application no.,Title")
    assert lines[1].startswith(f'1,{application.id},"\'=HYPERLINK(""http://evil')
    assert ",5.0000,1," in lines[1]


def test_an_award_against_the_ranking_asks_for_the_reason(client: FlaskClient) -> None:
    world = _ranked()
    second = world.applications[1]
    login_english(client, world.officer)
    path = f"/officer/screening/{second}"
    page = _page(client, path)
    assert 'id="departure"' in page and "passes over" in page
    refused = post_form(client, f"{path}/award", {})
    assert refused.status_code == 422
    assert "give the reason" in refused.get_data(as_text=True)
    assert db.session.query(Grant).count() == 0
    done = post_form(client, f"{path}/award", {"departure_reason": "Strategic priority"})
    assert done.status_code == 302
    assert db.session.query(RankingDeparture).one().reason == "Strategic priority"


# --- reviewers ------------------------------------------------------------------------------


def test_a_reviewer_scores_on_the_page_with_messages_for_bad_input(client: FlaskClient) -> None:
    world = merit_world(applications=1)
    application_id = world.applications[0]
    scored(world, application_id, world.reviewers[1], (5, 5, 5))
    reviewer = world.reviewers[0]
    assignment = assign(world, application_id, reviewer)
    login(client, reviewer.email)
    assert application_id and world.calls[0].application.title in _page(client, "/reviewer/merit")
    path = f"/reviewer/merit/{assignment.id}"
    page = _page(client, path)
    assert "他の評価者の評点は、あなたが評点を提出した後に表示されます。" in page
    assert world.reviewers[1].name not in page
    bad = {
        "score_fit": "9",
        "comment_fit": "根拠",
        "score_science": "3",
        "comment_science": "",
        "score_plan": "4",
        "comment_plan": "妥当",
    }
    response = post_form(client, path, bad)
    assert response.status_code == 422
    errors = response.get_data(as_text=True)
    assert "評点にコメントを記入してください。" in errors
    assert db.session.query(MeritScore).count() == 3  # the other reviewer's only
    good = {**bad, "score_fit": "4", "comment_science": "明確"}
    assert post_form(client, path, good).status_code == 302
    after = _page(client, path)
    assert "評価者1" in after and world.reviewers[1].name not in after


def test_a_reviewer_opens_only_their_own_assignment(client: FlaskClient) -> None:
    world = merit_world(applications=1)
    assignment = assign(world, world.applications[0], world.reviewers[0])
    login(client, world.reviewers[1].email)
    assert client.get(f"/reviewer/merit/{assignment.id}").status_code == 404
    declared = post_form(client, f"/reviewer/merit/{assignment.id}/conflict", {"note": "x"})
    assert declared.status_code == 404


def test_a_reviewer_declares_a_conflict_on_the_page(client: FlaskClient) -> None:
    world = merit_world(applications=1)
    assignment = assign(world, world.applications[0], world.reviewers[0])
    login(client, world.reviewers[0].email)
    path = f"/reviewer/merit/{assignment.id}/conflict"
    empty = post_form(client, path, {"note": ""})
    assert empty.status_code == 422
    assert post_form(client, path, {"note": "共同研究者"}).status_code == 302
    page = _page(client, f"/reviewer/merit/{assignment.id}")
    assert 'id="conflicted"' in page and 'id="score-form"' not in page


# --- applicants ------------------------------------------------------------------------------


def test_the_applicant_reads_the_feedback_after_the_decision_only(client: FlaskClient) -> None:
    world = _ranked(1)
    call = world.calls[0]
    login(client, call.applicant.email)
    path = f"/applications/{call.application.id}"
    assert 'id="feedback-link"' not in _page(client, path)
    assert client.get(f"{path}/feedback").status_code == 409
    awards.reject(world.officer, call.application.id, "予算の範囲外", TODAY)
    assert 'id="feedback-link"' in _page(client, path)
    feedback = _page(client, f"{path}/feedback")
    assert "評価者1" in feedback and "5.00" in feedback
    assert world.reviewers[0].name not in feedback
