"""Bodies that are not JSON, or JSON nested past the parser's recursion limit."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from grants.core.identity import Role
from tests.support.api import api_as, assert_error

NESTED = "[" * 5_000 + "]" * 5_000


def _write_routes(app: Flask) -> list[tuple[str, str]]:
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = re.sub(r"<[^>]+>", "1", rule.rule)
        found += [(method, path) for method in sorted(rule.methods & {"POST", "PUT", "PATCH"})]
    return found


def test_no_endpoint_fails_on_a_deeply_nested_body(app: Flask, client: FlaskClient) -> None:
    bearer = {"Authorization": f"Bearer {api_as(client, Role.officer).secret}"}
    routes = _write_routes(app)
    assert len(routes) > 10
    for method, path in routes:
        response = client.open(
            path, method=method, data=NESTED, content_type="application/json", headers=bearer
        )
        assert response.status_code < 500, (method, path, response.status_code)
        if response.status_code >= 400:  # endpoints without a body ignore it
            assert_error(response, response.status_code)


@pytest.mark.parametrize(
    ("locale", "nested", "malformed"),
    [
        ("en", "The JSON body is nested too deeply.", "The body is not valid JSON."),
        ("ja", "JSON の入れ子が深すぎます。", "本文が正しい JSON ではありません。"),
    ],
)
def test_a_nested_or_malformed_body_is_named_in_the_clients_language(
    app: Flask, client: FlaskClient, locale: str, nested: str, malformed: str
) -> None:
    api = api_as(client, Role.applicant)
    for body, expected in ((NESTED, nested), ("{not json", malformed)):
        response = api.post(
            "/api/v1/tokens",
            data=body,
            content_type="application/json",
            headers={"Accept-Language": locale},
        )
        assert assert_error(response, 400, "bad_request")["message"] == expected


@pytest.mark.parametrize("depth", [600, 900])
def test_a_body_json_reads_but_too_deep_to_check_for_control_characters_answers_400(
    client: FlaskClient, depth: int
) -> None:
    """json reads these depths; walking the strings of a field nested this deep would not."""
    api = api_as(client, Role.applicant)
    body = '{"name": ' + "[" * depth + "]" * depth + "}"
    response = api.post("/api/v1/tokens", data=body, content_type="application/json")
    assert assert_error(response, 400, "bad_request")["message"] == "JSON の入れ子が深すぎます。"
