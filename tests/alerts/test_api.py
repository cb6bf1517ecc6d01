"""/api/v1/alerts: my alerts only, unread filter, mark one or all read."""

from __future__ import annotations

from datetime import date

import pytest
from flask import Flask
from flask.testing import FlaskClient

from grants.core.identity import Locale, Role
from tests.support.alerts import run_scan, staff
from tests.support.api import ApiClient, assert_error
from tests.support.grants import GrantWorld, make_grant


@pytest.fixture
def world(app: Flask) -> GrantWorld:
    world = make_grant()
    world.officer = staff(Role.officer, Locale.en)
    run_scan(date(2026, 8, 31))  # due soon: the applicant
    run_scan(date(2026, 10, 1))  # overdue: the applicant and the officer
    return world


def test_list_filter_and_mark_read(client: FlaskClient, world: GrantWorld) -> None:
    api = ApiClient(client, world.applicant)
    body = api.get("/api/v1/alerts").get_json()
    kinds = {item["kind"] for item in body["items"]}
    assert body["total"] >= 2 and {"due_soon", "overdue"} <= kinds
    assert all(item["read_at"] is None and item["text"] for item in body["items"])
    first = body["items"][0]["id"]
    marked = api.post(f"/api/v1/alerts/{first}/read")
    assert marked.status_code == 200 and marked.get_json()["read_at"] is not None
    unread = api.get("/api/v1/alerts?unread=true").get_json()
    assert unread["total"] == body["total"] - 1
    assert api.post("/api/v1/alerts/read-all").get_json() == {"marked": body["total"] - 1}
    assert api.get("/api/v1/alerts?unread=true").get_json()["total"] == 0


def test_nobody_reads_anothers_alerts(client: FlaskClient, world: GrantWorld) -> None:
    officer = ApiClient(client, world.officer)
    officers_ids = {item["id"] for item in officer.get("/api/v1/alerts").get_json()["items"]}
    applicant = ApiClient(client, world.applicant)
    mine = {item["id"] for item in applicant.get("/api/v1/alerts").get_json()["items"]}
    assert officers_ids and not officers_ids & mine
    assert_error(applicant.post(f"/api/v1/alerts/{min(officers_ids)}/read"), 404, "not_found")
    assert_error(applicant.post("/api/v1/alerts/99999999/read"), 404)


def test_bad_filters_and_no_token(client: FlaskClient, world: GrantWorld) -> None:
    api = ApiClient(client, world.applicant)
    assert "unread" in assert_error(api.get("/api/v1/alerts?unread=maybe"), 422)["fields"]
    assert_error(client.get("/api/v1/alerts"), 401)


def test_the_text_is_in_the_request_language(client: FlaskClient, world: GrantWorld) -> None:
    """The token owner's language (Japanese here), or the one Accept-Language asks for."""
    api = ApiClient(client, world.applicant)
    japanese = api.get("/api/v1/alerts").get_json()["items"]
    english = api.get("/api/v1/alerts", headers={"Accept-Language": "en"}).get_json()["items"]
    due_soon = [i for i in japanese if i["kind"] == "due_soon"][0]["text"]
    assert "の期日は 2026年9月30日 です。" in due_soon
    due_soon_en = [i for i in english if i["kind"] == "due_soon"][0]["text"]
    assert due_soon_en.startswith("Milestone 1 ") and "is due on 30 Sep 2026." in due_soon_en
    assert_error(
        ApiClient(client, world.applicant).post("/api/v1/alerts/99999999/read"), 404, "not_found"
    )
