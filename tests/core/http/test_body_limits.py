"""Body limits per route, checked before the body is read: uploads may be large, every other
form and JSON body is small; too long a number or string in a JSON body is a 422."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import TestResponse, encode_multipart

from grants.accounts.tokens.models import ApiToken
from grants.applications.models import Application
from grants.awards.models import EvidenceSubmission
from grants.core.identity import Role
from grants.extensions import db
from grants.rulesets.models import RuleSet
from tests.support.api import ApiClient, api_as, assert_error
from tests.support.factories import make_user
from tests.support.grants import GrantWorld, make_grant
from tests.support.web import csrf_token, login, post_form

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\n%%EOF\n"
LIMIT = 1024 * 1024


class WatchedStream(io.BytesIO):
    """A request body that records whether anything read it."""

    def __init__(self, data: bytes = b"") -> None:
        super().__init__(data)
        self.was_read = False

    def read(self, *args: Any) -> bytes:
        self.was_read = True
        return super().read(*args)

    def readline(self, *args: Any) -> bytes:
        self.was_read = True
        return super().readline(*args)


def _count(model: type) -> int:
    return int(db.session.scalar(select(func.count()).select_from(model)) or 0)


def _declared(
    client: FlaskClient, path: str, length: int, headers: dict[str, str] | None = None, **kw: Any
) -> tuple[TestResponse, WatchedStream]:
    """POST declaring `length` bytes of body; the stream behind it records any read."""
    stream = WatchedStream(b"{}")
    environ = {"CONTENT_LENGTH": str(length), "wsgi.input": stream}
    response = client.post(path, headers=headers or {}, environ_overrides=environ, **kw)
    return response, stream


def test_the_defaults_are_one_megabyte_and_twenty_for_uploads(app: Flask) -> None:
    assert app.config["FORM_BODY_MAX"] == LIMIT
    assert app.config["JSON_BODY_MAX"] == LIMIT
    assert app.config["MAX_CONTENT_LENGTH"] == 20 * LIMIT


def test_an_oversized_json_body_is_refused_unread_whatever_the_token(
    app: Flask, client: FlaskClient
) -> None:
    api = api_as(client, Role.applicant)
    for headers in ({"Authorization": f"Bearer {api.secret}"}, {}):
        response, stream = _declared(
            client, "/api/v1/tokens", LIMIT + 1, headers, content_type="application/json"
        )
        error = assert_error(response, 413, "too_large")
        assert "1,048,576" in error["message"]
        assert not stream.was_read
    assert _count(ApiToken) == 1  # the ApiClient's own


def test_the_token_is_checked_before_the_body_is_read(client: FlaskClient) -> None:
    response, stream = _declared(
        client,
        "/api/v1/tokens",
        100,
        {"Authorization": "Bearer wrong"},
        content_type="application/json",
    )
    assert_error(response, 401, "unauthorized")
    assert not stream.was_read


def test_an_oversized_form_is_refused_before_the_csrf_check_reads_it(client: FlaskClient) -> None:
    response, stream = _declared(
        client, "/login", LIMIT + 1, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 413
    assert "text/html" in response.content_type
    assert not stream.was_read


def test_the_sign_in_limit_answers_before_the_form_is_read(app: Flask, client: FlaskClient) -> None:
    user = make_user(Role.applicant)
    for _ in range(10):
        post_form(client, "/login", {"email": user.email, "password": "wrong password"})
    response, stream = _declared(
        client, "/login", 100, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 429
    assert not stream.was_read


def test_a_streamed_json_body_over_the_limit_is_a_413_and_writes_nothing(
    client: FlaskClient,
) -> None:
    api = api_as(client, Role.applicant)
    body = json.dumps({"name": "x" * (LIMIT + 10)}).encode()
    response = client.post(
        "/api/v1/tokens",
        input_stream=io.BytesIO(body),
        content_type="application/json",
        headers={"Authorization": f"Bearer {api.secret}", "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert_error(response, 413, "too_large")
    assert _count(ApiToken) == 1


def test_a_streamed_form_over_the_limit_is_a_413(client: FlaskClient) -> None:
    body = b"email=a%40b.jp&password=" + b"x" * (LIMIT + 10)
    response = client.post(
        "/login",
        input_stream=io.BytesIO(body),
        content_type="application/x-www-form-urlencoded",
        headers={"Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 413


@pytest.fixture
def world(app: Flask) -> Iterator[GrantWorld]:
    yield make_grant()


def _multipart(fields: dict[str, Any]) -> dict[str, Any]:
    """A multipart body built in memory (the test client spools a large one to a temporary
    file it never closes)."""
    boundary, body = encode_multipart(MultiDict(fields))
    return {"data": body, "content_type": f"multipart/form-data; boundary={boundary}"}


def test_uploads_keep_the_large_limit(world: GrantWorld, client: FlaskClient) -> None:
    """Two megabytes: over the small limit, within the upload limit, on the web and the API."""
    big = FileStorage(io.BytesIO(PDF + b"0" * (2 * LIMIT)), "big.pdf")
    milestone = world.milestones[0]
    api = ApiClient(client, world.applicant)
    body = _multipart({"narrative": "Done.", "measured": "8", "files": big})
    response = api.post(f"/api/v1/milestones/{milestone.id}/evidence", **body)
    assert response.status_code == 201, response.get_data(as_text=True)
    assert _count(EvidenceSubmission) == 1


def test_the_web_upload_keeps_the_large_limit(world: GrantWorld, client: FlaskClient) -> None:
    big = FileStorage(io.BytesIO(PDF + b"0" * (2 * LIMIT)), "big.pdf")
    milestone = world.milestones[0]
    login(client, world.applicant.email)
    fields = {"csrf_token": csrf_token(client, "/"), "narrative": "Done.", "measured_0": "8"}
    body = _multipart({**fields, "files": big})
    response = client.post(f"/milestones/{milestone.id}/evidence", **body)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert _count(EvidenceSubmission) == 1


def test_a_json_body_over_the_small_limit_is_refused_even_on_an_upload_sized_body(
    client: FlaskClient,
) -> None:
    api = api_as(client, Role.officer)
    body = json.dumps({"title": "t", "document": {"x": "y" * (2 * LIMIT)}})
    response = api.post("/api/v1/programs/1/rulesets", data=body, content_type="application/json")
    assert_error(response, 413, "too_large")


# --- what a body that fits may hold --------------------------------------------------------


def test_an_integer_of_thousands_of_digits_is_a_422(app: Flask, client: FlaskClient) -> None:
    """Python refuses to convert an integer of more than 4,300 digits (a ValueError inside
    json.loads); the parser refuses one of more than a hundred before converting it."""
    api = api_as(client, Role.applicant)
    for digits in (101, 5_000, 500_000):
        body = '{"program_id": ' + "9" * digits + ', "title": "x"}'
        response = api.post("/api/v1/applications", data=body, content_type="application/json")
        error = assert_error(response, 422, "unprocessable")
        assert "100" in error["message"]
    assert _count(Application) == 0


def test_a_huge_integer_inside_a_free_form_document_is_a_422(client: FlaskClient) -> None:
    api = api_as(client, Role.officer)
    body = '{"title": "t", "document": {"rules": [{"min": -' + "1" * 5_000 + "}]}}"
    response = api.post("/api/v1/programs/1/rulesets", data=body, content_type="application/json")
    assert_error(response, 422, "unprocessable")
    assert _count(RuleSet) == 0


def test_an_absurdly_long_string_is_a_422_naming_the_field(client: FlaskClient) -> None:
    api = api_as(client, Role.officer)
    body = {"title": "t", "document": {"description": "x" * 300_000}}
    response = api.post("/api/v1/programs/1/rulesets", json=body)
    error = assert_error(response, 422, "unprocessable")
    assert "200000" in error["fields"]["document.description"][0]
    assert _count(RuleSet) == 0


def test_a_long_single_line_string_is_a_422(client: FlaskClient) -> None:
    api = api_as(client, Role.applicant)
    response = api.post("/api/v1/tokens", json={"name": "x" * 20_000})
    assert "name" in assert_error(response, 422, "unprocessable")["fields"]
    assert _count(ApiToken) == 1


def test_bytes_that_are_not_utf8_are_a_400(client: FlaskClient) -> None:
    api = api_as(client, Role.applicant)
    response = api.post("/api/v1/tokens", data=b'{"name": "\xff"}', content_type="application/json")
    assert_error(response, 400, "bad_request")
