"""Importing a certified-VC list (CSV): each line's outcome, and nothing written when any line
is wrong; on the certified-VC page and in the API."""

from __future__ import annotations

import io
from datetime import date

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from grants.accounts.certified_vcs import service as certifications
from grants.accounts.certified_vcs.models import VcCertification
from grants.accounts.certified_vcs.rules import read_list
from grants.accounts.models import Organization
from grants.core.actors import SYSTEM
from grants.core.errors import NotAllowed, RuleViolation
from grants.core.identity import Locale, OrgKind, Role
from grants.core.models import AuditEvent
from grants.extensions import db
from tests.support.api import ApiClient, assert_error
from tests.support.factories import make_org, make_user, valid_corporate_number
from tests.support.i18n import said
from tests.support.programs import make_certified_vc
from tests.support.web import login, post_form


def _vcs() -> tuple[Organization, Organization]:
    return make_org(OrgKind.vc, name="ひかりキャピタル"), make_org(OrgKind.vc, name="Blue VC")


def _csv(*lines: str, encoding: str = "utf-8-sig") -> bytes:
    return "\r\n".join(lines).encode(encoding)


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(VcCertification)) or 0


def test_a_list_in_japanese_columns_and_shift_jis_is_imported(app: Flask) -> None:
    hikari, blue = _vcs()
    data = _csv(
        "名称,法人番号,認定日,有効期限,備考",
        f"ひかりキャピタル,{hikari.corporate_number},令和8年4月1日,2031/03/31,第6回公募",
        "",
        f"Blue VC,{blue.corporate_number},2026-04-01,,",
        encoding="cp932",
    )
    lines = certifications.import_certifications(make_user(Role.admin), data)
    assert [(item.line.number, item.outcome) for item in lines] == [
        (2, certifications.CERTIFY),
        (4, certifications.CERTIFY),
    ]
    stored = db.session.scalars(select(VcCertification).order_by(VcCertification.id)).all()
    assert [(c.organization_id, c.certified_on, c.expires_on, c.note) for c in stored] == [
        (hikari.id, date(2026, 4, 1), date(2031, 3, 31), "第6回公募"),
        (blue.id, date(2026, 4, 1), None, None),
    ]
    actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions[-3:] == [
        "vc_certification.create",
        "vc_certification.create",
        "vc_certification.import",
    ]


def test_a_second_import_of_the_same_list_changes_nothing(app: Flask) -> None:
    hikari, _blue = _vcs()
    data = _csv("corporate_number,certified_on", f"{hikari.corporate_number},2026-04-01")
    admin = make_user(Role.admin)
    certifications.import_certifications(admin, data)
    again = certifications.import_certifications(admin, data)
    assert [item.outcome for item in again] == [certifications.UNCHANGED]
    assert _count() == 1


def test_one_wrong_line_writes_nothing_and_every_line_is_reported(app: Flask) -> None:
    hikari, blue = _vcs()
    startup = make_org(OrgKind.startup)
    make_certified_vc(blue, certified_on=date(2025, 1, 1), expires_on=date(2027, 3, 31))
    data = _csv(
        "法人番号,認定日,有効期限",
        f"{hikari.corporate_number},2026-04-01,",  # fine
        f"{valid_corporate_number(987654)},2026-04-01,",  # unknown
        f"{startup.corporate_number},2026-04-01,",  # not a VC
        "1234567890123,2026-04-01,",  # check digit
        f"{blue.corporate_number},2026-04-01,",  # overlaps the one on record
        f"{hikari.corporate_number},2026-05-01,",  # overlaps line 2
        f"{hikari.corporate_number},2026-04-31,",  # no such day
        f"{hikari.corporate_number},2027-04-01,2027-03-31",  # expires before it starts
        f"{hikari.corporate_number},2026-04-01,,extra",  # one value too many
    )
    admin = make_user(Role.admin)
    before = db.session.scalar(select(func.count()).select_from(AuditEvent))
    with pytest.raises(certifications.ImportRefused) as refused:
        certifications.import_certifications(admin, data)
    outcomes = {item.line.number: item for item in refused.value.lines}
    assert outcomes[2].outcome == certifications.CERTIFY
    assert {n for n, item in outcomes.items() if item.outcome == certifications.REFUSED} == set(
        range(3, 11)
    )
    fields = said(refused.value.fields, "en")
    assert "No venture-capital organization" in fields["lines.3.corporate_number"][0]
    assert "No venture-capital organization" in fields["lines.4.corporate_number"][0]
    assert "check digit" in fields["lines.5.corporate_number"][0]
    assert "overlaps the certification that started on" in fields["lines.6.certified_on"][0]
    assert "overlaps" in fields["lines.7.certified_on"][0]
    assert "no such day" in fields["lines.8.certified_on"][0]
    assert "must expire after" in fields["lines.9.expires_on"][0]
    assert "values" in fields["lines.10.line"][0]
    assert _count() == 1  # only blue's, made before
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == before


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "empty"),
        (b"\xff\xfe\x00\x81", "neither UTF-8 nor Shift_JIS"),
        ("名称,認定日\r\nx,2026-04-01".encode(), "法人番号 and 認定日"),
        ("法人番号,認定日,色\r\n".encode(), "unknown column"),
        ("法人番号,認定日,認定日\r\n".encode(), "twice"),
        ("法人番号,認定日\r\n".encode(), "lists no certification"),
        ('法人番号,認定日\r\n"1,2'.encode(), "not CSV"),
    ],
)
def test_a_file_that_cannot_be_read_is_refused(app: Flask, data: bytes, words: str) -> None:
    with pytest.raises(RuleViolation) as refused:
        certifications.import_certifications(make_user(Role.admin), data)
    assert words in said(refused.value.fields, "en")["file"][0]
    assert _count() == 0


def test_too_many_lines_are_refused() -> None:
    data = _csv("法人番号,認定日", *(["1,2026-04-01"] * 1001))
    with pytest.raises(ValueError, match="more than"):
        read_list(data)


def test_only_administrators_import(app: Flask) -> None:
    hikari, _blue = _vcs()
    data = _csv("法人番号,認定日", f"{hikari.corporate_number},2026-04-01")
    with pytest.raises(NotAllowed):
        certifications.import_certifications(make_user(Role.officer), data)
    assert certifications.import_certifications(SYSTEM, data)[0].outcome == "certify"


def test_the_page_imports_and_lists_each_lines_outcome(app: Flask, client: FlaskClient) -> None:
    hikari, _blue = _vcs()
    login(client, make_user(Role.admin, locale=Locale.en).email)
    page = client.get("/admin/certified-vcs/import").get_data(as_text=True)
    assert "法人番号" in page and "corporate_number" in page
    wrong = _csv("法人番号,認定日", f"{hikari.corporate_number},2026-04-01", "9999999999999,x")
    refused = post_form(
        client,
        "/admin/certified-vcs/import",
        {"file": (io.BytesIO(wrong), "list.csv")},
        content_type="multipart/form-data",
    )
    assert refused.status_code == 422
    body = refused.get_data(as_text=True)
    assert "Nothing was imported: 1 of 2 lines are wrong." in body
    assert 'id="line-2" class="outcome-certify"' in body
    assert 'id="line-3" class="outcome-refused"' in body
    assert _count() == 0
    right = _csv("法人番号,認定日", f"{hikari.corporate_number},2026-04-01")
    done = post_form(
        client,
        "/admin/certified-vcs/import",
        {"file": (io.BytesIO(right), "list.csv")},
        content_type="multipart/form-data",
    )
    assert done.status_code == 200 and "The certified-VC list was imported." in done.get_data(
        as_text=True
    )
    assert _count() == 1
    empty = post_form(client, "/admin/certified-vcs/import", {}, content_type="multipart/form-data")
    assert empty.status_code == 422 and "empty" in empty.get_data(as_text=True)


def test_the_import_page_is_for_administrators(app: Flask, client: FlaskClient) -> None:
    login(client, make_user(Role.officer).email)
    assert client.get("/admin/certified-vcs/import").status_code == 403


def test_the_api_imports_and_reports_every_line(app: Flask, client: FlaskClient) -> None:
    hikari, blue = _vcs()
    api = ApiClient(client, make_user(Role.admin, locale=Locale.en))
    wrong = _csv(
        "corporate_number,certified_on",
        f"{hikari.corporate_number},2026-04-01",
        f"{valid_corporate_number(55)},2026-04-01",
    )
    response = api.post(
        "/api/v1/certified-vcs/import",
        data={"file": (io.BytesIO(wrong), "list.csv")},
        content_type="multipart/form-data",
    )
    error = assert_error(response, 422, "unprocessable")
    assert [line["outcome"] for line in error["lines"]] == ["certify", "refused"]
    assert "lines.3.corporate_number" in error["fields"]
    assert _count() == 0
    right = _csv(
        "corporate_number,certified_on,expires_on",
        f"{hikari.corporate_number},2026-04-01,2030-03-31",
        f"{blue.corporate_number},2026-04-01,",
    )
    done = api.post(
        "/api/v1/certified-vcs/import",
        data={"file": (io.BytesIO(right), "list.csv")},
        content_type="multipart/form-data",
    )
    assert done.status_code == 201, done.get_json()
    lines = done.get_json()["lines"]
    assert [(line["line"], line["outcome"]) for line in lines] == [(2, "certify"), (3, "certify")]
    assert lines[0]["organization_id"] == hikari.id and lines[0]["expires_on"] == "2030-03-31"
    assert_error(api.post("/api/v1/certified-vcs/import", data={}), 422)
    officer = ApiClient(client, make_user(Role.officer))
    forbidden = officer.post(
        "/api/v1/certified-vcs/import",
        data={"file": (io.BytesIO(right), "list.csv")},
        content_type="multipart/form-data",
    )
    assert_error(forbidden, 403, "forbidden")
