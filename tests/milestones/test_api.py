"""/api/v1/milestones: details with evidence, multipart evidence, downloads, reviewer sign-off."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from grants.awards.models import (
    ConflictDeclaration,
    EvidenceFile,
    EvidenceSubmission,
    Milestone,
    Review,
)
from grants.core.http.schemas import today
from grants.core.identity import Locale, OrgKind, Role
from grants.core.models import AuditEvent
from grants.core.states import MilestoneState
from grants.extensions import db
from grants.milestones.evidence import service as evidence
from tests.support.api import ApiClient, api_as, assert_error
from tests.support.factories import make_org, uploads
from tests.support.grants import GrantWorld, make_grant

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture
def world(app: Flask) -> GrantWorld:
    return make_grant()


@pytest.fixture
def small_limit(app: Flask) -> Iterator[int]:
    saved = app.config["MAX_CONTENT_LENGTH"]
    app.config["MAX_CONTENT_LENGTH"] = 4096
    yield 4096
    app.config["MAX_CONTENT_LENGTH"] = saved


def _m(world: GrantWorld, index: int = 0) -> Milestone:
    return world.milestones[index]


def _send(
    api: ApiClient,
    milestone: Milestone,
    uploads: list[tuple[bytes, str]] | None = None,
    **fields: Any,
) -> TestResponse:
    data: dict[str, Any] = {"narrative": "IC50 reached 8 nM.", "measured": ["8"]}
    data["files"] = [(io.BytesIO(content), name) for content, name in uploads or []]
    data.update(fields)
    data = {name: value for name, value in data.items() if value is not None}
    return api.client.post(
        f"/api/v1/milestones/{milestone.id}/evidence",
        data=data,
        headers={"Authorization": f"Bearer {api.secret}"},
        content_type="multipart/form-data",
    )


def _stored(app: Flask) -> set[str]:
    folder = Path(app.config["UPLOAD_FOLDER"])
    return {p.name for p in folder.iterdir()} if folder.exists() else set()


def _count(model: type[Any]) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def _state(milestone_id: int) -> MilestoneState:
    db.session.expire_all()
    milestone = db.session.get(Milestone, milestone_id)
    assert milestone is not None
    return milestone.state


def _submit(world: GrantWorld, index: int = 0) -> EvidenceSubmission:
    return evidence.submit_evidence(
        world.applicant,
        _m(world, index).id,
        "Results.",
        {0: "8"},
        [("r.pdf", io.BytesIO(PDF), "")],
        today(),
        upload_folder=uploads(),
    )


# --- evidence ----------------------------------------------------------------------------


def test_grantee_submits_evidence_with_files(
    app: Flask, world: GrantWorld, client: FlaskClient
) -> None:
    api = ApiClient(client, world.applicant)
    before = _stored(app)
    response = _send(api, _m(world), [(PDF, "結果.pdf"), (PNG, "plot.png")])
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["round"] == 1 and body["narrative"] == "IC50 reached 8 nM."
    assert body["measured"][0]["value"] == "8" and body["measured"][0]["metric"] == "IC50"
    assert [f["original_name"] for f in body["files"]] == ["結果.pdf", "plot.png"]
    assert body["files"][0]["download_url"] == f"/api/v1/evidence-files/{body['files'][0]['id']}"
    assert _state(_m(world).id) == MilestoneState.submitted
    assert len(_stored(app) - before) == 2
    assert db.session.query(AuditEvent).filter_by(action="milestone.submit_evidence").count() == 1
    again = _send(api, _m(world))
    assert_error(again, 409, "conflict")
    assert _count(EvidenceSubmission) == 1


def test_evidence_without_files_is_accepted(world: GrantWorld, client: FlaskClient) -> None:
    response = _send(ApiClient(client, world.applicant), _m(world))
    assert response.status_code == 201 and response.get_json()["files"] == []


def test_who_may_not_submit_evidence(app: Flask, world: GrantWorld, client: FlaskClient) -> None:
    milestone = _m(world)
    before = _stored(app)
    for api in (
        ApiClient(client, world.reviewers[0]),
        api_as(client, Role.officer),
        api_as(client, Role.admin),
    ):
        assert_error(_send(api, milestone, [(PDF, "r.pdf")]), 403, "forbidden")
    for api in (
        api_as(client, Role.applicant, make_org(OrgKind.startup)),
        api_as(client, Role.reviewer),
    ):
        assert_error(_send(api, milestone, [(PDF, "r.pdf")]), 404, "not_found")
    assert _count(EvidenceSubmission) == 0 and _stored(app) == before
    assert _state(milestone.id) == MilestoneState.planned


def test_evidence_for_a_later_milestone_is_409(
    app: Flask, world: GrantWorld, client: FlaskClient
) -> None:
    api = ApiClient(client, world.applicant)
    before = _stored(app)
    error = assert_error(_send(api, _m(world, 1), [(PDF, "r.pdf")]), 409, "conflict")
    assert "1. Milestone 1" in error["message"]  # the current milestone, named
    assert _count(EvidenceSubmission) == 0 and _stored(app) == before
    assert _state(_m(world, 1).id) == MilestoneState.planned


@pytest.mark.parametrize(
    ("locale", "refusal", "missing"),
    [
        (
            Locale.ja,
            "先に 1. Milestone 1 が承認される必要があります。",
            "実測値を入力してください。",
        ),
        (Locale.en, "1. Milestone 1 must be approved first.", "Enter the measured value."),
    ],
)
def test_the_service_s_refusals_are_in_the_grantee_s_language(
    world: GrantWorld, client: FlaskClient, locale: Locale, refusal: str, missing: str
) -> None:
    world.applicant.locale = locale
    db.session.commit()
    api = ApiClient(client, world.applicant)
    error = assert_error(_send(api, _m(world, 1)), 409, "conflict")
    assert refusal in error["message"]
    error = assert_error(_send(api, _m(world), measured=[""]), 422, "unprocessable")
    assert error["fields"]["measured.0"] == [missing]


@pytest.mark.parametrize(
    ("fields", "files", "field"),
    [
        ({"narrative": None}, None, "narrative"),
        ({"narrative": "   "}, None, "narrative"),
        ({"narrative": "x" * 20_001}, None, "narrative"),
        ({"measured": None}, None, "measured.0"),
        ({"measured": [""]}, None, "measured.0"),
        ({"measured": ["8", "9"]}, None, "measured"),
        ({"measured": ["x" * 201]}, None, "measured.0"),
        ({"measured": ["8\x00"]}, None, "measured.0"),
        ({"narrative": "a\x00b"}, None, "narrative"),
        ({}, [(b"MZ\x90\x00", "tool.exe")], "files"),
        ({}, [(b"not a pdf", "fake.pdf")], "files"),
        ({"files": "not a file"}, None, "files"),
    ],
)
def test_invalid_evidence_names_the_field_and_writes_nothing(
    app: Flask,
    world: GrantWorld,
    client: FlaskClient,
    fields: dict[str, Any],
    files: list[tuple[bytes, str]] | None,
    field: str,
) -> None:
    api = ApiClient(client, world.applicant)
    before = _stored(app)
    error = assert_error(_send(api, _m(world), files, **fields), 422, "unprocessable")
    assert field in error["fields"], error
    assert _count(EvidenceSubmission) == 0 and _count(EvidenceFile) == 0
    assert _stored(app) == before and _state(_m(world).id) == MilestoneState.planned


def test_a_json_body_is_not_evidence(world: GrantWorld, client: FlaskClient) -> None:
    api = ApiClient(client, world.applicant)
    response = api.post(f"/api/v1/milestones/{_m(world).id}/evidence", json={"narrative": "x"})
    assert "narrative" in assert_error(response, 422)["fields"]


def test_too_large_an_upload_is_a_json_413(
    app: Flask, world: GrantWorld, client: FlaskClient, small_limit: int
) -> None:
    big = PDF + b"0" * (small_limit + 1)
    before = _stored(app)
    response = _send(ApiClient(client, world.applicant), _m(world), [(big, "big.pdf")])
    assert_error(response, 413, "too_large")
    assert _count(EvidenceSubmission) == 0 and _stored(app) == before


# --- downloads ---------------------------------------------------------------------------


def test_who_may_download_an_evidence_file(world: GrantWorld, client: FlaskClient) -> None:
    submission = _submit(world)
    path = f"/api/v1/evidence-files/{submission.files[0].id}"
    reviewer = world.reviewers[1]
    db.session.add(ConflictDeclaration(reviewer_id=reviewer.id, grant_id=world.grant.id, note="x"))
    db.session.commit()
    for api in (
        ApiClient(client, world.applicant),
        ApiClient(client, world.reviewers[0]),
        api_as(client, Role.officer),
    ):
        response = api.get(path)
        assert response.status_code == 200 and response.data == PDF
        assert response.headers["Content-Type"] == "application/pdf"
        assert "attachment" in response.headers["Content-Disposition"]
        response.close()
    assert_error(ApiClient(client, reviewer).get(path), 403, "forbidden")
    assert_error(api_as(client, Role.admin).get(path), 403, "forbidden")
    assert_error(api_as(client, Role.applicant, make_org(OrgKind.startup)).get(path), 404)
    assert_error(api_as(client, Role.reviewer).get(path), 404, "not_found")
    assert_error(api_as(client, Role.officer).get("/api/v1/evidence-files/99999"), 404)


# --- the milestone page ------------------------------------------------------------------


def test_milestone_details_with_rounds_files_and_reviews(
    world: GrantWorld, client: FlaskClient
) -> None:
    _submit(world)
    reviewer = ApiClient(client, world.reviewers[0])
    path = f"/api/v1/milestones/{_m(world).id}"
    assert reviewer.post(f"{path}/reviews", json={"decision": "approve"}).status_code == 201
    body = ApiClient(client, world.applicant).get(path).get_json()
    assert body["state"] == "submitted" and body["round"] == 1 and body["evidence_hidden"] is False
    assert body["grant_number"] == "MS-TEST-0001" and body["tranche_amount"] == 100_000_000
    (round_1,) = body["submissions"]
    assert round_1["files"][0]["original_name"] == "r.pdf" and round_1["files"][0]["size"] > 0
    assert [r["decision"] for r in round_1["reviews"]] == ["approve"]
    assert round_1["reviews"][0]["reviewer_id"] == world.reviewers[0].id


def test_a_conflicted_reviewer_gets_no_evidence(world: GrantWorld, client: FlaskClient) -> None:
    _submit(world)
    reviewer = world.reviewers[1]
    db.session.add(ConflictDeclaration(reviewer_id=reviewer.id, grant_id=world.grant.id, note="x"))
    db.session.commit()
    body = ApiClient(client, reviewer).get(f"/api/v1/milestones/{_m(world).id}").get_json()
    assert body["evidence_hidden"] is True and body["submissions"] == []
    assert body["state"] == "submitted"


def test_who_may_open_a_milestone(world: GrantWorld, client: FlaskClient) -> None:
    path = f"/api/v1/milestones/{_m(world).id}"
    for api in (
        ApiClient(client, world.applicant),
        ApiClient(client, world.reviewers[0]),
        api_as(client, Role.officer),
    ):
        assert api.get(path).status_code == 200
    assert_error(api_as(client, Role.applicant, make_org(OrgKind.startup)).get(path), 404)
    assert_error(api_as(client, Role.reviewer).get(path), 404, "not_found")
    assert_error(api_as(client, Role.admin).get(path), 403, "forbidden")
    assert_error(api_as(client, Role.officer).get("/api/v1/milestones/424242"), 404)


# --- reviews -----------------------------------------------------------------------------


def _review(api: ApiClient, world: GrantWorld, data: dict[str, Any]) -> TestResponse:
    return api.post(f"/api/v1/milestones/{_m(world).id}/reviews", json=data)


def test_two_approvals_approve_the_milestone(world: GrantWorld, client: FlaskClient) -> None:
    _submit(world)
    first, second = (ApiClient(client, r) for r in world.reviewers)
    answer = _review(first, world, {"decision": "approve", "comment": "Met."})
    assert answer.status_code == 201, answer.get_json()
    body = answer.get_json()
    assert body["milestone_state"] == "submitted" and body["round"] == 1
    assert body["reviewer_id"] == world.reviewers[0].id and body["comment"] == "Met."
    assert_error(_review(first, world, {"decision": "reject", "comment": "No"}), 409, "conflict")
    final = _review(second, world, {"decision": "approve"}).get_json()
    assert final["milestone_state"] == "approved"
    assert _state(_m(world).id) == MilestoneState.approved
    assert db.session.query(AuditEvent).filter_by(action="review.decide").count() == 2


def test_who_may_not_review(world: GrantWorld, client: FlaskClient) -> None:
    _submit(world)
    reviewer = world.reviewers[1]
    db.session.add(ConflictDeclaration(reviewer_id=reviewer.id, grant_id=world.grant.id, note="x"))
    db.session.commit()
    data = {"decision": "approve"}
    for api in (
        ApiClient(client, reviewer),
        ApiClient(client, world.applicant),
        api_as(client, Role.officer),
        api_as(client, Role.admin),
    ):
        assert_error(_review(api, world, data), 403, "forbidden")
    for api in (api_as(client, Role.reviewer), api_as(client, Role.applicant, make_org())):
        assert_error(_review(api, world, data), 404, "not_found")
    assert _count(Review) == 0


def test_nothing_to_review_yet_is_409(world: GrantWorld, client: FlaskClient) -> None:
    response = _review(ApiClient(client, world.reviewers[0]), world, {"decision": "approve"})
    assert_error(response, 409, "conflict")


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({}, "decision"),
        ({"decision": "maybe"}, "decision"),
        ({"decision": 1}, "decision"),
        ({"decision": "request_changes"}, "comment"),
        ({"decision": "reject", "comment": "  "}, "comment"),
        ({"decision": "approve", "comment": "x" * 5001}, "comment"),
        ({"decision": "approve", "comment": "ok\x00"}, "comment"),
    ],
)
def test_invalid_reviews_name_the_field(
    world: GrantWorld, client: FlaskClient, data: dict[str, Any], field: str
) -> None:
    _submit(world)
    error = assert_error(_review(ApiClient(client, world.reviewers[0]), world, data), 422)
    assert field in error["fields"]
    assert _count(Review) == 0 and _state(_m(world).id) == MilestoneState.submitted


def test_evidence_is_documented_as_one_multipart_body(app: Flask, client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    operation = spec["paths"]["/api/v1/milestones/{milestone_id}/evidence"]["post"]
    assert operation["parameters"] == []  # no form fields documented as parameters
    body = operation["requestBody"]["content"]["multipart/form-data"]["schema"]
    schema = spec["components"]["schemas"][body["$ref"].rsplit("/", 1)[-1]]
    assert set(schema["properties"]) == {"narrative", "measured", "files"}
    assert schema["properties"]["files"]["items"]["format"] == "binary"
    assert schema["properties"]["measured"]["type"] == "array"
    assert "413" in operation["responses"]
