"""The amendment requests across grants: officers filter by state, kind, programme and
text; each role's API lists the requests of the grants it may see."""

from __future__ import annotations

from datetime import date, timedelta

from flask import Flask
from flask.testing import FlaskClient

from grants.amendments import service as amendments
from grants.core.identity import Locale, Role
from tests.support.api import ApiClient, api_as
from tests.support.factories import make_user
from tests.support.grants import GrantWorld, make_grant
from tests.support.web import login

TODAY = date(2026, 6, 1)


def _requests() -> tuple[GrantWorld, GrantWorld]:
    first = make_grant(code="AMA")
    second = make_grant(code="AMB")
    for world, reason in ((first, "Supplier delay"), (second, "Ethics board 50% slower")):
        milestone = world.milestones[0]
        amendments.request_amendment(
            world.applicant, world.grant.id, "due_date", milestone.id,
            milestone.due_date + timedelta(days=20), None, reason, TODAY,
        )  # fmt: skip
    amendments.request_amendment(
        first.applicant, first.grant.id, "resplit", None, None,
        {first.milestones[1].id: 250_000_000, first.milestones[2].id: 250_000_000},
        "Rebalance", TODAY,
    )  # fmt: skip
    officer = make_user(Role.officer)
    declined = amendments.request_amendment(
        second.applicant, second.grant.id, "due_date", second.milestones[1].id,
        second.milestones[1].due_date + timedelta(days=10), None, "Holidays", TODAY,
    )  # fmt: skip
    amendments.decide_amendment(officer, declined.id, False, "No.", TODAY)
    return first, second


def _reasons(api: ApiClient, query: str = "") -> list[str]:
    response = api.get(f"/api/v1/amendments?{query}")
    assert response.status_code == 200, response.get_json()
    return [item["reason"] for item in response.get_json()["items"]]


def test_officers_filter_every_grant_s_requests(app: Flask, client: FlaskClient) -> None:
    first, second = _requests()
    api = api_as(client, Role.officer)
    assert _reasons(api) == ["Supplier delay", "Ethics board 50% slower", "Rebalance", "Holidays"]
    assert _reasons(api, "state=requested") == [
        "Supplier delay",
        "Ethics board 50% slower",
        "Rebalance",
    ]
    assert _reasons(api, "kind=resplit") == ["Rebalance"]
    assert _reasons(api, f"program_id={second.program.id}&state=declined") == ["Holidays"]
    assert _reasons(api, "q=50%25") == ["Ethics board 50% slower"]
    assert _reasons(api, "q=AMB-0001") == ["Ethics board 50% slower", "Holidays"]
    assert _reasons(api, "sort=requested&direction=desc")[0] == "Holidays"
    item = api.get("/api/v1/amendments?kind=resplit").get_json()["items"][0]
    assert item["grant_number"] == "AMA-0001" and item["milestone_title"] is None
    login(client, make_user(Role.officer, locale=Locale.en).email)
    page = client.get("/officer/amendments?state=requested&kind=due_date").get_data(as_text=True)
    assert page.count('class="amendment-row"') == 2 and "Due date change" in page
    assert f"/grants/{first.grant.id}/amendments#amendment-" in page


def test_a_grantee_lists_only_their_own_requests(app: Flask, client: FlaskClient) -> None:
    first, _second = _requests()
    assert _reasons(ApiClient(client, first.applicant)) == ["Supplier delay", "Rebalance"]
    login(client, first.applicant.email)
    assert client.get("/officer/amendments").status_code == 403
