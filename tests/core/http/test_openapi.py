"""The generated OpenAPI document and its offline documentation page."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from grants.core.identity import Role
from tests.support.api import api_as


def test_openapi_document_describes_the_api(app: Flask, client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    assert "/api/v1/programs" in spec["paths"]
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    error = spec["components"]["schemas"]["Error"]
    assert error["properties"]["error"]["$ref"].endswith("ErrorBody")
    assert "ProgramPage" in spec["components"]["schemas"]


def test_docs_page_uses_vendored_assets_only(app: Flask, client: FlaskClient, repo_root) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/api/v1/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert "Bearer &lt;token&gt;" in html  # shown as text, not taken for a tag
    assert "https://" not in html and "http://" not in html
    for asset in ("vendor/swagger-ui/swagger-ui-bundle.js", "vendor/swagger-ui/swagger-ui.css"):
        assert f"/static/{asset}" in html
        assert (repo_root / "static" / asset).is_file()
        response = client.get(f"/static/{asset}")
        assert response.status_code == 200
        response.close()
    assert (repo_root / "static" / "vendor" / "swagger-ui" / "LICENSE").is_file()


def _operations(client: FlaskClient) -> list[tuple[str, str, dict[str, Any]]]:
    spec = client.get("/api/v1/openapi.json").get_json()
    return [
        (path, method, operation)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in ("get", "post", "put", "patch", "delete")
    ]


def _is_error(response: dict[str, Any]) -> bool:
    schema = response["content"]["application/json"]["schema"]
    return schema == {"$ref": "#/components/schemas/Error"}


def test_every_operation_lists_the_errors_the_conventions_give(
    app: Flask, client: FlaskClient
) -> None:
    operations = _operations(client)
    assert len(operations) > 50
    for path, method, operation in operations:
        responses = operation["responses"]
        expected = {"401", "403", "503"}
        if "{" in path:
            expected.add("404")
        content = operation.get("requestBody", {}).get("content", {})
        if "application/json" in content:
            expected |= {"400", "413", "415", "422"}
        if "multipart/form-data" in content:
            expected |= {"400", "413", "422"}
        if any(p["in"] == "query" for p in operation.get("parameters", [])):
            expected |= {"400", "422"}
        assert expected <= set(responses), (method, path, sorted(responses))
        assert all(_is_error(responses[s]) for s in expected if "content" in responses[s])


def test_an_operations_own_error_text_is_kept(app: Flask, client: FlaskClient) -> None:
    operations = {(path, method): op for path, method, op in _operations(client)}
    evidence = operations[("/api/v1/milestones/{milestone_id}/evidence", "post")]
    assert evidence["responses"]["413"]["description"] == "The upload is too large."


def test_a_204_has_no_content_in_the_document_nor_in_the_answer(
    app: Flask, client: FlaskClient
) -> None:
    for _path, _method, operation in _operations(client):
        if "204" in operation["responses"]:
            assert "content" not in operation["responses"]["204"]
    api = api_as(client, Role.applicant)
    token = api.post("/api/v1/tokens", json={"name": "short-lived"}).get_json()
    response = api.delete(f"/api/v1/tokens/{token['id']}")
    assert response.status_code == 204 and response.data == b""
    assert "Content-Type" not in response.headers
