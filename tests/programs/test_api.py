"""/api/v1/programs and their budget pools."""

from __future__ import annotations

from datetime import date

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from grants.core.identity import Role
from grants.extensions import db
from grants.programs.models import BudgetPool, Program
from tests.support.api import api_as, assert_error
from tests.support.programs import make_pool, make_program

NEW = {
    "code": "AMED-VC-7",
    "name_ja": "創薬ベンチャーエコシステム強化事業",
    "name_en": "Drug discovery venture ecosystem programme",
    "application_opens": "2026-04-01",
    "application_closes": "2026-06-30",
    "end_date": "2031-09-30",
    "themes": ["rare_disease", "amr"],
    "modalities": ["drug"],
}


def test_list_is_paginated_for_every_signed_in_role(app: Flask, client: FlaskClient) -> None:
    for _ in range(3):
        make_program()
    for role in Role:
        body = api_as(client, role).get("/api/v1/programs?per_page=2&page=2").get_json()
        assert body["total"] == 3 and body["page"] == 2 and len(body["items"]) == 1


def test_bad_paging_is_422(app: Flask, client: FlaskClient) -> None:
    api = api_as(client, Role.applicant)
    assert "per_page" in assert_error(api.get("/api/v1/programs?per_page=0"), 422)["fields"]
    assert "page" in assert_error(api.get("/api/v1/programs?page=x"), 422)["fields"]


def test_officer_creates_and_updates_a_programme(app: Flask, client: FlaskClient) -> None:
    api = api_as(client, Role.officer)
    created = api.post("/api/v1/programs", json=NEW)
    assert created.status_code == 201, created.get_json()
    program_id = created.get_json()["id"]
    changed = api.put(f"/api/v1/programs/{program_id}", json={**NEW, "name_en": "Renamed"})
    assert changed.status_code == 200 and changed.get_json()["name_en"] == "Renamed"
    assert api.get(f"/api/v1/programs/{program_id}").get_json()["code"] == "AMED-VC-7"


def test_invalid_programmes_name_the_field_and_write_nothing(
    app: Flask, client: FlaskClient
) -> None:
    api = api_as(client, Role.officer)
    closes_early = {**NEW, "application_closes": "2026-03-01"}
    error = assert_error(api.post("/api/v1/programs", json=closes_early), 422)
    assert "application_closes" in error["fields"]
    assert (
        "themes.0"
        in assert_error(api.post("/api/v1/programs", json={**NEW, "themes": ["x"]}), 422)["fields"]
    )
    assert (
        "end_date"
        in assert_error(api.post("/api/v1/programs", json={**NEW, "end_date": "tomorrow"}), 422)[
            "fields"
        ]
    )
    assert_error(
        api.post("/api/v1/programs", data="{not json", content_type="application/json"), 400
    )
    assert db.session.scalar(select(func.count()).select_from(Program)) == 0
    api.post("/api/v1/programs", json=NEW)
    assert "code" in assert_error(api.post("/api/v1/programs", json=NEW), 422)["fields"]


@pytest.mark.parametrize("role", [Role.applicant, Role.reviewer, Role.admin])
def test_only_officers_change_programmes(app: Flask, client: FlaskClient, role: Role) -> None:
    program = make_program()
    api = api_as(client, role)
    assert_error(api.post("/api/v1/programs", json=NEW), 403, "forbidden")
    assert_error(api.put(f"/api/v1/programs/{program.id}", json=NEW), 403)
    assert_error(
        api.put(f"/api/v1/programs/{program.id}/budget-pools/2026", json={"appropriation": 1}), 403
    )


def test_unknown_programme_is_404(app: Flask, client: FlaskClient) -> None:
    api = api_as(client, Role.officer)
    assert_error(api.get("/api/v1/programs/999"), 404, "not_found")
    assert_error(api.get("/api/v1/programs/999/budget-pools"), 404)


def test_budget_pools(app: Flask, client: FlaskClient) -> None:
    pool = make_pool(appropriation=5_000_000_000)
    api = api_as(client, Role.officer)
    path = f"/api/v1/programs/{pool.program_id}/budget-pools"
    assert api.get(path).get_json() == [
        {
            "fiscal_year": 2026,
            "appropriation": 5_000_000_000,
            "committed": 0,
            "released": 0,
            "available": 5_000_000_000,
        }
    ]
    assert api.put(f"{path}/2027", json={"appropriation": 300_000_000_000}).status_code == 200
    assert len(api.get(path).get_json()) == 2
    for bad in ({"appropriation": -1}, {"appropriation": 1.5}, {"appropriation": "100"}, {}):
        assert "appropriation" in assert_error(api.put(f"{path}/2027", json=bad), 422)["fields"]
    assert db.session.scalar(
        select(BudgetPool.appropriation).where(BudgetPool.fiscal_year == 2027)
    ) == (300_000_000_000)
    assert_error(api_as(client, Role.applicant).get(path), 403)


def test_a_pool_outside_the_programmes_fiscal_years_is_422(app: Flask, client: FlaskClient) -> None:
    program = make_program(end_date=date(2029, 12, 1))
    api = api_as(client, Role.officer)
    path = f"/api/v1/programs/{program.id}/budget-pools"
    for year in (2025, 2030, 2038):
        error = assert_error(api.put(f"{path}/{year}", json={"appropriation": 0}), 422)
        assert "対象は2026年度から2029年度までです" in error["fields"]["fiscal_year"][0]
    assert api.get(path).get_json() == []
    assert api.put(f"{path}/2029", json={"appropriation": 0}).status_code == 200
