"""The generated OpenAPI document and its offline documentation page."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient


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
