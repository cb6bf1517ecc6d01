"""Input no API route may mistake: ids spelled other than canonically, bodies that are not
JSON, bytes that are not UTF-8; and the schema layer's own messages in the caller's
language, keyed by dotted paths."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from grants.accounts.tokens.models import ApiToken
from grants.awards.models import EvidenceSubmission
from grants.core.identity import Locale, Role
from grants.extensions import db
from tests.support.api import ApiClient, api_as, assert_error
from tests.support.factories import make_org, make_user
from tests.support.grants import make_grant
from tests.support.programs import make_program
from tests.support.web import csrf_token, login

NOT_CANONICAL = ["0", "01", "00{id}", "０", "１", "+1", "1.0", "9223372036854775808", "1e3"]


def _tokens() -> int:
    return db.session.scalar(select(func.count()).select_from(ApiToken)) or 0


@pytest.mark.parametrize("spelling", NOT_CANONICAL)
@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "POST", "PATCH"])
def test_an_id_not_written_canonically_finds_nothing_whatever_the_method(
    app: Flask, client: FlaskClient, spelling: str, method: str
) -> None:
    program = make_program()
    api = api_as(client, Role.officer)
    path = f"/api/v1/programs/{spelling.format(id=program.id)}"
    response = api.client.open(path, method=method, headers=api._headers(None), json={})
    assert_error(response, 404, "not_found")


def test_the_canonical_id_still_finds_its_record(app: Flask, client: FlaskClient) -> None:
    program = make_program()
    api = api_as(client, Role.officer)
    assert api.get(f"/api/v1/programs/{program.id}").status_code == 200
    assert client.get(f"/programs/0{program.id}").status_code == 404  # the web too


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/plain", '{"name": "x"}'),
        ("application/x-www-form-urlencoded", "name=x"),
        (
            "multipart/form-data; boundary=b",
            '--b\r\nContent-Disposition: form-data; name="name"\r\n\r\nx\r\n--b--\r\n',
        ),
        ("", '{"name": "x"}'),
    ],
)
def test_a_body_that_is_not_json_is_415(
    app: Flask, client: FlaskClient, content_type: str, body: str
) -> None:
    api = api_as(client, Role.officer)
    headers = {**api._headers(None), "Content-Type": content_type}
    error = assert_error(client.post("/api/v1/tokens", data=body, headers=headers), 415)
    assert error["code"] == "unsupported_media_type"
    assert _tokens() == 1  # the test client's own


def test_no_body_at_all_is_missing_data_not_415(app: Flask, client: FlaskClient) -> None:
    api = api_as(client, Role.officer)
    error = assert_error(client.post("/api/v1/tokens", headers=api._headers(None)), 422)
    assert "name" in error["fields"]


def _multipart(api: ApiClient, path: str, parts: list[tuple[bytes, bytes]]) -> TestResponse:
    """A multipart body written byte by byte: (Content-Disposition parameters, content)."""
    body = b"".join(
        b"--b\r\nContent-Disposition: form-data; " + head + b"\r\n\r\n" + content + b"\r\n"
        for head, content in parts
    )
    headers = {**api._headers(None), "Content-Type": "multipart/form-data; boundary=b"}
    return api.client.post(path, data=body + b"--b--\r\n", headers=headers)


PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\n%%EOF\n"


def test_a_form_field_that_is_not_utf8_is_refused_not_stored(
    app: Flask, client: FlaskClient
) -> None:
    world = make_grant()
    api = ApiClient(client, world.applicant)
    path = f"/api/v1/milestones/{world.milestones[0].id}/evidence"
    parts = [(b'name="narrative"', b"IC50 \xff\xfe reached"), (b'name="measured"', b"8")]
    error = assert_error(_multipart(api, path, parts), 422)
    assert list(error["fields"]) == ["narrative"]  # multipart values are read with U+FFFD
    assert "U+FFFD" in error["fields"]["narrative"][0]
    assert db.session.scalar(select(func.count()).select_from(EvidenceSubmission)) == 0


def test_a_file_name_that_is_not_utf8_is_a_400_that_says_so(
    app: Flask, client: FlaskClient
) -> None:
    world = make_grant()
    api = ApiClient(client, world.applicant)
    path = f"/api/v1/milestones/{world.milestones[0].id}/evidence"
    parts = [
        (b'name="narrative"', b"IC50 reached 8 nM."),
        (b'name="measured"', b"8"),
        (b'name="files"; filename="r\xff\xfe.pdf"', PDF),
    ]
    error = assert_error(_multipart(api, path, parts), 400, "bad_request")
    assert "UTF-8" in error["message"]
    assert db.session.scalar(select(func.count()).select_from(EvidenceSubmission)) == 0


def test_a_query_string_that_is_not_utf8_is_refused(app: Flask, client: FlaskClient) -> None:
    api = api_as(client, Role.officer)
    error = assert_error(api.get("/api/v1/applications?status=%FF%FE"), 400, "bad_request")
    assert "UTF-8" in error["message"]


def test_the_schema_layers_messages_speak_the_callers_language(
    app: Flask, client: FlaskClient
) -> None:
    api = ApiClient(client, make_user(Role.officer, locale=Locale.ja))
    sent = {"code": "", "name_ja": "x" * 201, "unexpected": 1, "themes": "rare_disease"}
    fields = assert_error(api.post("/api/v1/programs", json=sent), 422)["fields"]
    assert fields["name_en"] == ["必須の項目です。"]
    assert fields["unexpected"] == ["不明な項目です。"]
    assert fields["name_ja"] == ["長さは1以上200以下にしてください。"]
    assert fields["themes"] == ["一覧（リスト）である必要があります。"]
    english = api.post("/api/v1/programs", json=sent, headers={"Accept-Language": "en"})
    assert assert_error(english, 422)["fields"]["name_ja"] == ["Length must be between 1 and 200."]


def test_field_errors_inside_lists_are_dotted_paths(app: Flask, client: FlaskClient) -> None:
    api = api_as(client, Role.officer)
    program = make_program()
    sent = {"themes": ["rare_disease", "no-such-theme"]}
    fields = assert_error(api.put(f"/api/v1/programs/{program.id}", json=sent), 422)["fields"]
    assert "themes.1" in fields and "themes" not in fields
    assert all(not isinstance(messages, dict) for messages in fields.values())


def test_a_web_form_sent_with_bytes_that_are_not_utf8_is_refused_whole(
    app: Flask, client: FlaskClient
) -> None:
    user = make_user(Role.applicant, make_org(), locale=Locale.en)
    login(client, user.email)
    before = _tokens()
    body = f"csrf_token={csrf_token(client, '/settings/tokens')}&name=CI%FF%FEjob"
    response = client.post(
        "/settings/tokens", data=body, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 400
    assert "send its text as UTF-8" in response.get_data(as_text=True)
    assert _tokens() == before
