"""The administrators' lists of users and organisations: status, role and kind filters,
searches, sorts, in the pages and the API; nobody else reads them."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from grants.core.identity import OrgKind, Role
from tests.support.api import api_as
from tests.support.factories import make_org, make_user
from tests.support.web import login


def test_users_by_status_role_and_text(app: Flask, client: FlaskClient) -> None:
    org = make_org(OrgKind.university, name="Kyoto Lab")
    make_user(Role.reviewer, org, email="kato@example.jp")
    make_user(Role.reviewer, active=False, email="sato@example.jp")
    make_user(Role.officer, email="ito@example.jp")
    api = api_as(client, Role.admin)

    def emails(query: str) -> list[str]:
        response = api.get(f"/api/v1/users?{query}")
        assert response.status_code == 200, response.get_json()
        return [item["email"] for item in response.get_json()["items"]]

    assert emails("kind=reviewer") == ["kato@example.jp", "sato@example.jp"]
    assert emails("kind=reviewer&state=inactive") == ["sato@example.jp"]
    assert emails("q=ＫＡＴＯ") == ["kato@example.jp"]  # full-width, as addresses are stored
    assert emails("q=to@&sort=email&direction=desc") == [
        "sato@example.jp",
        "kato@example.jp",
        "ito@example.jp",
    ]
    assert emails("sort=organization")[0] == "kato@example.jp"
    item = api.get("/api/v1/users?q=kato").get_json()["items"][0]
    assert item["organization_name"] == "Kyoto Lab" and item["role"] == "reviewer"
    assert api_as(client, Role.officer).get("/api/v1/users").status_code == 403
    admin = make_user(Role.admin)
    login(client, admin.email)
    page = client.get("/admin/users?state=inactive").get_data(as_text=True)
    assert "sato@example.jp" in page and "kato@example.jp" not in page


def test_organisations_by_kind_and_text(app: Flask, client: FlaskClient) -> None:
    make_org(OrgKind.vc, name="Aozora Ventures", name_en="Blue Sky VC")
    make_org(OrgKind.startup, name="Sakura Bio")
    numbered = make_org(OrgKind.startup, name="Mirai Therapeutics")
    api = api_as(client, Role.admin)

    def names(query: str) -> list[str]:
        return [i["name"] for i in api.get(f"/api/v1/organizations?{query}").get_json()["items"]]

    assert names("kind=startup") == ["Mirai Therapeutics", "Sakura Bio"]
    assert names("q=blue sky") == ["Aozora Ventures"]
    assert names(f"q={numbered.corporate_number}") == ["Mirai Therapeutics"]
    assert names("sort=kind")[-1] == "Aozora Ventures"  # startups first, VCs last
    assert api_as(client, Role.officer).get("/api/v1/organizations").status_code == 403
    login(client, make_user(Role.admin).email)
    assert "Sakura Bio" not in client.get("/admin/organizations?kind=vc").get_data(as_text=True)
