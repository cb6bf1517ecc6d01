"""Settlement through the API: the advance flow of the milestone programme end to end,
field errors by dotted path, the two-officer rule, the notices and the ledger."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

from flask import Flask
from flask.testing import FlaskClient

from grants.core.calendar import tokyo_today
from grants.core.identity import Role
from grants.extensions import db
from grants.releases import service as releases
from grants.settlement.models import ResultsReport
from tests.support.api import ApiClient, api_as, assert_error
from tests.support.approvals import approve, officer
from tests.support.grants import GrantWorld, make_grant

TODAY = tokyo_today(datetime.now(UTC))


def _world() -> GrantWorld:
    """The milestone programme (概算払, per milestone): milestone 1 approved and paid."""
    world = make_grant(tranches=(100_000_000, 200_000_000), first_due=TODAY + timedelta(days=30))
    approve(world, world.milestones[0])
    releases.release(officer(), world.milestones[0].id, TODAY)
    return world


def _report(grantee: ApiClient, world: GrantWorld, **changes: object) -> dict:
    body = {
        "lines": [{"category": "equipment", "description": "試薬", "claimed": 90_000_000}],
        "indirect_cost": 0,
        "submit": True,
        **changes,
    }
    return grantee.put(f"/api/v1/grants/{world.grant.id}/settlement/m1", json=body)


def test_an_advance_is_settled_and_its_excess_returned(app: Flask, client: FlaskClient) -> None:
    world = _world()
    grantee = ApiClient(client, world.applicant)
    periods = grantee.get(f"/api/v1/grants/{world.grant.id}/settlement").get_json()
    assert [p["period"] for p in periods] == ["m1", "m2"]
    response = _report(grantee, world)
    assert response.status_code == 200, response.get_data(as_text=True)
    report = response.get_json()
    assert report["state"] == "submitted"
    receipt = (io.BytesIO(b"%PDF-1.4 x"), "receipt.pdf", "application/pdf")
    refused = grantee.client.post(
        f"/api/v1/settlement/reports/{report['id']}/receipts",
        data={"files": [receipt]},
        headers={"Authorization": f"Bearer {grantee.secret}"},
    )
    assert_error(refused, 409)  # submitted: no longer the grantee's to change
    inspector, confirmer = api_as(client, Role.officer), api_as(client, Role.officer)
    path = f"/api/v1/settlement/reports/{report['id']}"
    inspected = inspector.post(f"{path}/inspect", json={"lines": [{"accepted": 90_000_000}]})
    assert inspected.status_code == 200, inspected.get_data(as_text=True)
    assert_error(inspector.post(f"{path}/confirm", json={}), 403)
    error = assert_error(confirmer.post(f"{path}/confirm", json={}), 422)
    assert set(error["fields"]) == {"excess_method"}
    confirmed = confirmer.post(f"{path}/confirm", json={"excess_method": "returned"})
    assert confirmed.status_code == 201, confirmed.get_data(as_text=True)
    final = confirmed.get_json()
    assert (final["final_amount"], final["excess"]) == (60_000_000, 40_000_000)
    back = confirmer.post(
        f"/api/v1/settlement/final-amounts/{final['id']}/return",
        json={"received_on": TODAY.isoformat()},
    )
    assert back.get_json()["returned_on"] == TODAY.isoformat()
    notice = grantee.get(f"/api/v1/settlement/final-amounts/{final['id']}/notice.pdf?lang=en")
    assert notice.status_code == 200 and notice.data.startswith(b"%PDF")
    ledger = confirmer.get("/api/v1/settlement/ledger.csv", buffered=True)
    assert ledger.status_code == 200 and b"60000000" in ledger.data


def test_bad_lines_are_422_by_dotted_path_and_nothing_is_written(
    app: Flask, client: FlaskClient
) -> None:
    world = _world()
    grantee = ApiClient(client, world.applicant)
    bad = [
        {"category": "lunch", "description": "x", "claimed": 1},
        {"category": "equipment", "description": "x", "claimed": -1},
        {"category": "equipment", "description": "x", "claimed": 10**16},
    ]
    error = assert_error(_report(grantee, world, lines=bad), 422)
    assert {"lines.1.claimed", "lines.2.claimed"} <= set(error["fields"])
    error = assert_error(_report(grantee, world, lines=bad[:1]), 422)
    assert set(error["fields"]) == {"lines.0.category"}
    error = assert_error(
        grantee.put(f"/api/v1/grants/{world.grant.id}/settlement/m2", json={"lines": []}), 422
    )
    assert set(error["fields"]) == {"period"}
    assert db.session.query(ResultsReport).count() == 0


def test_others_may_not_file_or_inspect(app: Flask, client: FlaskClient) -> None:
    world = _world()
    assert_error(_report(api_as(client, Role.officer), world), 403)
    assert_error(_report(api_as(client, Role.applicant), world), 404)
    report = _report(ApiClient(client, world.applicant), world).get_json()
    grantee = ApiClient(client, world.applicant)
    path = f"/api/v1/settlement/reports/{report['id']}/inspect"
    assert_error(grantee.post(path, json={"lines": [{"accepted": 1}]}), 403)
