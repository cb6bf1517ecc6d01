"""The applications list and the screening queue: who sees which, the state, programme,
fiscal-year and search filters, and the sorts, in the pages and the API."""

from __future__ import annotations

from datetime import date

from flask import Flask
from flask.testing import FlaskClient

from grants.applications.models import Application
from grants.core.identity import Locale, Role
from grants.extensions import db
from tests.support.api import ApiClient, api_as
from tests.support.applications import (
    ApplicationWorld,
    ready_application,
    screened_application,
    submitted_application,
)
from tests.support.factories import make_user
from tests.support.web import login


def _worlds() -> dict[str, ApplicationWorld]:
    """A draft, a submitted and a screened application, in two programmes."""
    worlds = {
        "draft": ready_application(),
        "submitted": submitted_application(),
        "screened": screened_application(),
    }
    titles = {"draft": "Zebrafish model", "submitted": "Antibody 100%", "screened": "Phage therapy"}
    for name, world in worlds.items():
        world.application.title = titles[name]
    worlds["submitted"].application.submitted_on = date(2027, 5, 1)  # fiscal year 2027
    worlds["screened"].application.submitted_on = date(2026, 5, 1)
    db.session.commit()
    return worlds


def _api_titles(api: ApiClient, query: str = "") -> list[str]:
    response = api.get(f"/api/v1/applications?{query}")
    assert response.status_code == 200, response.get_json()
    return [item["title"] for item in response.get_json()["items"]]


def _web_titles(client: FlaskClient, path: str) -> list[str]:
    page = client.get(path).get_data(as_text=True)
    return [
        application.title
        for application in db.session.query(Application).order_by(Application.id)
        if f'data-id="{application.id}"' in page
    ]


def test_officers_filter_every_application(app: Flask, client: FlaskClient) -> None:
    worlds = _worlds()
    api = api_as(client, Role.officer)
    assert sorted(_api_titles(api)) == ["Antibody 100%", "Phage therapy", "Zebrafish model"]
    assert _api_titles(api, "status=submitted") == ["Antibody 100%"]
    assert _api_titles(api, "fiscal_year=2027") == ["Antibody 100%"]
    assert _api_titles(api, "q=100%25") == ["Antibody 100%"]  # % is a character, not a wildcard
    assert _api_titles(api, "q=100") == ["Antibody 100%"]
    org_name = worlds["screened"].org.name
    assert _api_titles(api, f"q={org_name}") == ["Phage therapy"]
    program = worlds["draft"].program.id
    assert _api_titles(api, f"program_id={program}") == ["Zebrafish model"]
    assert _api_titles(api, "sort=title") == ["Antibody 100%", "Phage therapy", "Zebrafish model"]
    assert _api_titles(api, "sort=state&direction=desc") == [
        "Phage therapy",  # screened, then submitted, then the draft: the lifecycle's order
        "Antibody 100%",
        "Zebrafish model",
    ]
    login(client, make_user(Role.officer, locale=Locale.en).email)
    assert _web_titles(client, "/applications?state=screened_eligible&q=phage") == ["Phage therapy"]
    page = client.get("/applications").get_data(as_text=True)
    assert "3 items" in page and worlds["draft"].org.name in page


def test_an_applicant_lists_only_their_organisation_s(app: Flask, client: FlaskClient) -> None:
    worlds = _worlds()
    mine = worlds["submitted"].applicant
    assert _api_titles(ApiClient(client, mine)) == ["Antibody 100%"]
    assert _api_titles(ApiClient(client, mine), "q=Phage") == []
    login(client, mine.email)
    assert _web_titles(client, "/applications?q=a") == ["Antibody 100%"]
    assert api_as(client, Role.reviewer).get("/api/v1/applications").status_code == 403


def test_the_screening_queue_filters_its_states(app: Flask, client: FlaskClient) -> None:
    _worlds()
    api = api_as(client, Role.officer)

    def queue(query: str) -> list[str]:
        return [item["title"] for item in api.get(f"/api/v1/screening?{query}").get_json()["items"]]

    assert queue("") == ["Phage therapy", "Antibody 100%"]  # oldest submission first
    assert queue("state=submitted") == ["Antibody 100%"]
    assert queue("sort=submitted_on&direction=desc") == ["Antibody 100%", "Phage therapy"]
    assert queue("fiscal_year=2026&q=phage") == ["Phage therapy"]
    assert api.get("/api/v1/screening?state=draft").status_code == 422  # not in the queue
    login(client, make_user(Role.officer, locale=Locale.en).email)
    page = client.get("/officer/screening?state=submitted").get_data(as_text=True)
    assert "Antibody 100%" in page and "Phage therapy" not in page
