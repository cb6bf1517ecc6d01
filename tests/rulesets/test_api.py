"""/api/v1 rule sets: drafts, documents, publishing and what-if."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from grants.core.identity import Role
from grants.rules import amed_certified_vc
from tests.support.api import api_as, assert_error
from tests.support.rulesets import make_program, rule
from tests.support.whatif import make_whatif_world


def test_draft_edit_publish_and_freeze(app: Flask, client: FlaskClient) -> None:
    program = make_program()
    api = api_as(client, Role.officer)
    created = api.post(
        f"/api/v1/programs/{program.id}/rulesets",
        json={"title": "第7回公募", "preset": "amed_certified_vc"},
    )
    assert created.status_code == 201
    draft = created.get_json()
    assert draft["status"] == "draft" and draft["version"] is None
    document = amed_certified_vc()
    rule(document, "lead_vc_min")["params"]["amount"] = 500_000_000
    path = f"/api/v1/rulesets/{draft['id']}"
    replaced = api.put(f"{path}/document", json={"document": document})
    assert replaced.status_code == 200
    assert rule(replaced.get_json()["document"], "lead_vc_min")["params"]["amount"] == 500_000_000
    published = api.post(f"{path}/publish", json={"effective_from": "2099-04-01"})
    assert published.status_code == 200 and published.get_json()["version"] == 1
    assert_error(api.put(f"{path}/document", json={"document": document}), 409, "conflict")
    assert_error(api.delete(path), 409)
    copy = api.post(f"{path}/copy")
    assert copy.status_code == 201 and copy.get_json()["status"] == "draft"
    assert api.delete(f"/api/v1/rulesets/{copy.get_json()['id']}").status_code == 204


@pytest.mark.parametrize(
    ("language", "title"),
    [("ja", "第7回公募をもとにした下書き"), ("en", "Draft based on 第7回公募")],
)
def test_a_copy_is_titled_in_the_callers_language(
    app: Flask, client: FlaskClient, language: str, title: str
) -> None:
    api = api_as(client, Role.officer)
    draft = api.post(
        f"/api/v1/programs/{make_program().id}/rulesets",
        json={"title": "第7回公募", "preset": "amed_certified_vc"},
    ).get_json()
    path = f"/api/v1/rulesets/{draft['id']}/copy"
    copy = api.post(path, headers={"Accept-Language": language})
    assert copy.status_code == 201 and copy.get_json()["title"] == title


def test_a_copy_of_a_superseded_version_is_409(app: Flask, client: FlaskClient) -> None:
    program = make_program(code="MS-API")
    api = api_as(client, Role.officer)
    draft = api.post(
        f"/api/v1/programs/{program.id}/rulesets",
        json={"title": "v1", "preset": "amed_certified_vc"},
    ).get_json()
    v1 = api.post(f"/api/v1/rulesets/{draft['id']}/publish", json={"effective_from": "2099-04-01"})
    first = api.post(f"/api/v1/rulesets/{draft['id']}/copy").get_json()
    second = api.post(f"/api/v1/rulesets/{draft['id']}/copy").get_json()
    assert first["based_on_id"] == v1.get_json()["id"] == second["based_on_id"]
    v2 = api.post(f"/api/v1/rulesets/{first['id']}/publish", json={"effective_from": "2099-05-01"})
    assert v2.status_code == 200
    assert (v2.get_json()["version"], v2.get_json()["title"]) == (2, "MS-API v2")
    stale = api.post(
        f"/api/v1/rulesets/{second['id']}/publish",
        json={"effective_from": "2099-06-01", "title": "改定"},
    )
    error = assert_error(stale, 409, "conflict")
    assert "バージョン1からコピー" in error["message"] and "based_on" in error["fields"]
    latest_copy = api.post(f"/api/v1/rulesets/{v2.get_json()['id']}/copy").get_json()
    same_day = api.post(
        f"/api/v1/rulesets/{latest_copy['id']}/publish", json={"effective_from": "2099-05-01"}
    )
    assert "effective_from" in assert_error(same_day, 422)["fields"]


def test_invalid_documents_name_the_field(app: Flask, client: FlaskClient) -> None:
    program = make_program()
    api = api_as(client, Role.officer)
    path = f"/api/v1/programs/{program.id}/rulesets"
    document = amed_certified_vc()
    rule(document, "vc_share_min")["params"]["ratio"] = "1/0"
    error = assert_error(api.post(path, json={"title": "x", "document": document}), 422)
    assert "rules" in error["fields"]
    both = {"title": "x", "document": document, "preset": "amed_certified_vc"}
    assert "document" in assert_error(api.post(path, json=both), 422)["fields"]
    assert (
        "preset"
        in assert_error(api.post(path, json={"title": "x", "preset": "nope"}), 422)["fields"]
    )
    draft = api.post(path, json={"title": "x", "preset": "milestone_programme"}).get_json()
    past = api.post(
        f"/api/v1/rulesets/{draft['id']}/publish", json={"effective_from": "2000-01-01"}
    )
    assert "effective_from" in assert_error(past, 422)["fields"]


def test_applicants_see_published_versions_only(app: Flask, client: FlaskClient) -> None:
    program = make_program()
    officer = api_as(client, Role.officer)
    path = f"/api/v1/programs/{program.id}/rulesets"
    draft = officer.post(path, json={"title": "x", "preset": "amed_certified_vc"}).get_json()
    applicant = api_as(client, Role.applicant)
    assert applicant.get(path).get_json() == []
    assert_error(applicant.get(f"/api/v1/rulesets/{draft['id']}"), 404)
    assert_error(applicant.post(path, json={"title": "x", "preset": "amed_certified_vc"}), 403)
    officer.post(f"/api/v1/rulesets/{draft['id']}/publish", json={"effective_from": "2099-01-01"})
    assert [r["version"] for r in applicant.get(path).get_json()] == [1]


def test_what_if(app: Flask, client: FlaskClient) -> None:
    w = make_whatif_world()
    api = api_as(client, Role.officer)
    document = amed_certified_vc()
    rule(document, "lead_vc_min")["relaxations"] = []
    draft = api.post(
        f"/api/v1/programs/{w.world.program.id}/rulesets",
        json={"title": "緩和なし", "document": document},
    ).get_json()
    body = api.get(f"/api/v1/rulesets/{draft['id']}/what-if").get_json()
    assert body["in_force_version"] == 1
    assert body["summary"]["newly_blocked"] == 1
    blocked = next(r for r in body["rows"] if r["change"] == "newly_blocked")
    assert blocked["subject_id"] == w.relaxed.id and blocked["before"]["ok"] is True
    failing = [row for row in blocked["after"]["rows"] if row["outcome"] == "fail"]
    assert failing[0]["rule_id"] == "lead_vc_min" and failing[0]["message"]["ja"]


@pytest.mark.parametrize("role", [Role.applicant, Role.reviewer, Role.admin])
def test_what_if_is_for_officers(app: Flask, client: FlaskClient, role: Role) -> None:
    w = make_whatif_world()
    officer = api_as(client, Role.officer)
    draft = officer.post(
        f"/api/v1/programs/{w.world.program.id}/rulesets",
        json={"title": "x", "preset": "amed_certified_vc"},
    ).get_json()
    assert_error(api_as(client, role).get(f"/api/v1/rulesets/{draft['id']}/what-if"), 403)


def test_schedule_keys_are_optional_overrides(app: Flask, client: FlaskClient) -> None:
    program = make_program()
    api = api_as(client, Role.officer)
    document = amed_certified_vc()
    del document["schedule"]
    created = api.post(
        f"/api/v1/programs/{program.id}/rulesets", json={"title": "x", "document": document}
    )
    assert created.status_code == 201
    assert created.get_json()["document"]["schedule"] == {}
    path = f"/api/v1/rulesets/{created.get_json()['id']}"
    document["schedule"] = {"grace_days": 5}
    replaced = api.put(f"{path}/document", json={"document": document})
    assert replaced.status_code == 200
    assert replaced.get_json()["document"]["schedule"] == {"grace_days": 5}
    assert api.get(path).get_json()["document"]["schedule"] == {"grace_days": 5}
    document["schedule"] = {"due_soon_days": [30, -1]}
    error = assert_error(api.put(f"{path}/document", json={"document": document}), 422)
    assert "due_soon_days" in error["fields"]["schedule"]


def test_document_errors_are_in_the_callers_language(app: Flask, client: FlaskClient) -> None:
    program = make_program()
    api = api_as(client, Role.officer)
    path = f"/api/v1/programs/{program.id}/rulesets"
    document = amed_certified_vc()
    document["schedule"] = {"grace_days": 9223372036854775808, "due_soon_days": [30, 7, 7]}
    rule(document, "vc_share_min")["params"]["ratio"] = "1e3"
    sent = {"title": "x", "document": document}
    japanese = assert_error(api.post(path, json=sent, headers={"Accept-Language": "ja"}), 422)
    assert japanese["message"] == "ルールセットに誤りがあります。"
    assert japanese["fields"]["schedule"] == {
        "grace_days": ["0から3650までの整数で指定してください。"],
        "due_soon_days": ["同じ日数を重複して入力しないでください。"],
    }
    assert japanese["fields"]["rules"]["3"]["params"]["ratio"][0].startswith("比率として読めません")
    english = assert_error(api.post(path, json=sent, headers={"Accept-Language": "en"}), 422)
    assert english["fields"]["schedule"]["grace_days"] == ["Must be a whole number from 0 to 3650."]


def test_a_version_says_what_the_caller_may_do_with_it_now(app: Flask, client: FlaskClient) -> None:
    program = make_program()
    officer = api_as(client, Role.officer)
    draft = officer.post(
        f"/api/v1/programs/{program.id}/rulesets",
        json={"title": "v1", "preset": "amed_certified_vc"},
    ).get_json()
    everything = {"edit": True, "publish": True, "run_what_if": True, "superseded_by_id": None}
    assert draft["actions"] == everything
    path = f"/api/v1/rulesets/{draft['id']}"
    v1 = officer.post(f"{path}/publish", json={"effective_from": "2099-04-01"}).get_json()
    nothing = dict.fromkeys(everything, False) | {"superseded_by_id": None}
    assert v1["actions"] == nothing
    first, second = (officer.post(f"{path}/copy").get_json() for _ in range(2))
    v2 = officer.post(
        f"/api/v1/rulesets/{first['id']}/publish", json={"effective_from": "2099-05-01"}
    ).get_json()
    stale = officer.get(f"/api/v1/rulesets/{second['id']}").get_json()
    assert stale["actions"] == everything | {"superseded_by_id": v2["id"]}
    assert api_as(client, Role.applicant).get(path).get_json()["actions"] == nothing
