"""/api/v1/applications (the applicant's side), their eligibility, and /api/v1/certified-vcs."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from grants.accounts.certified_vcs import service as certifications
from grants.applications import service as applications
from grants.applications.models import Application, CoInvestment, PlannedMilestone
from grants.core.actors import SYSTEM
from grants.core.http import schemas as common
from grants.core.identity import OrgKind, Role
from grants.core.models import AuditEvent
from grants.core.states import ApplicationState
from grants.extensions import db
from tests.support.api import ApiClient, api_as, assert_error
from tests.support.applications import (
    DUE_DATES,
    TODAY,
    application_data,
    make_applicant,
    ready_application,
    submitted_application,
)
from tests.support.factories import make_org, make_user
from tests.support.programs import make_certified_vc
from tests.support.programs import make_program as make_bare_program

ROUTES = {
    ("GET", "/api/v1/applications"),
    ("POST", "/api/v1/applications"),
    ("GET", "/api/v1/applications/1"),
    ("PUT", "/api/v1/applications/1"),
    ("PUT", "/api/v1/applications/1/plan"),
    ("PUT", "/api/v1/applications/1/co-investments"),
    ("POST", "/api/v1/applications/1/submit"),
    ("POST", "/api/v1/applications/1/withdraw"),
    ("GET", "/api/v1/applications/1/eligibility"),
    ("GET", "/api/v1/certified-vcs"),
    ("GET", "/api/v1/screening"),
    ("POST", "/api/v1/applications/1/screen"),
    ("POST", "/api/v1/applications/1/award"),
    ("POST", "/api/v1/applications/1/reject"),
}
# The applicant's operations on one application (the officer's are in test_screening.py).
OWN_OPERATIONS = (
    ("GET", ""),
    ("PUT", ""),
    ("PUT", "/plan"),
    ("PUT", "/co-investments"),
    ("POST", "/submit"),
    ("POST", "/withdraw"),
    ("GET", "/eligibility"),
)


@pytest.fixture(autouse=True)
def _fixed_today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(common, "today", lambda: TODAY)


def body(program_id: int, **values: Any) -> dict[str, Any]:
    return {
        "program_id": program_id,
        "title": "抗菌薬候補の開発",
        "theme": "amr",
        "modality": "drug",
        "stage": "non_clinical",
        "eligible_cost": 600_000_000,
        "indirect_cost": 60_000_000,
        "requested_subsidy": 400_000_000,
        "project_start": "2026-06-01",
        "project_end": "2029-03-31",
        **values,
    }


def milestone(due: date | str, amount: int, **values: Any) -> dict[str, Any]:
    return {
        "title": "GLP tox",
        "criteria": [{"metric": "IC50", "target": "<= 10", "unit": "nM"}],
        "due_date": str(due),
        "tranche_amount": amount,
        **values,
    }


def plan(*tranches: int) -> dict[str, Any]:
    return {"milestones": [milestone(due, t) for due, t in zip(DUE_DATES, tranches, strict=False)]}


def api_for(client: FlaskClient, user: Any) -> ApiClient:
    return ApiClient(client, user)


def count(model: type, **where: Any) -> int:
    query = select(func.count()).select_from(model).filter_by(**where)
    return db.session.scalar(query) or 0


def audits(action: str) -> int:
    return count(AuditEvent, action=action)


def call(api: ApiClient, method: str, path: str, json: Any = None) -> Any:
    return getattr(api, method.lower())(path, **({"json": json} if method != "GET" else {}))


def _payload(method: str, suffix: str, program_id: int) -> Any:
    if method == "GET" or suffix in ("/submit", "/withdraw"):
        return None
    return {
        "": body(program_id),
        "/plan": plan(100_000_000),
        "/co-investments": {"co_investments": []},
    }[suffix]


# ---- authentication and routes ---------------------------------------------------------------


def test_every_route_is_enumerated(app: Flask) -> None:
    found = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.split(".")[0] in ("api_applications", "api_screening", "api_awards"):
            path = "/".join("1" if p.startswith("<") else p for p in rule.rule.split("/"))
            found |= {(m, path) for m in (rule.methods or set()) - {"HEAD", "OPTIONS"}}
    assert found == ROUTES


def test_every_route_needs_a_token(app: Flask, client: FlaskClient) -> None:
    world = ready_application()
    assert world.application.id == 1
    events = count(AuditEvent)
    for method, path in sorted(ROUTES):
        response = client.open(path, method=method, json={} if method != "GET" else None)
        assert_error(response, 401, "unauthorized")
        bad = client.open(path, method=method, headers={"Authorization": "Bearer nope"})
        assert_error(bad, 401, "unauthorized")
    assert count(AuditEvent) == events


# ---- create ----------------------------------------------------------------------------------


def test_applicant_creates_a_draft(app: Flask, client: FlaskClient) -> None:
    world = ready_application()
    applicant = make_applicant()
    response = api_for(client, applicant).post("/api/v1/applications", json=body(world.program.id))
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    assert created["state"] == "draft" and created["organization_id"] == applicant.organization_id
    assert created["plan"] == [] and created["co_investments"] == []
    assert created["eligibility_trace"] is None and created["eligible"] is None
    assert created["requested_subsidy"] == 400_000_000 and created["project_end"] == "2029-03-31"
    assert db.session.get(Application, created["id"]).created_by_id == applicant.id
    assert audits("application.create") == 2  # the world's draft and this one


@pytest.mark.parametrize("role", [Role.reviewer, Role.officer, Role.admin])
def test_only_applicants_create(app: Flask, client: FlaskClient, role: Role) -> None:
    world = ready_application()
    response = api_as(client, role).post("/api/v1/applications", json=body(world.program.id))
    assert_error(response, 403, "forbidden")
    assert count(Application) == 1


BAD_DRAFTS = [
    ({"title": "   "}, "title"),
    ({"title": "x" * 301}, "title"),
    ({"title": "nul\x00byte"}, "title"),
    ({"title": None}, "title"),
    ({"theme": "astrology"}, "theme"),
    ({"theme": "unmet_device"}, "theme"),  # a theme, but not one of this programme's
    ({"stage": "phase9"}, "stage"),
    ({"eligible_cost": 1.5}, "eligible_cost"),
    ({"eligible_cost": "600000000"}, "eligible_cost"),
    ({"indirect_cost": -1}, "indirect_cost"),
    ({"indirect_cost": 700_000_000}, "indirect_cost"),
    ({"requested_subsidy": 700_000_000}, "requested_subsidy"),
    ({"requested_subsidy": 10**16}, "requested_subsidy"),
    ({"project_start": "next week"}, "project_start"),
    ({"project_end": "2026-05-31"}, "project_end"),
    ({"project_end": "2032-01-01"}, "project_end"),
    ({"program_id": 999_999}, "program_id"),
    ({"program_id": 2**70}, "program_id"),
    ({"program_id": "1"}, "program_id"),
    ({"unexpected": 1}, "unexpected"),
]


@pytest.mark.parametrize(("change", "field"), BAD_DRAFTS)
def test_invalid_drafts_name_the_field_and_write_nothing(
    app: Flask, client: FlaskClient, change: dict[str, Any], field: str
) -> None:
    program = make_bare_program()  # themes rare_disease and amr; ends 2031-09-30
    api = api_as(client, Role.applicant, make_org())
    error = assert_error(api.post("/api/v1/applications", json=body(program.id) | change), 422)
    assert field in error["fields"], error
    assert count(Application) == 0 and audits("application.create") == 0


def test_a_missing_field_is_named(app: Flask, client: FlaskClient) -> None:
    program = ready_application().program
    api = api_as(client, Role.applicant, make_org())
    incomplete = body(program.id)
    del incomplete["project_end"]
    error = assert_error(api.post("/api/v1/applications", json=incomplete), 422)
    assert list(error["fields"]) == ["project_end"]
    assert_error(api.post("/api/v1/applications", json=[incomplete]), 422)
    assert count(Application) == 1


def test_applicant_without_organization_cannot_apply(app: Flask, client: FlaskClient) -> None:
    program = ready_application().program
    response = api_as(client, Role.applicant).post("/api/v1/applications", json=body(program.id))
    assert_error(response, 403)
    assert count(Application) == 1


# ---- list ------------------------------------------------------------------------------------


def test_applicants_list_their_organizations_applications(app: Flask, client: FlaskClient) -> None:
    mine = submitted_application()
    colleague = make_user(Role.applicant, mine.org)
    second = applications.create_draft(colleague, application_data(mine.program))
    other = ready_application()
    api = api_as(client, Role.applicant, mine.org)
    listed = api.get("/api/v1/applications").get_json()
    assert listed["total"] == 2
    assert [item["id"] for item in listed["items"]] == [second.id, mine.application.id]
    first = listed["items"][1]
    assert first["state"] == "submitted" and first["eligible"] is True
    assert first["program_code"] == mine.program.code and first["submitted_on"] == "2026-05-01"
    assert first["organization_name"] == mine.org.name
    assert other.application.id not in {item["id"] for item in listed["items"]}
    submitted = api.get("/api/v1/applications?status=submitted").get_json()
    assert [item["id"] for item in submitted["items"]] == [mine.application.id]
    paged = api.get("/api/v1/applications?per_page=1&page=2").get_json()
    assert paged["total"] == 2 and [i["id"] for i in paged["items"]] == [mine.application.id]


def test_officers_list_every_application_and_filter(app: Flask, client: FlaskClient) -> None:
    first = submitted_application()
    second = ready_application()
    api = api_as(client, Role.officer)
    assert api.get("/api/v1/applications").get_json()["total"] == 2
    by_program = api.get(f"/api/v1/applications?program_id={second.program.id}").get_json()
    assert [item["id"] for item in by_program["items"]] == [second.application.id]
    drafts = api.get("/api/v1/applications?status=draft").get_json()
    assert [item["id"] for item in drafts["items"]] == [second.application.id]
    both = f"/api/v1/applications?status=submitted&program_id={second.program.id}"
    assert api.get(both).get_json()["total"] == 0
    assert api.get(f"/api/v1/applications?program_id={first.program.id}").get_json()["total"] == 1


@pytest.mark.parametrize(
    ("query", "field"),
    [("status=approved", "status"), ("program_id=abc", "program_id"), ("page=0", "page")],
)
def test_bad_list_filters_are_422(app: Flask, client: FlaskClient, query: str, field: str) -> None:
    error = assert_error(api_as(client, Role.officer).get(f"/api/v1/applications?{query}"), 422)
    assert field in error["fields"]


@pytest.mark.parametrize("role", [Role.reviewer, Role.admin])
def test_other_roles_cannot_list(app: Flask, client: FlaskClient, role: Role) -> None:
    submitted_application()
    assert_error(api_as(client, role).get("/api/v1/applications"), 403, "forbidden")


# ---- detail and permissions on one application ----------------------------------------------


def test_detail_shows_plan_co_investments_and_state(app: Flask, client: FlaskClient) -> None:
    world = ready_application()
    path = f"/api/v1/applications/{world.application.id}"
    for api in (api_for(client, world.applicant), api_as(client, Role.officer)):
        detail = api.get(path).get_json()
        assert detail["state"] == "draft" and detail["title"] == "抗菌薬候補の開発"
        assert [m["sequence"] for m in detail["plan"]] == [1, 2, 3]
        assert detail["plan"][0] == {
            "sequence": 1,
            "title": "Milestone 1",
            "criteria": [{"metric": "IC50", "target": "<= 10", "unit": "nM"}],
            "due_date": "2026-12-31",
            "tranche_amount": 600_000_000,
        }
        assert detail["co_investments"] == [
            {
                "vc_organization_id": world.vc.id,
                "vc_name": world.vc.name,
                "committed_amount": 1_000_000_001,
                "is_lead": True,
            }
        ]
        assert detail["warnings"] == [] and detail["ruleset_version"] is None
    assert_error(api_as(client, Role.officer).get("/api/v1/applications/999"), 404, "not_found")


def test_plan_warnings_show_a_mismatch_early(app: Flask, client: FlaskClient) -> None:
    world = ready_application()
    applications.replace_plan(
        world.applicant,
        world.application.id,
        [
            applications.MilestoneData(
                "Only one", (applications.CriterionData("a", "b", "c"),), DUE_DATES[0], 1
            )
        ],
    )
    detail = api_for(client, world.applicant).get(f"/api/v1/applications/{world.application.id}")
    assert len(detail.get_json()["warnings"]) == 1


@pytest.mark.parametrize(("method", "suffix"), OWN_OPERATIONS)
def test_another_organizations_applicant_is_told_not_found(
    app: Flask, client: FlaskClient, method: str, suffix: str
) -> None:
    world = ready_application()
    api = api_as(client, Role.applicant, make_org())
    path = f"/api/v1/applications/{world.application.id}{suffix}"
    assert_error(call(api, method, path, _payload(method, suffix, world.program.id)), 404)
    assert audits("application.update") == 0 and audits("application.submit") == 0
    assert audits("application.replace_plan") == 1 and audits("application.withdraw") == 0
    assert audits("application.set_co_investments") == 1
    db.session.expire_all()
    assert world.application.state == ApplicationState.draft


@pytest.mark.parametrize("role", [Role.reviewer, Role.officer, Role.admin])
@pytest.mark.parametrize(("method", "suffix"), OWN_OPERATIONS)
def test_other_roles_cannot_use_the_applicants_operations(
    app: Flask, client: FlaskClient, role: Role, method: str, suffix: str
) -> None:
    world = ready_application()
    path = f"/api/v1/applications/{world.application.id}{suffix}"
    response = call(api_as(client, role), method, path, _payload(method, suffix, world.program.id))
    if role == Role.officer and method == "GET":
        assert response.status_code == 200  # officers read every application
    else:
        assert_error(response, 403, "forbidden")
    assert audits("application.update") == 0 and audits("application.submit") == 0
    assert audits("application.replace_plan") == 1 and audits("application.withdraw") == 0
    db.session.expire_all()
    assert world.application.state == ApplicationState.draft


# ---- edit ------------------------------------------------------------------------------------


def test_applicant_edits_the_draft(app: Flask, client: FlaskClient) -> None:
    world = ready_application()
    api = api_for(client, world.applicant)
    path = f"/api/v1/applications/{world.application.id}"
    changed = api.put(path, json=body(world.program.id, title="  Renamed  ", theme="rare_disease"))
    assert changed.status_code == 200, changed.get_json()
    assert (
        changed.get_json()["title"] == "Renamed" and changed.get_json()["theme"] == "rare_disease"
    )
    assert len(changed.get_json()["plan"]) == 3  # the plan is left alone
    assert audits("application.update") == 1
    error = assert_error(api.put(path, json=body(world.program.id, project_end="2026-01-01")), 422)
    assert list(error["fields"]) == ["project_end"]
    assert audits("application.update") == 1
    db.session.expire_all()
    assert world.application.title == "Renamed" and world.application.project_end == date(
        2029, 3, 31
    )


def test_edits_after_submission_are_409(app: Flask, client: FlaskClient) -> None:
    world = submitted_application()
    api = api_for(client, world.applicant)
    path = f"/api/v1/applications/{world.application.id}"
    assert_error(api.put(path, json=body(world.program.id)), 409, "conflict")
    assert_error(api.put(f"{path}/plan", json=plan(2_400_000_000)), 409)
    assert_error(api.put(f"{path}/co-investments", json={"co_investments": []}), 409)
    assert audits("application.update") == 0
    db.session.expire_all()
    assert len(world.application.plan) == 3 and len(world.application.co_investments) == 1


# ---- plan ------------------------------------------------------------------------------------


def test_applicant_replaces_the_plan(app: Flask, client: FlaskClient) -> None:
    world = ready_application()
    api = api_for(client, world.applicant)
    new_plan = {
        "milestones": [
            milestone("2027-01-31", 1_200_000_000, title=" Lead optimisation "),
            milestone(
                "2028-01-31",
                1_200_000_000,
                criteria=[
                    {"metric": "AUC", "target": ">= 0.8", "unit": "ratio"},
                    {"metric": "LD50", "target": "> 100", "unit": "mg/kg"},
                ],
            ),
        ]
    }
    response = api.put(f"/api/v1/applications/{world.application.id}/plan", json=new_plan)
    assert response.status_code == 200, response.get_json()
    stored = response.get_json()["plan"]
    assert [(m["sequence"], m["title"], m["due_date"]) for m in stored] == [
        (1, "Lead optimisation", "2027-01-31"),
        (2, "GLP tox", "2028-01-31"),
    ]
    assert stored[1]["criteria"][1] == {"metric": "LD50", "target": "> 100", "unit": "mg/kg"}
    assert response.get_json()["warnings"] == []
    assert count(PlannedMilestone) == 2 and audits("application.replace_plan") == 2


BAD_PLANS = [
    (
        {"milestones": [milestone("2027-01-31", 1), milestone("2026-12-31", 1)]},
        "milestones.1.due_date",
    ),
    ({"milestones": [milestone("2030-01-01", 1)]}, "milestones.0.due_date"),
    ({"milestones": [milestone("31/12/2026", 1)]}, "milestones.0.due_date"),
    ({"milestones": [milestone("2027-01-31", 0)]}, "milestones.0.tranche_amount"),
    ({"milestones": [milestone("2027-01-31", 1.5)]}, "milestones.0.tranche_amount"),
    ({"milestones": [milestone("2027-01-31", 1, title=" ")]}, "milestones.0.title"),
    ({"milestones": [milestone("2027-01-31", 1, criteria=[])]}, "milestones.0.criteria"),
    (
        {
            "milestones": [
                milestone("2027-01-31", 1, criteria=[{"metric": "m", "target": "t", "unit": " "}])
            ]
        },
        "milestones.0.criteria.0.unit",
    ),
    (
        {"milestones": [milestone("2027-01-31", 1, criteria=[{"metric": "m", "target": "t"}])]},
        "milestones.0.criteria.0.unit",
    ),
    ({"milestones": [milestone("2027-01-31", 1, criteria="IC50")]}, "milestones.0.criteria"),
    ({"milestones": [milestone(f"2027-01-{d:02d}", 1) for d in range(1, 32)]}, "milestones"),
    ({"milestones": "none"}, "milestones"),
    ({}, "milestones"),
]


@pytest.mark.parametrize(("sent", "path"), BAD_PLANS)
def test_invalid_plans_name_the_field_path_and_write_nothing(
    app: Flask, client: FlaskClient, sent: dict[str, Any], path: str
) -> None:
    world = ready_application()
    api = api_for(client, world.applicant)
    response = api.put(f"/api/v1/applications/{world.application.id}/plan", json=sent)
    error = assert_error(response, 422)
    assert path in error["fields"], error["fields"]
    assert all(isinstance(messages, list) for messages in error["fields"].values())
    db.session.expire_all()
    assert [m.tranche_amount for m in world.application.plan] == [
        600_000_000,
        800_000_000,
        1_000_000_000,
    ]
    assert audits("application.replace_plan") == 1


def test_plan_messages_are_readable(app: Flask, client: FlaskClient) -> None:
    world = ready_application()
    api = api_for(client, world.applicant)
    sent = {"milestones": [milestone("2027-01-31", 1), milestone("2027-01-31", 1)]}
    path = f"/api/v1/applications/{world.application.id}/plan"
    error = assert_error(api.put(path, json=sent, headers={"Accept-Language": "en"}), 422)
    assert error["fields"] == {
        "milestones.1.due_date": ["Each milestone must be due after the one before it."]
    }


@pytest.mark.parametrize(
    ("language", "refusal"),
    [
        ("ja", "期日は事業期間内（2026年6月1日～2029年3月31日）である必要があります。"),
        ("en", "The due date must be within the project period (1 Jun 2026 to 31 Mar 2029)."),
    ],
)
def test_a_plan_refusal_is_keyed_by_path_in_the_callers_language(
    app: Flask, client: FlaskClient, language: str, refusal: str
) -> None:
    world = ready_application()
    sent = {"milestones": [milestone("2026-12-31", 1), milestone("2029-04-01", 1)]}
    path = f"/api/v1/applications/{world.application.id}/plan"
    headers = {"Accept-Language": language}
    error = assert_error(
        api_for(client, world.applicant).put(path, json=sent, headers=headers), 422
    )
    assert error["fields"] == {"milestones.1.due_date": [refusal]}


def test_the_plan_warnings_are_in_the_callers_language(app: Flask, client: FlaskClient) -> None:
    world = ready_application(tranches=(600_000_000, 800_000_000, 999_999_999))
    detail = api_for(client, world.applicant).get(f"/api/v1/applications/{world.application.id}")
    assert detail.get_json()["warnings"] == [
        "トランシェの合計は23億9,999万9,999円ですが、申請補助金額は24億円です。"
    ]


def test_an_application_says_what_the_caller_may_do_now(app: Flask, client: FlaskClient) -> None:
    world = ready_application()
    path = f"/api/v1/applications/{world.application.id}"
    draft = {"may_edit": True, "may_submit": True, "may_withdraw": True, "may_screen": False}
    assert api_for(client, world.applicant).get(path).get_json()["actions"] == draft
    submitted = api_for(client, world.applicant).post(f"{path}/submit").get_json()
    assert submitted["actions"] == draft | {"may_edit": False, "may_submit": False}
    officer = api_as(client, Role.officer).get(path).get_json()["actions"]
    assert officer == dict.fromkeys(draft, False) | {"may_screen": True}


# ---- co-investments --------------------------------------------------------------------------


def test_applicant_replaces_the_co_investments(app: Flask, client: FlaskClient) -> None:
    world = ready_application()
    second = make_certified_vc().organization
    api = api_for(client, world.applicant)
    sent = {
        "co_investments": [
            {"vc_organization_id": second.id, "committed_amount": 300_000_000},
            {"vc_organization_id": world.vc.id, "committed_amount": 1_500_000_000, "is_lead": True},
        ]
    }
    response = api.put(f"/api/v1/applications/{world.application.id}/co-investments", json=sent)
    assert response.status_code == 200, response.get_json()
    declared = {c["vc_organization_id"]: c for c in response.get_json()["co_investments"]}
    assert declared[second.id]["is_lead"] is False and declared[second.id]["vc_name"] == second.name
    assert declared[world.vc.id]["committed_amount"] == 1_500_000_000
    assert audits("application.set_co_investments") == 2
    cleared = api.put(
        f"/api/v1/applications/{world.application.id}/co-investments", json={"co_investments": []}
    )
    assert cleared.get_json()["co_investments"] == [] and count(CoInvestment) == 0


def _co(vc: int | str, amount: Any = 100_000_000, lead: Any = False) -> dict[str, Any]:
    return {"vc_organization_id": vc, "committed_amount": amount, "is_lead": lead}


@pytest.mark.parametrize(
    ("items", "path"),
    [
        # the applicant itself (any other organisation may invest: issue 23)
        (lambda w, u: [_co(w.application.organization_id)], "co_investments.0.vc_organization_id"),
        (lambda w, u: [_co(w.vc.id), _co(w.vc.id)], "co_investments.1.vc_organization_id"),
        (lambda w, u: [_co(999_999)], "co_investments.0.vc_organization_id"),
        (lambda w, u: [_co("abc")], "co_investments.0.vc_organization_id"),
        (lambda w, u: [_co(w.vc.id, 0)], "co_investments.0.committed_amount"),
        (lambda w, u: [_co(w.vc.id, -5)], "co_investments.0.committed_amount"),
        (lambda w, u: [_co(w.vc.id, lead="maybe")], "co_investments.0.is_lead"),
        (lambda w, u: [_co(w.vc.id, lead=True), _co(u.id, lead=True)], "co_investments"),
    ],
)
def test_invalid_co_investments_name_the_field_path_and_write_nothing(
    app: Flask, client: FlaskClient, items: Any, path: str
) -> None:
    world = ready_application()
    uncertified = make_org(OrgKind.vc)
    api = api_for(client, world.applicant)
    sent = {"co_investments": items(world, uncertified)}
    response = api.put(f"/api/v1/applications/{world.application.id}/co-investments", json=sent)
    assert path in assert_error(response, 422)["fields"]
    assert audits("application.set_co_investments") == 1
    db.session.expire_all()
    assert [
        (c.vc_organization_id, c.committed_amount) for c in world.application.co_investments
    ] == [(world.vc.id, 1_000_000_001)]


# ---- submit and withdraw ---------------------------------------------------------------------


def test_applicant_submits_and_gets_the_stored_trace(app: Flask, client: FlaskClient) -> None:
    world = ready_application()
    api = api_for(client, world.applicant)
    path = f"/api/v1/applications/{world.application.id}"
    response = api.post(f"{path}/submit")
    assert response.status_code == 200, response.get_json()
    submitted = response.get_json()
    assert submitted["state"] == "submitted" and submitted["submitted_on"] == TODAY.isoformat()
    assert submitted["ruleset_version"] == 1 and submitted["ruleset_id"] == world.ruleset.id
    trace = submitted["eligibility_trace"]
    assert trace["phase"] == "eligibility" and trace["ok"] is True and submitted["eligible"] is True
    assert {"lead_vc_min", "stage_eligible"} <= {row["rule_id"] for row in trace["rows"]}
    assert audits("application.submit") == 1
    assert_error(api.post(f"{path}/submit"), 409, "conflict")
    assert audits("application.submit") == 1


def test_an_ineligible_application_is_still_submitted(app: Flask, client: FlaskClient) -> None:
    world = ready_application(
        stage="phase1",
        eligible_cost=1_200_000_000,
        requested_subsidy=800_000_000,
        tranches=(200_000_000, 300_000_000, 300_000_000),
        lead=500_000_000,
    )
    submitted = api_for(client, world.applicant).post(
        f"/api/v1/applications/{world.application.id}/submit"
    )
    assert submitted.status_code == 200 and submitted.get_json()["eligible"] is False
    rows = {row["rule_id"]: row for row in submitted.get_json()["eligibility_trace"]["rows"]}
    assert rows["lead_vc_min"]["outcome"] == "fail"


def test_an_incomplete_draft_cannot_be_submitted(app: Flask, client: FlaskClient) -> None:
    world = ready_application()
    applicant = world.applicant
    draft = applications.create_draft(applicant, application_data(world.program))
    api = api_for(client, applicant)
    error = assert_error(api.post(f"/api/v1/applications/{draft.id}/submit"), 422)
    assert "milestones" in error["fields"]
    applications.replace_plan(
        applicant,
        draft.id,
        [
            applications.MilestoneData(
                "M", (applications.CriterionData("a", "b", "c"),), DUE_DATES[0], 5
            )
        ],
    )
    error = assert_error(api.post(f"/api/v1/applications/{draft.id}/submit"), 422)
    assert list(error["fields"]) == ["milestones"]  # the tranches do not add up
    assert audits("application.submit") == 0
    db.session.expire_all()
    assert db.session.get(Application, draft.id).state == ApplicationState.draft


def test_submission_outside_the_window_is_refused(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = ready_application()
    monkeypatch.setattr(common, "today", lambda: date(2027, 4, 1))
    response = api_for(client, world.applicant).post(
        f"/api/v1/applications/{world.application.id}/submit"
    )
    assert_error(response, 422)
    assert audits("application.submit") == 0


def test_applicant_withdraws(app: Flask, client: FlaskClient) -> None:
    world = submitted_application()
    api = api_for(client, world.applicant)
    path = f"/api/v1/applications/{world.application.id}/withdraw"
    response = api.post(path)
    assert response.status_code == 200 and response.get_json()["state"] == "withdrawn"
    assert audits("application.withdraw") == 1
    assert_error(api.post(path), 409, "conflict")
    assert_error(api.post(f"/api/v1/applications/{world.application.id}/submit"), 409)
    assert audits("application.withdraw") == 1


# ---- eligibility -----------------------------------------------------------------------------


def test_eligibility_of_a_draft_is_a_live_preview(app: Flask, client: FlaskClient) -> None:
    world = ready_application()
    api = api_for(client, world.applicant)
    path = f"/api/v1/applications/{world.application.id}/eligibility"
    answer = api.get(path).get_json()
    assert answer["source"] == "preview" and answer["ruleset_version"] == 1
    assert answer["trace"]["ok"] is True and answer["reason"] is None
    applications.set_co_investments(world.applicant, world.application.id, [])
    answer = api.get(path).get_json()
    assert answer["trace"]["ok"] is False  # the preview follows the draft
    assert count(AuditEvent, action="application.submit") == 0


def test_eligibility_once_submitted_is_the_stored_trace(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = submitted_application()
    path = f"/api/v1/applications/{world.application.id}/eligibility"
    stored = db.session.get(Application, world.application.id).eligibility_trace
    for api in (api_for(client, world.applicant), api_as(client, Role.officer)):
        answer = api.get(path).get_json()
        assert answer["source"] == "stored" and answer["trace"] == stored
        assert answer["ruleset_id"] == world.ruleset.id and answer["ruleset_version"] == 1
    monkeypatch.setattr(common, "today", lambda: date(2020, 1, 1))  # no rule set in force then
    assert api_as(client, Role.officer).get(path).get_json()["trace"] == stored


def test_eligibility_without_a_rule_set_in_force(app: Flask, client: FlaskClient) -> None:
    program = make_bare_program(application_closes=date(2027, 3, 31))  # no rule set at all
    applicant = make_applicant()
    draft = applications.create_draft(applicant, application_data(program, theme="rare_disease"))
    api = api_for(client, applicant)
    answer = api.get(f"/api/v1/applications/{draft.id}/eligibility").get_json()
    assert answer["trace"] is None and answer["source"] == "none"
    assert answer["reason"] == "no_ruleset_in_force" and answer["message"]
    applications.withdraw(applicant, draft.id)
    answer = api.get(f"/api/v1/applications/{draft.id}/eligibility").get_json()
    assert answer["trace"] is None and answer["reason"] == "not_submitted"


# ---- the certified VC registry ---------------------------------------------------------------


def test_certified_vc_registry_for_every_role(app: Flask, client: FlaskClient) -> None:
    current = make_certified_vc(make_org(OrgKind.vc, name="A Capital"), date(2024, 1, 1))
    expired = make_certified_vc(
        make_org(OrgKind.vc, name="B Capital"), date(2020, 1, 1), date(2025, 12, 31)
    )
    revoked = make_certified_vc(make_org(OrgKind.vc, name="C Capital"), date(2021, 4, 1))
    certifications.revoke_certification(SYSTEM, revoked.id, date(2026, 3, 1), "Lapsed")
    renewed = make_org(OrgKind.vc, name="D Capital")
    make_certified_vc(renewed, date(2019, 1, 1), date(2023, 12, 31))
    make_certified_vc(renewed, date(2024, 1, 1))
    make_org(OrgKind.vc, name="E Capital (never certified)")
    make_org(OrgKind.startup, name="F Pharma")
    expected = [
        (current.organization_id, "certified", True, "2024-01-01", None, None),
        (expired.organization_id, "expired", False, "2020-01-01", "2025-12-31", None),
        (revoked.organization_id, "revoked", False, "2021-04-01", None, "2026-03-01"),
        (renewed.id, "certified", True, "2024-01-01", None, None),
    ]
    for role in Role:
        page = api_as(client, role).get("/api/v1/certified-vcs").get_json()
        assert page["total"] == 4
        assert [
            (
                v["id"],
                v["status"],
                v["certified_today"],
                v["certified_on"],
                v["expires_on"],
                v["revoked_on"],
            )
            for v in page["items"]
        ] == expected
    paged = api_as(client, Role.applicant).get("/api/v1/certified-vcs?per_page=3&page=2")
    assert [v["name"] for v in paged.get_json()["items"]] == ["D Capital"]
    assert (
        "per_page"
        in assert_error(
            api_as(client, Role.applicant).get("/api/v1/certified-vcs?per_page=1000"), 422
        )["fields"]
    )
