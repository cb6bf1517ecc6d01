"""/api/v1/grants/<id>/reviewers: assignment with conflict-of-interest exclusion (officers)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from grants.accounts.models import ConflictDeclaration
from grants.awards.models import ReviewerAssignment
from grants.core.identity import OrgKind, Role
from grants.core.models import AuditEvent
from grants.extensions import db
from tests.support.api import ApiClient, api_as, assert_error
from tests.support.factories import make_org, make_user
from tests.support.grants import GrantWorld, make_grant


@pytest.fixture
def world(app: Flask) -> GrantWorld:
    return make_grant()


def _path(world: GrantWorld, suffix: str = "") -> str:
    return f"/api/v1/grants/{world.grant.id}/reviewers{suffix}"


def _assigned(world: GrantWorld) -> set[int]:
    query = select(ReviewerAssignment.reviewer_id).where(
        ReviewerAssignment.grant_id == world.grant.id
    )
    return set(db.session.scalars(query))


def _actions() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action)))


def test_officer_lists_assigned_reviewers_with_eligibility(
    world: GrantWorld, client: FlaskClient
) -> None:
    conflicted = world.reviewers[1]
    db.session.add(
        ConflictDeclaration(reviewer_id=conflicted.id, grant_id=world.grant.id, note="共同研究")
    )
    db.session.commit()
    rows = api_as(client, Role.officer).get(_path(world)).get_json()
    by_id = {row["reviewer_id"]: row for row in rows}
    assert set(by_id) == {r.id for r in world.reviewers}
    assert by_id[world.reviewers[0].id]["eligible"] is True
    assert by_id[world.reviewers[0].id]["conflicts"] == []
    assert by_id[conflicted.id]["eligible"] is False
    assert by_id[conflicted.id]["conflicts"] == ["declared"]
    assert by_id[conflicted.id]["conflict_text"]


def test_candidates_show_their_conflicts(world: GrantWorld, client: FlaskClient) -> None:
    insider = make_user(Role.reviewer, world.grantee)
    free = make_user(Role.reviewer)
    rows = api_as(client, Role.officer).get(_path(world, "/candidates")).get_json()
    by_id = {row["reviewer_id"]: row for row in rows}
    assert set(by_id) == {insider.id, free.id}
    assert by_id[insider.id]["conflicts"] == ["same_organization"]
    assert by_id[free.id]["eligible"] is True


def test_officer_assigns_and_unassigns(world: GrantWorld, client: FlaskClient) -> None:
    api = api_as(client, Role.officer)
    newcomer = make_user(Role.reviewer)
    response = api.post(_path(world), json={"reviewer_id": newcomer.id})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["reviewer_id"] == newcomer.id
    assert newcomer.id in _assigned(world) and "reviewer.assign" in _actions()
    assert_error(api.post(_path(world), json={"reviewer_id": newcomer.id}), 409, "conflict")
    assert api.delete(_path(world, f"/{newcomer.id}")).status_code == 204
    assert newcomer.id not in _assigned(world) and "reviewer.unassign" in _actions()
    assert_error(api.delete(_path(world, f"/{newcomer.id}")), 404, "not_found")


def test_a_conflicted_candidate_is_refused_with_the_reasons(
    world: GrantWorld, client: FlaskClient
) -> None:
    from_the_vc = make_user(Role.reviewer, world.vc)
    api = api_as(client, Role.officer)
    data = {"reviewer_id": from_the_vc.id}
    error = assert_error(api.post(_path(world), json=data, headers={"Accept-Language": "en"}), 422)
    assert "investing VC" in " ".join(error["fields"]["reviewer_id"])
    assert from_the_vc.id not in _assigned(world)
    assert "reviewer.assign" not in _actions()


def test_a_conflicted_candidate_is_refused_in_japanese(
    world: GrantWorld, client: FlaskClient
) -> None:
    from_the_vc = make_user(Role.reviewer, world.vc)
    api = api_as(client, Role.officer)
    data = {"reviewer_id": from_the_vc.id}
    error = assert_error(api.post(_path(world), json=data, headers={"Accept-Language": "ja"}), 422)
    assert "はこの助成案件と利益相反があります" in error["message"]
    assert "はこの助成案件と利益相反があります" in error["fields"]["reviewer_id"][0]


@pytest.mark.parametrize(
    "data", [{}, {"reviewer_id": "x"}, {"reviewer_id": 0}, {"reviewer_id": "officer"}]
)
def test_invalid_assignments_name_the_field(
    world: GrantWorld, client: FlaskClient, data: dict[str, Any]
) -> None:
    if data.get("reviewer_id") == "officer":
        data = {"reviewer_id": make_user(Role.officer).id}  # not a reviewer
    before = _assigned(world)
    error = assert_error(api_as(client, Role.officer).post(_path(world), json=data), 422)
    assert "reviewer_id" in error["fields"]
    assert _assigned(world) == before


def test_only_officers_manage_reviewers(world: GrantWorld, client: FlaskClient) -> None:
    newcomer = make_user(Role.reviewer)
    calls = [
        ("get", _path(world), None),
        ("get", _path(world, "/candidates"), None),
        ("post", _path(world), {"reviewer_id": newcomer.id}),
        ("delete", _path(world, f"/{world.reviewers[0].id}"), None),
    ]
    refused = {
        403: [
            ApiClient(client, world.applicant),
            ApiClient(client, world.reviewers[0]),
            api_as(client, Role.admin),
        ],
        404: [
            api_as(client, Role.applicant, make_org(OrgKind.startup)),
            api_as(client, Role.reviewer),
        ],
    }
    for status, apis in refused.items():
        for api in apis:
            for method, path, data in calls:
                call = getattr(api, method)
                response = call(path, json=data) if data else call(path)
                assert_error(response, status)
    assert _assigned(world) == {r.id for r in world.reviewers}
    assert not {"reviewer.assign", "reviewer.unassign"} & set(_actions())
