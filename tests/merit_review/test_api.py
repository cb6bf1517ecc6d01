"""The merit review over /api/v1: the rubric in the rule set document, settings, panels,
scores, the ranking with its what-if and CSV, decisions against it, the feedback. Errors
in the JSON shape with dotted field paths; nothing stored on bad input."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask.testing import FlaskClient

from grants.core.http.schemas import today
from grants.extensions import db
from grants.merit_review.models import MeritAssignment, MeritScore, RankingDeparture
from grants.rules.presets import amed_rubric
from tests.support.api import ApiClient, assert_error
from tests.support.merit import MeritWorld, assign, merit_world, scored


def _ranked() -> MeritWorld:
    world = merit_world(applications=3, appropriation=300_000_000)
    for application_id, value in zip(world.applications, (5, 4, 3), strict=True):
        scored(world, application_id, world.reviewers[0], (value, value, value))
    return world


def _scores(values: tuple[int, int, int], comment: Any = "根拠あり") -> dict[str, Any]:
    return {
        "scores": {
            criterion: {"score": value, "comment": comment}
            for criterion, value in zip(("fit", "science", "plan"), values, strict=True)
        }
    }


def test_the_rubric_travels_in_the_rule_set_document(client: FlaskClient) -> None:
    world = merit_world(applications=0)
    api = ApiClient(client, world.officer)
    created = api.post(
        f"/api/v1/programs/{world.program.id}/rulesets",
        json={"title": "v2", "preset": "milestone_programme"},
    )
    assert created.status_code == 201
    draft = created.get_json()
    rubric = amed_rubric()
    rubric["criteria"][4]["weight"] = 20
    path = f"/api/v1/rulesets/{draft['id']}/document"
    refused = api.put(path, json={"document": {**draft["document"], "rubric": rubric}})
    error = assert_error(refused, 422)
    # nested by the document's own paths, as every rule set document error
    assert error["fields"] == {
        "rubric": {"weight_total": ["重みの合計が105です。合計は100にしてください。"]}
    }
    rubric["criteria"][4]["weight"] = 15
    saved = api.put(path, json={"document": {**draft["document"], "rubric": rubric}})
    assert saved.status_code == 200
    assert saved.get_json()["document"]["rubric"]["hearing"]["shortlist"] == 10


def test_settings_are_read_and_changed_with_field_errors(client: FlaskClient) -> None:
    world = merit_world(applications=0)
    api = ApiClient(client, world.officer)
    path = f"/api/v1/programs/{world.program.id}/merit-review/settings"
    assert api.get(path).get_json()["panel_size"] == 3
    body = {
        "panel_size": 2,
        "review_days": 10,
        "aggregation": "median",
        "normalisation": "rank",
        "disagreement": "0",
    }
    error = assert_error(api.put(path, json=body), 422)
    assert list(error["fields"]) == ["disagreement"]
    assert api.put(path, json={**body, "disagreement": "2"}).get_json()["aggregation"] == "median"
    reviewer = ApiClient(client, world.reviewers[0])
    assert_error(reviewer.get(path), 403)


def test_panels_are_read_filled_and_changed(client: FlaskClient) -> None:
    world = merit_world(applications=2)
    api = ApiClient(client, world.officer)
    first = world.applications[0]
    due = today() + timedelta(days=30)  # the API's today: the real one
    made = api.post(
        f"/api/v1/applications/{first}/merit-review/assignments",
        json={"reviewer_id": world.reviewers[0].id, "due_on": due.isoformat()},
    )
    assert made.status_code == 201, made.get_data(as_text=True)
    assignment = made.get_json()
    assert (assignment["stage"], assignment["due_on"]) == ("written", due.isoformat())
    error = assert_error(
        api.post(
            f"/api/v1/applications/{first}/merit-review/assignments",
            json={"reviewer_id": world.calls[0].applicant.id},
        ),
        422,
    )
    assert list(error["fields"]) == ["reviewer_id"]
    filled = api.post(f"/api/v1/programs/{world.program.id}/merit-review/fill", json={})
    assert filled.status_code == 200 and len(filled.get_json()["assigned"]) == 5
    panel = api.get(f"/api/v1/applications/{first}/merit-review/panel").get_json()
    (written,) = panel["stages"]
    assert written["counted"] == 3 and written["rubric"]["weight_total"] == 100
    listed = api.get(f"/api/v1/programs/{world.program.id}/merit-review/panels").get_json()
    assert listed["total"] == 2 and listed["items"][0]["written"]["assigned"] == 3
    gone = api.delete(f"/api/v1/merit-review/assignments/{assignment['id']}")
    assert gone.status_code == 204
    assert db.session.query(MeritAssignment).count() == 5


def test_a_reviewer_scores_with_field_errors_and_sees_others_after(client: FlaskClient) -> None:
    world = merit_world(applications=1)
    application_id = world.applications[0]
    scored(world, application_id, world.reviewers[1], (5, 5, 5))
    mine = assign(world, application_id, world.reviewers[0])
    api = ApiClient(client, world.reviewers[0])
    listed = api.get("/api/v1/merit-review/assignments").get_json()
    assert [a["id"] for a in listed] == [mine.id]
    before = api.get(f"/api/v1/merit-review/assignments/{mine.id}").get_json()
    assert before["others"] == [] and before["may_score"]
    path = f"/api/v1/merit-review/assignments/{mine.id}/scores"
    error = assert_error(api.post(path, json=_scores((6, 3, 4))), 422)
    assert error["fields"] == {
        "scores.fit.score": ["評点を1から5までの評点を選んでください。"]
    } or (list(error["fields"]) == ["scores.fit.score"])
    error = assert_error(api.post(path, json=_scores((4, 3, 4), comment="")), 422)
    assert set(error["fields"]) == {f"scores.{c}.comment" for c in ("fit", "science", "plan")}
    error = assert_error(api.post(path, json={"scores": {"fit": {"score": "4"}}}), 422)
    assert "scores.fit.score" in error["fields"]
    assert_error(api.post(path, json={"scores": {"fit": {"score": 4, "comment": "a\x00"}}}), 422)
    assert db.session.query(MeritScore).count() == 3  # the other reviewer's only
    done = api.post(path, json=_scores((4, 3, 4)))
    assert done.status_code == 200
    assert [o["reviewer"] for o in done.get_json()["others"]] == [1]
    assert world.reviewers[1].name not in done.get_data(as_text=True)
    assert_error(api.post(path, json=_scores((4, 3, 4))), 409)
    stranger = ApiClient(client, world.reviewers[2])
    assert_error(stranger.get(f"/api/v1/merit-review/assignments/{mine.id}"), 404)


def test_the_ranking_its_what_if_and_its_csv(client: FlaskClient) -> None:
    world = _ranked()
    api = ApiClient(client, world.officer)
    path = f"/api/v1/programs/{world.program.id}/ranking"
    found = api.get(path).get_json()
    assert found["line"] == 2 and found["undecided"] == world.applications
    first = found["items"][0]
    assert first["rank"] == 1 and first["written"]["score"] == "5.0000"
    assert first["commitments"] == {"2026": 100_000_000, "2027": 150_000_000, "2028": 150_000_000}
    assert found["tie_break"].startswith("評点の高い順")
    tried = api.post(f"{path}/what-if", json={"line": 3})
    assert tried.status_code == 200 and tried.get_json()["over"]
    lower = api.post(
        f"{path}/what-if",
        json={
            "amounts": {
                str(world.applications[0]): 100_000_000,
                str(world.applications[1]): 100_000_000,
            }
        },
    ).get_json()
    assert lower["natural_line"] == 3
    error = assert_error(api.post(f"{path}/what-if", json={"amounts": {"x": 1}}), 422)
    assert list(error["fields"]) == ["amounts.x"]
    csv = api.get(f"/api/v1/programs/{world.program.id}/ranking.csv", buffered=True)
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    assert_error(ApiClient(client, world.reviewers[0]).get(path), 403)


def test_an_award_against_the_ranking_takes_a_reason(client: FlaskClient) -> None:
    world = _ranked()
    api = ApiClient(client, world.officer)
    second = world.applications[1]
    error = assert_error(api.post(f"/api/v1/applications/{second}/award", json={}), 422)
    assert list(error["fields"]) == ["departure_reason"]
    error = assert_error(
        api.post(f"/api/v1/applications/{second}/award", json={"amount": 10**12}), 422
    )
    assert "amount" in error["fields"]
    done = api.post(
        f"/api/v1/applications/{second}/award", json={"departure_reason": "地域バランス"}
    )
    assert done.status_code == 201
    assert db.session.query(RankingDeparture).one().passed_over == [world.applications[0]]
    plain = api.post(f"/api/v1/applications/{world.applications[0]}/award")  # no body at all
    assert plain.status_code == 201


def test_the_feedback_for_the_applicant_after_the_decision(client: FlaskClient) -> None:
    world = _ranked()
    call = world.calls[2]
    api = ApiClient(client, call.applicant)
    path = f"/api/v1/applications/{call.application.id}/feedback"
    assert_error(api.get(path), 409)
    ApiClient(client, world.officer).post(
        f"/api/v1/applications/{call.application.id}/reject", json={"reason": "予算の範囲外"}
    )
    found = api.get(path).get_json()
    (written,) = found["stages"]
    assert written["reviewers"] == 1 and written["criteria"][0]["mean"] == "3.0000"
    assert written["criteria"][0]["comments"] == [
        {"reviewer": 1, "comment": "根拠のある評価です。"}
    ]
    other = ApiClient(client, world.calls[0].applicant)
    assert_error(other.get(path), 404)
    assert_error(ApiClient(client, world.reviewers[0]).get(path), 403)
