"""Releasing several tranches at once: each its own release (every gate checked, exactly
once), each outcome reported, in the pages, the service and the API (with an
Idempotency-Key per tranche); two bulk releases racing over the same tranches on
PostgreSQL release each once."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from grants.alerts.models import Alert
from grants.awards.models import Disbursement
from grants.core.alert_kinds import AlertKind
from grants.core.audit import verify_chain
from grants.core.errors import Conflict, NotFound, RuleViolation
from grants.core.identity import Locale, Role
from grants.core.models import AuditEvent, IdempotencyKey
from grants.extensions import db
from grants.releases import service as releases
from tests.support.api import ApiClient, api_as, assert_error
from tests.support.approvals import approve, officer, sibling_grant
from tests.support.factories import make_user
from tests.support.grants import GrantWorld, make_grant
from tests.support.races import at_once
from tests.support.web import login, post_form

TODAY = date(2026, 10, 15)
NOWHERE = 999_999
KEY = "Idempotency-Key"


@dataclass
class Mix:
    """Tranches in every situation a bulk release meets."""

    world: GrantWorld
    ready: list[int]  # approved, gates pass: released
    planned: int  # not approved: refused (409)
    gated: int  # approved, but an earlier milestone is not: a gate fails (422)


@pytest.fixture
def mix(app: Flask) -> Mix:
    world = make_grant()
    sibling = sibling_grant(world, "MS-TEST-0002")
    approve(world, world.milestones[0])
    approve(sibling, sibling.milestones[0])
    approve(world, world.milestones[2])  # the second one is still planned
    return Mix(
        world,
        ready=[world.milestones[0].id, sibling.milestones[0].id],
        planned=world.milestones[1].id,
        gated=world.milestones[2].id,
    )


def _disbursed() -> list[int]:
    db.session.expire_all()
    return sorted(db.session.scalars(select(Disbursement.milestone_id)))


def _told() -> list[int]:
    """The milestones whose release told the grantee, once per alert."""
    query = select(Alert.milestone_id).where(Alert.kind == AlertKind.tranche_released)
    return sorted(m for m in db.session.scalars(query) if m is not None)


def _events() -> int:
    query = select(func.count()).select_from(AuditEvent).filter_by(action="tranche.release")
    return db.session.scalar(query) or 0


# --- the service ---------------------------------------------------------------------------


def test_each_tranche_is_released_or_refused_on_its_own(mix: Mix) -> None:
    chosen = [*mix.ready, mix.planned, NOWHERE, mix.gated, mix.ready[0]]
    outcomes = releases.release_each(officer(mix.world), chosen, TODAY)
    assert [o.milestone_id for o in outcomes] == chosen[:-1]  # each once, in order
    assert [o.released for o in outcomes] == [True, True, False, False, False]
    refusals = [type(o.refusal) for o in outcomes[2:]]
    assert refusals == [Conflict, NotFound, RuleViolation]
    assert "All earlier milestones approved" in str(outcomes[4].refusal)
    assert _disbursed() == sorted(mix.ready) and _events() == 2
    assert _told() == sorted(mix.ready)  # the grantee told of each release, once
    # again: every one refused, nothing released twice
    again = releases.release_each(officer(mix.world), mix.ready, TODAY)
    assert [type(o.refusal) for o in again] == [Conflict, Conflict]
    assert _disbursed() == sorted(mix.ready) and _told() == sorted(mix.ready)
    assert verify_chain().ok


def test_a_bulk_release_names_one_to_a_hundred_tranches(mix: Mix) -> None:
    for chosen in ([], list(range(1, releases.BULK_MAX + 2))):
        with pytest.raises(RuleViolation):
            releases.release_each(officer(mix.world), chosen, TODAY)
    assert _disbursed() == []


def test_an_administrator_and_a_reviewer_of_the_milestone_release_nothing(mix: Mix) -> None:
    for actor in (make_user(Role.admin), mix.world.reviewers[0]):
        outcomes = releases.release_each(actor, mix.ready, TODAY)
        assert not any(o.released for o in outcomes)
    assert _disbursed() == []


# --- the pages -----------------------------------------------------------------------------


def _officer(client: FlaskClient) -> None:
    login(client, make_user(Role.officer, locale=Locale.en).email)


def test_tick_confirm_and_read_each_outcome(mix: Mix, client: FlaskClient) -> None:
    _officer(client)
    queue = client.get("/officer/milestones/awaiting-release").get_data(as_text=True)
    for milestone_id in [*mix.ready, mix.gated]:
        assert f'name="milestone_id" value="{milestone_id}"' in queue
    query = "&".join(f"milestone_id={i}" for i in [*mix.ready, mix.gated, mix.planned])
    confirm = client.get(f"/officer/milestones/bulk-release?{query}")
    page = confirm.get_data(as_text=True)
    assert confirm.status_code == 200 and _disbursed() == []  # nothing moves yet
    assert "These 3 tranches will be released" in page
    assert "No longer awaiting release" in page and "Milestone 2" in page  # the planned one
    assert 'id="bulk-total">¥500,000,000<' in page  # two of 100M and one of 300M
    response = post_form(
        client,
        "/officer/milestones/bulk-release",
        {"milestone_id": [*mix.ready, mix.gated]},
    )
    result = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "2 tranches released (¥200,000,000); 1 refused." in result
    assert result.count('class="outcome-released"') == 2
    assert 'class="outcome-refused"' in result and "All earlier milestones approved" in result
    assert _disbursed() == sorted(mix.ready)


def test_nothing_ticked_goes_back_to_the_queue(mix: Mix, client: FlaskClient) -> None:
    _officer(client)
    for response in (
        client.get("/officer/milestones/bulk-release?milestone_id=abc"),
        post_form(client, "/officer/milestones/bulk-release", {"milestone_id": "0"}),
    ):
        assert response.status_code == 302
        assert response.headers["Location"].endswith("/officer/milestones/awaiting-release")
    ids = {"milestone_id": [str(n) for n in range(1, releases.BULK_MAX + 2)]}
    too_many = post_form(client, "/officer/milestones/bulk-release", ids)
    assert too_many.status_code == 302 and _disbursed() == []


def test_the_confirmation_needs_the_form_token(mix: Mix, client: FlaskClient) -> None:
    _officer(client)
    response = client.post("/officer/milestones/bulk-release", data={"milestone_id": mix.ready})
    assert response.status_code == 400 and _disbursed() == []


# --- the API -------------------------------------------------------------------------------


def _bulk(api: ApiClient, ids: list[int], key: str | None = None) -> Any:
    headers = {KEY: key} if key else {}
    return api.post("/api/v1/releases/bulk", json={"milestone_ids": ids}, headers=headers)


def test_the_api_answers_each_tranche_as_its_single_release_would(
    mix: Mix, client: FlaskClient
) -> None:
    api = ApiClient(client, officer(mix.world))
    response = _bulk(api, [*mix.ready, mix.planned, NOWHERE, mix.gated])
    assert response.status_code == 200
    body = response.get_json()
    assert (body["released"], body["refused"]) == (2, 3)
    statuses = [(item["milestone_id"], item["status"], item["outcome"]) for item in body["items"]]
    assert statuses == [
        (mix.ready[0], 201, "released"),
        (mix.ready[1], 201, "released"),
        (mix.planned, 409, "refused"),
        (NOWHERE, 404, "refused"),
        (mix.gated, 422, "refused"),
    ]
    first = body["items"][0]
    assert first["disbursement"]["amount"] == 100_000_000 and first["error"] is None
    assert body["items"][4]["error"]["code"] and "gates" in body["items"][4]["error"]["fields"]
    assert _disbursed() == sorted(mix.ready)


def test_a_retry_with_the_same_key_replays_each_tranche(mix: Mix, client: FlaskClient) -> None:
    api = ApiClient(client, officer(mix.world))
    first = _bulk(api, [mix.ready[0], mix.planned], key="batch-7").get_json()
    again = _bulk(api, [mix.ready[0], mix.planned, mix.ready[1]], key="batch-7").get_json()
    assert [i["replayed"] for i in first["items"]] == [False, False]
    assert [i["replayed"] for i in again["items"]] == [True, True, False]
    assert again["items"][0] == {**first["items"][0], "replayed": True}
    assert again["items"][1] == {**first["items"][1], "replayed": True}
    assert again["items"][2]["status"] == 201  # a tranche added on the retry is released
    assert _disbursed() == sorted(mix.ready) and _events() == 2
    assert _told() == sorted(mix.ready)  # a replay tells nobody again
    keys = db.session.scalars(select(IdempotencyKey.key).order_by(IdempotencyKey.key)).all()
    assert keys == [f"batch-7#{i}" for i in sorted([*mix.ready, mix.planned], key=str)]
    # each tranche's key is the single release's: the same answer there too
    single = api.post(
        f"/api/v1/milestones/{mix.ready[0]}/release", headers={KEY: f"batch-7#{mix.ready[0]}"}
    )
    assert single.status_code == 201 and single.headers["Idempotent-Replayed"] == "true"


def test_bad_bulk_requests_are_refused_whole(mix: Mix, client: FlaskClient) -> None:
    api = ApiClient(client, officer(mix.world))
    for body in ({"milestone_ids": []}, {"milestone_ids": list(range(1, 102))}, {}):
        assert_error(api.post("/api/v1/releases/bulk", json=body), 422)
    assert_error(api.post("/api/v1/releases/bulk", json={"milestone_ids": ["1"]}), 422)
    assert_error(_bulk(api, mix.ready, key="k" * 190), 422)
    assert_error(_bulk(api, mix.ready, key="with space"), 422)
    assert_error(_bulk(api_as(client, Role.admin), mix.ready), 403)
    assert_error(_bulk(api_as(client, Role.reviewer), mix.ready), 403)
    assert _disbursed() == []


# --- races (PostgreSQL: SQLite serialises whole transactions) ---------------------------


def test_two_bulk_releases_over_the_same_tranches_release_each_once(app: Flask) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("Row-lock races need PostgreSQL. Run with GRANTS_TEST_DATABASE=postgresql.")
    world = make_grant()
    worlds = [world] + [sibling_grant(world, f"RACE-{n}") for n in range(4)]
    for each in worlds:
        approve(each, each.milestones[0])
    chosen = [each.milestones[0].id for each in worlds]
    officers = [officer().id, officer().id]
    db.session.rollback()  # the test's own session holds nothing while the threads run

    def bulk(actor: Any, ids: list[int]) -> list[releases.Outcome]:
        return releases.release_each(actor, ids, TODAY)

    # one goes forwards, the other backwards: they meet in the middle
    results = at_once(app, bulk, [(officers[0], chosen), (officers[1], chosen[::-1])])
    assert all(isinstance(result, list) for result in results), results
    released = Counter(o.milestone_id for result in results for o in result if o.released)
    assert released == Counter(chosen)  # each tranche once, by one of the two
    refused = [o.refusal for result in results for o in result if not o.released]
    assert len(refused) == len(chosen) and all(isinstance(r, Conflict) for r in refused)
    assert _disbursed() == sorted(chosen) and _events() == len(chosen)
    assert _told() == sorted(chosen)  # each grantee told once, by the release that won
    assert verify_chain().ok
