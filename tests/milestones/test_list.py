"""The milestones list across grants: each role sees the milestones of the grants it may
see; state, programme, fiscal-year, overdue and search filters; sorts; pages and API. And
the reviewer's queue: its filters and the age of each round."""

from __future__ import annotations

from datetime import date, timedelta

from flask import Flask
from flask.testing import FlaskClient

from grants.core.identity import Locale, OrgKind, Role
from grants.core.states import MilestoneState
from grants.extensions import db
from grants.milestones.evidence import service as evidence
from tests.support.api import ApiClient, api_as
from tests.support.approvals import sibling_grant
from tests.support.factories import make_org, make_user, uploads
from tests.support.grants import GrantWorld, make_grant
from tests.support.web import login

TODAY = date(2026, 10, 1)


def _worlds() -> tuple[GrantWorld, GrantWorld, GrantWorld]:
    mine = make_grant(code="ML")  # three milestones: FY2026, FY2026, FY2027
    sibling = sibling_grant(mine, "ML-0002", (5_000_000,), (date(2026, 12, 1),))
    other = make_grant(code="OT", first_due=date(2027, 9, 30))
    mine.milestones[0].overdue_since = TODAY - timedelta(days=1)
    sibling.milestones[0].title = "Lead 100% optimised"
    db.session.commit()
    return mine, sibling, other


def _titles(api: ApiClient, query: str = "") -> list[str]:
    response = api.get(f"/api/v1/milestones?{query}")
    assert response.status_code == 200, response.get_json()
    return [f"{i['grant_number']}/{i['sequence']}" for i in response.get_json()["items"]]


def test_each_role_lists_the_milestones_of_the_grants_it_sees(
    app: Flask, client: FlaskClient
) -> None:
    mine, _sibling, other = _worlds()
    everything = _titles(api_as(client, Role.officer))
    assert len(everything) == 3 + 1 + 3
    assert _titles(ApiClient(client, mine.applicant)) == [
        "ML-0001/1", "ML-0002/1", "ML-0001/2", "ML-0001/3",
    ]  # fmt: skip
    assert _titles(ApiClient(client, other.reviewers[0])) == ["OT-0001/1", "OT-0001/2", "OT-0001/3"]
    stranger = make_user(Role.applicant, make_org(OrgKind.startup))
    assert _titles(ApiClient(client, stranger)) == []


def test_filters_and_sorts(app: Flask, client: FlaskClient) -> None:
    mine, _sibling, other = _worlds()
    api = api_as(client, Role.officer)
    assert _titles(api, "overdue=true") == ["ML-0001/1"]
    assert "ML-0001/1" not in _titles(api, "overdue=false")
    assert _titles(api, "fiscal_year=2026") == ["ML-0001/1", "ML-0002/1", "ML-0001/2"]
    assert _titles(api, f"program_id={other.program.id}&sort=due_date&direction=desc") == [
        "OT-0001/3", "OT-0001/2", "OT-0001/1",
    ]  # fmt: skip
    assert _titles(api, "q=100%25") == ["ML-0002/1"]
    assert _titles(api, "state=submitted") == []
    assert _titles(api, "sort=tranche_amount")[0] == "ML-0002/1"  # 5百万円, the smallest
    login(client, make_user(Role.officer, locale=Locale.en).email)
    page = client.get("/milestones?overdue=1").get_data(as_text=True)
    assert f'data-id="{mine.milestones[0].id}"' in page and "1 item" in page
    assert 'class="badge badge-fail badge-overdue"' in page


def test_the_reviewer_queue_filters_and_shows_each_round_s_age(
    app: Flask, client: FlaskClient
) -> None:
    mine, sibling, _other = _worlds()
    for world in (mine, sibling):
        evidence.submit_evidence(
            world.applicant, world.milestones[0].id, "Done.", {0: "8"}, [], TODAY,
            upload_folder=uploads(),
        )  # fmt: skip
    reviewer = mine.reviewers[0]
    api = ApiClient(client, reviewer)
    body = api.get("/api/v1/reviewer/queue").get_json()
    assert [i["grant_number"] for i in body["items"]] == ["ML-0001", "ML-0002"]
    assert body["items"][0]["waiting_days"] >= 0 and body["items"][0]["round"] == 1
    only = api.get("/api/v1/reviewer/queue?q=optimised").get_json()["items"]
    assert [i["grant_number"] for i in only] == ["ML-0002"]
    assert (
        api.get("/api/v1/reviewer/queue?sort=grant&direction=desc").get_json()["items"][0][
            "grant_number"
        ]
        == "ML-0002"
    )
    assert api_as(client, Role.officer).get("/api/v1/reviewer/queue").status_code == 403
    login(client, reviewer.email)
    page = client.get("/reviewer/queue?fiscal_year=2026").get_data(as_text=True)
    assert page.count('class="review-row"') == 2 and 'class="muted waiting"' in page
    assert mine.milestones[0].state == MilestoneState.submitted
