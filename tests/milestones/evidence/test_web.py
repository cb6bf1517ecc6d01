"""Evidence pages: the multipart form, upload limits, hostile names and downloads."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from grants.accounts.models import User
from grants.awards.models import EvidenceFile, EvidenceSubmission, Milestone
from grants.core.identity import Locale, OrgKind, Role
from grants.core.models import AuditEvent
from grants.core.states import GrantState, MilestoneState
from grants.extensions import db
from grants.milestones.assignments import service as assignments
from grants.milestones.evidence import web as evidence_web
from tests.support.factories import make_org, make_user
from tests.support.grants import GrantWorld, make_grant
from tests.support.matrix import OUTSIDERS, refused, statuses
from tests.support.web import login, login_english, post_form

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def evidence_urls(app: Flask) -> list[tuple[str, str]]:
    urls = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("evidence."):
            path = "/".join("1" if p.startswith("<") else p for p in rule.rule.split("/"))
            urls += [(m, path) for m in sorted((rule.methods or set()) & {"GET", "POST"})]
    return urls


def stored_files(app: Flask) -> set[str]:
    folder = Path(app.config["UPLOAD_FOLDER"])
    return {p.name for p in folder.iterdir()} if folder.exists() else set()


def send(
    client: FlaskClient,
    milestone: Milestone,
    files: list[tuple[bytes, str]] = (),  # type: ignore[assignment]
    **fields: str,
) -> TestResponse:
    data: dict[str, object] = {"narrative": "IC50 reached 8 nM.", "measured_0": "8", **fields}
    data["files"] = [(io.BytesIO(content), name) for content, name in files]
    return post_form(
        client, f"/milestones/{milestone.id}/evidence", data, content_type="multipart/form-data"
    )


def switch(client: FlaskClient, user: User) -> None:
    post_form(client, "/logout", {})
    login(client, user.email)


@pytest.fixture
def world(app: Flask) -> GrantWorld:
    return make_grant()


@pytest.fixture
def small_limit(app: Flask) -> Iterator[int]:
    saved = app.config["MAX_CONTENT_LENGTH"]
    app.config["MAX_CONTENT_LENGTH"] = 4096
    yield 4096
    app.config["MAX_CONTENT_LENGTH"] = saved


def test_every_route_is_enumerated(app: Flask) -> None:
    assert set(evidence_urls(app)) == {
        ("GET", "/milestones/1/evidence"),
        ("POST", "/milestones/1/evidence"),
        ("GET", "/evidence/files/1"),
        ("GET", "/evidence/files/1/preview"),
    }


def test_permission_matrix(app: Flask, client: FlaskClient, world: GrantWorld) -> None:
    """The form and its POST for the grantee only; downloads (and a CSV's preview) for the
    grantee, officers and assigned reviewers without a conflict."""
    milestone = world.milestones[0]
    login(client, world.applicant.email)
    assert send(client, milestone, [(b"a,b\r\n1,2\r\n", "round1.csv")]).status_code == 302
    db.session.get(Milestone, milestone.id).state = MilestoneState.changes_requested
    db.session.commit()
    assert (milestone.id, db.session.query(EvidenceFile).one().id) == (1, 1)
    paths = sorted(evidence_urls(app))
    download, preview, form, post = paths

    def data(method: str, path: str) -> dict[str, object]:
        return {
            "narrative": "Round two.",
            "measured_0": "7",
            "files": [(io.BytesIO(PDF), "r2.pdf")],
        }

    table = statuses(client, world, paths, data, content_type="multipart/form-data")
    refused(table, *OUTSIDERS, "reviewer_conflicted", "admin")
    assert table["grantee"] == {download: 200, preview: 200, form: 200, post: 302}
    for reader in ("reviewer", "officer"):
        assert table[reader] == {download: 200, preview: 200, form: 403, post: 403}, reader
    # Only the grantee's second round was stored.
    rounds = db.session.query(EvidenceSubmission).order_by(EvidenceSubmission.round).all()
    assert [r.round for r in rounds] == [1, 2]
    assert sorted(f.original_name for f in rounds[1].files) == ["r2.pdf"]


def test_the_form_has_a_labelled_field_per_criterion(
    client: FlaskClient, world: GrantWorld
) -> None:
    milestone = world.milestones[0]
    milestone.criteria = [
        {"metric": "IC50", "target": "<= 10", "unit": "nM"},
        {"metric": "Yield", "target": ">= 40", "unit": "%"},
    ]
    db.session.commit()
    login_english(client, world.applicant)
    page = client.get(f"/milestones/{milestone.id}/evidence").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in page
    assert 'type="file"' in page and "multiple" in page and 'name="files"' in page
    assert re.search(r'<textarea[^>]* id="narrative"', page) and 'for="narrative"' in page
    assert 'for="measured_0"' in page and 'for="measured_1"' in page
    assert "Measured IC50 (target &lt;= 10 nM)" in page
    assert "Measured Yield (target &gt;= 40 %)" in page


def test_grantee_submits_evidence_with_files(
    app: Flask, client: FlaskClient, world: GrantWorld
) -> None:
    milestone = world.milestones[0]
    login(client, world.applicant.email)
    response = send(client, milestone, [(PDF, "報告書.pdf"), (PNG, "plate.png")])
    assert response.status_code == 302
    assert response.headers["Location"].endswith(
        f"/grants/{world.grant.id}#milestone-{milestone.id}"
    )
    submission = db.session.query(EvidenceSubmission).one()
    assert submission.round == 1 and submission.measured[0]["value"] == "8"
    assert sorted(f.original_name for f in submission.files) == ["plate.png", "報告書.pdf"]
    assert db.session.get(Milestone, milestone.id).state == MilestoneState.submitted
    assert db.session.query(AuditEvent).filter_by(action="milestone.submit_evidence").count() == 1
    page = client.get(f"/grants/{world.grant.id}").get_data(as_text=True)
    assert "報告書.pdf" in page and "IC50 reached 8 nM." in page


@pytest.mark.parametrize(
    ("fields", "field_id", "message"),
    [
        ({"narrative": ""}, "narrative", "Describe what was achieved."),
        ({"measured_0": " "}, "measured_0", "Enter the measured value."),
    ],
)
def test_missing_text_is_422_with_the_message_and_nothing_written(
    app: Flask,
    client: FlaskClient,
    world: GrantWorld,
    fields: dict[str, str],
    field_id: str,
    message: str,
) -> None:
    before = stored_files(app)
    login_english(client, world.applicant)
    response = send(client, world.milestones[0], [(PDF, "ok.pdf")], **fields)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'id="{field_id}-error"' in page and message in page
    assert stored_files(app) == before
    assert db.session.query(EvidenceSubmission).count() == 0


@pytest.mark.parametrize(
    ("content", "name"),
    [(b"MZ\x90\x00 program", "setup.exe"), (b"MZ\x90\x00 not a pdf", "report.pdf")],
)
def test_disallowed_types_are_422_and_nothing_written(
    app: Flask, client: FlaskClient, world: GrantWorld, content: bytes, name: str
) -> None:
    before = stored_files(app)
    login(client, world.applicant.email)
    response = send(client, world.milestones[0], [(PDF, "fine.pdf"), (content, name)])
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="files-error"' in page and name in page
    assert stored_files(app) == before
    assert db.session.query(EvidenceFile).count() == 0
    assert db.session.get(Milestone, world.milestones[0].id).state == MilestoneState.planned


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("a\x00b\x07c\x1b.pdf", "abc.pdf"),
        ("研究成果" * 75 + ".pdf", None),
    ],
)
def test_hostile_names_are_stored_safely_under_random_names(
    app: Flask, client: FlaskClient, world: GrantWorld, sent: str, kept: str | None
) -> None:
    login(client, world.applicant.email)
    response = send(client, world.milestones[0], [(PDF, sent)])
    assert response.status_code == 302
    row = db.session.query(EvidenceFile).one()
    if kept is not None:
        assert row.original_name == kept
    else:
        assert len(row.original_name) <= 200 and row.original_name.startswith("研究成果")
        assert row.original_name.endswith(".pdf")
    assert "/" not in row.original_name and "\x00" not in row.original_name
    folder = Path(app.config["UPLOAD_FOLDER"]).resolve()
    path = (folder / row.stored_name).resolve()
    assert path.parent == folder and path.read_bytes() == PDF
    assert len(row.stored_name) == 36 and row.stored_name.endswith(".pdf")


@pytest.mark.parametrize(
    ("locale", "message"),
    [
        (Locale.en, "The request is larger than this address accepts: at most 4,096 bytes."),
        (Locale.ja, "受け付ける大きさを超えています（上限 4,096 バイト）。"),
    ],
)
def test_a_request_over_the_size_limit_is_413_with_a_message(
    app: Flask, client: FlaskClient, small_limit: int, locale: Locale, message: str
) -> None:
    world = make_grant()
    login(client, make_user(Role.applicant, world.grantee, locale=locale).email)
    before = stored_files(app)
    response = send(client, world.milestones[0], [(PDF + b"0" * small_limit, "big.pdf")])
    assert response.status_code == 413
    assert message in response.get_data(as_text=True)
    assert stored_files(app) == before
    assert db.session.query(EvidenceSubmission).count() == 0


@pytest.mark.parametrize("who", ["stranger", "reviewer", "officer", "admin"])
def test_only_the_grantee_may_open_the_form(
    client: FlaskClient, world: GrantWorld, who: str
) -> None:
    user = {
        "stranger": lambda: make_user(Role.applicant, make_org(OrgKind.startup)),
        "reviewer": lambda: world.reviewers[0],
        "officer": lambda: make_user(Role.officer),
        "admin": lambda: make_user(Role.admin),
    }[who]()
    login(client, user.email)
    milestone = world.milestones[0]
    assert client.get(f"/milestones/{milestone.id}/evidence").status_code == 403
    assert send(client, milestone, [(PDF, "a.pdf")]).status_code == 403
    assert db.session.query(EvidenceSubmission).count() == 0


def test_anonymous_is_sent_to_login(client: FlaskClient, world: GrantWorld) -> None:
    for path in (f"/milestones/{world.milestones[0].id}/evidence", "/evidence/files/1"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_wrong_states_are_409_and_unknown_milestone_404(
    client: FlaskClient, world: GrantWorld
) -> None:
    first = world.milestones[0]
    first.state = MilestoneState.submitted
    db.session.commit()
    login(client, world.applicant.email)
    assert client.get(f"/milestones/{first.id}/evidence").status_code == 409
    assert send(client, first, []).status_code == 409
    assert client.get("/milestones/999999/evidence").status_code == 404
    first.state = MilestoneState.planned
    world.grant.state = GrantState.suspended
    db.session.commit()
    assert client.get(f"/milestones/{first.id}/evidence").status_code == 409
    assert send(client, first, []).status_code == 409


def test_a_second_round_after_changes_requested(client: FlaskClient, world: GrantWorld) -> None:
    milestone = world.milestones[0]
    login_english(client, world.applicant)
    assert send(client, milestone, []).status_code == 302
    stored = db.session.get(Milestone, milestone.id)
    stored.state = MilestoneState.changes_requested
    db.session.commit()
    page = client.get(f"/milestones/{milestone.id}/evidence").get_data(as_text=True)
    assert "round 2" in page
    assert send(client, milestone, [], narrative="Second try").status_code == 302
    rounds = [s.round for s in db.session.query(EvidenceSubmission).order_by("round")]
    assert rounds == [1, 2]


def _uploaded(client: FlaskClient, world: GrantWorld, name: str = "結果報告.pdf") -> int:
    login(client, world.applicant.email)
    assert send(client, world.milestones[0], [(PDF, name)]).status_code == 302
    post_form(client, "/logout", {})
    return db.session.query(EvidenceFile).filter_by(original_name=name).one().id


@pytest.mark.parametrize("who", ["grantee", "grantee_colleague", "reviewer", "officer"])
def test_downloads_for_the_grantee_reviewers_and_officers(
    client: FlaskClient, world: GrantWorld, who: str
) -> None:
    file_id = _uploaded(client, world)
    user = {
        "grantee": lambda: world.applicant,
        "grantee_colleague": lambda: make_user(Role.applicant, world.grantee),
        "reviewer": lambda: world.reviewers[1],
        "officer": lambda: make_user(Role.officer),
    }[who]()
    login(client, user.email)
    response = client.get(f"/evidence/files/{file_id}")
    assert response.status_code == 200
    assert response.data == PDF
    assert response.mimetype == "application/pdf"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f"filename*=UTF-8''{quote('結果報告.pdf')}" in disposition
    response.close()


@pytest.mark.parametrize("who", ["stranger", "unassigned", "conflicted", "admin"])
def test_downloads_forbidden_to_others(client: FlaskClient, world: GrantWorld, who: str) -> None:
    file_id = _uploaded(client, world)
    if who == "conflicted":
        user = world.reviewers[0]
        assignments.declare_conflict(user, world.vc.id, None, "Partner at the VC")
    else:
        user = {
            "stranger": lambda: make_user(Role.applicant, make_org(OrgKind.startup)),
            "unassigned": lambda: make_user(Role.reviewer),
            "admin": lambda: make_user(Role.admin),
        }[who]()
    login(client, user.email)
    response = client.get(f"/evidence/files/{file_id}")
    assert response.status_code == 403
    assert PDF not in response.data


def test_unknown_file_is_404(client: FlaskClient, world: GrantWorld) -> None:
    login(client, world.applicant.email)
    assert client.get("/evidence/files/999999").status_code == 404


def test_a_later_milestone_is_409_with_the_current_one_named(
    client: FlaskClient, world: GrantWorld
) -> None:
    first, second, _third = world.milestones
    login_english(client, world.applicant)
    for response in (client.get(f"/milestones/{second.id}/evidence"), send(client, second)):
        assert response.status_code == 409
        assert "current milestone: 1. Milestone 1 must be approved first" in response.get_data(
            as_text=True
        )
    assert db.session.query(EvidenceSubmission).count() == 0
    assert client.get(f"/milestones/{first.id}/evidence").status_code == 200
    # someone else's grant: 403 whatever the order, nothing about its milestones is told
    switch(client, make_user(Role.applicant, make_org(OrgKind.startup)))
    assert client.get(f"/milestones/{second.id}/evidence").status_code == 403


def test_the_grant_page_offers_evidence_for_the_current_milestone_only(
    client: FlaskClient, world: GrantWorld
) -> None:
    first, second, third = world.milestones
    login(client, world.applicant.email)
    page = client.get(f"/grants/{world.grant.id}").get_data(as_text=True)
    assert f"/milestones/{first.id}/evidence" in page
    assert f"/milestones/{second.id}/evidence" not in page
    assert f"/milestones/{third.id}/evidence" not in page


def test_a_measured_value_in_full_width_is_stored_as_plain_figures(
    app: Flask, client: FlaskClient, world: GrantWorld
) -> None:
    login(client, world.applicant.email)
    narrative = "IC50 は 8 nM に到達。\r\n\t詳細は添付のとおり。"
    response = send(
        client, world.milestones[0], [(PDF, "ok.pdf")], narrative=narrative, measured_0="０"
    )
    assert response.status_code == 302
    submission = db.session.query(EvidenceSubmission).one()
    assert submission.measured[0]["value"] == "0"
    assert submission.narrative == narrative


@pytest.mark.parametrize(
    ("fields", "field_id"),
    [
        ({"narrative": "a\x00b"}, "narrative"),
        ({"narrative": "escape \x1b[31m"}, "narrative"),
        ({"measured_0": "8\x7f"}, "measured_0"),
        ({"measured_0": "8\n9"}, "measured_0"),
    ],
)
def test_text_that_cannot_be_stored_is_refused_beside_its_field(
    app: Flask, client: FlaskClient, world: GrantWorld, fields: dict[str, str], field_id: str
) -> None:
    before = stored_files(app)
    login(client, world.applicant.email)
    response = send(client, world.milestones[0], [(PDF, "ok.pdf")], **fields)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    errors = page.split(f'id="{field_id}-error"', 1)[1].split("</ul>", 1)[0]
    assert "制御文字" in errors or "改行やタブ" in errors
    assert stored_files(app) == before
    assert db.session.query(EvidenceSubmission).count() == 0


def test_a_shift_jis_csv_from_excel_is_accepted(client: FlaskClient, world: GrantWorld) -> None:
    data = "化合物,IC50（nM）\r\nA-1,8\r\n".encode("cp932")
    login(client, world.applicant.email)  # Japanese
    response = send(client, world.milestones[0], [(data, "データ.csv")])
    assert response.status_code == 302, response.get_data(as_text=True)
    stored = db.session.query(EvidenceFile).one()
    assert stored.original_name == "データ.csv"
    assert stored.content_type == "text/csv; charset=shift_jis"
    download = client.get(f"/evidence/files/{stored.id}")
    assert download.headers["Content-Type"] == "text/csv; charset=shift_jis"
    assert download.data == data  # byte for byte, as saved
    download.close()


def test_a_utf8_csv_downloads_as_utf8(client: FlaskClient, world: GrantWorld) -> None:
    login(client, world.applicant.email)
    data = "\ufeff化合物,IC50\r\n".encode()
    assert send(client, world.milestones[0], [(data, "data.csv")]).status_code == 302
    stored = db.session.query(EvidenceFile).one()
    download = client.get(f"/evidence/files/{stored.id}")
    assert download.headers["Content-Type"] == "text/csv; charset=utf-8"
    download.close()


RESEND = "None of the chosen files was kept. Choose all the files again before you submit."


def _files_errors(page: str) -> list[str]:
    match = re.search(r'<ul class="errors" id="files-error">(.*?)</ul>', page, re.S)
    assert match, "no error beside the file field"
    return re.findall(r"<li>(.*?)</li>", match.group(1), re.S)


def test_a_refused_file_says_that_no_file_was_kept(
    app: Flask, client: FlaskClient, world: GrantWorld
) -> None:
    before = stored_files(app)
    login_english(client, world.applicant)
    response = send(client, world.milestones[0], [(PDF, "good.pdf"), (b"", "empty.pdf")])
    assert response.status_code == 422
    assert _files_errors(response.get_data(as_text=True)) == [
        "empty.pdf: the file is empty.",
        RESEND,
    ]
    assert stored_files(app) == before and db.session.query(EvidenceFile).count() == 0


def test_other_errors_also_say_that_the_files_must_be_chosen_again(
    client: FlaskClient, world: GrantWorld
) -> None:
    login_english(client, world.applicant)
    response = send(client, world.milestones[0], [(PDF, "good.pdf")], narrative="")
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and 'id="narrative-error"' in page
    assert _files_errors(page) == [RESEND]
    # nothing chosen: nothing to choose again
    page = send(client, world.milestones[0], [], narrative="").get_data(as_text=True)
    assert 'id="narrative-error"' in page and RESEND not in page


def test_the_measured_value_is_called_the_same_in_its_label_and_its_error(
    client: FlaskClient, world: GrantWorld
) -> None:
    login(client, world.applicant.email)  # Japanese
    response = send(client, world.milestones[0], [], measured_0="")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "IC50 の実測値" in page and "<legend>実測値</legend>" in page
    error = re.search(r'<ul class="errors" id="measured_0-error">(.*?)</ul>', page, re.S)
    assert error and "実測値を入力してください。" in error.group(1) and "測定値" not in page


def test_the_japanese_page_says_so_too(client: FlaskClient, world: GrantWorld) -> None:
    login(client, world.applicant.email)
    response = send(client, world.milestones[0], [(PDF, "良い.pdf"), (b"", "空.pdf")])
    errors = _files_errors(response.get_data(as_text=True))
    assert errors[0] == "空.pdf：ファイルが空です。"
    assert errors[1].startswith("選択したファイルはどれも保存されていません。")


@pytest.mark.parametrize(
    ("limit", "shown"),
    [
        (20 * 1024 * 1024, "20"),
        (5 * 1024 * 1024, "5"),
        (1024 * 1024 * 3 // 2, "1.5"),
        (1024 * 1024 * 159 // 100, "1.5"),  # rounded down: never more than is accepted
        (4096, "0"),
    ],
)
def test_the_limit_in_megabytes(limit: int, shown: str) -> None:
    assert evidence_web.limit_in_mb(limit) == shown


@pytest.mark.parametrize(
    ("locale", "text"),
    [
        (Locale.en, "you can choose several files, at most 5 MB in total."),
        (Locale.ja, "合計 5 MB まで"),
    ],
)
def test_the_form_states_the_limit_from_the_config(
    app: Flask, client: FlaskClient, world: GrantWorld, locale: Locale, text: str
) -> None:
    saved = app.config["MAX_CONTENT_LENGTH"]
    app.config["MAX_CONTENT_LENGTH"] = 5 * 1024 * 1024
    try:
        world.applicant.locale = locale
        db.session.commit()
        login(client, world.applicant.email)
        page = client.get(f"/milestones/{world.milestones[0].id}/evidence").get_data(as_text=True)
    finally:
        app.config["MAX_CONTENT_LENGTH"] = saved
    help_text = re.search(r'<p class="help" id="files-help">(.*?)</p>', page, re.S)
    assert help_text and text in help_text.group(1)
    assert re.search(r'<input[^>]*aria-describedby="files-help"[^>]*type="file"', page)
    assert f'data-max-bytes="{5 * 1024 * 1024}" data-limit-message="files-too-large"' in page
    message = re.search(r'<p class="alert alert-error" id="files-too-large"[^>]*hidden>', page)
    assert message, "the script's message is in the page, hidden until needed"


def test_the_limit_script_is_served_from_the_app_and_allowed_by_the_csp(
    client: FlaskClient, world: GrantWorld
) -> None:
    login(client, world.applicant.email)
    response = client.get(f"/milestones/{world.milestones[0].id}/evidence")
    page = response.get_data(as_text=True)
    assert '<script src="/static/js/upload-limit.js" defer></script>' in page
    assert "<script>" not in page  # nothing inline: the CSP allows scripts from 'self' only
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    script = client.get("/static/js/upload-limit.js", buffered=True)
    body = script.get_data(as_text=True)
    assert script.status_code == 200
    assert "maxBytes" in body and "preventDefault" in body and "http" not in body  # no CDN


def test_without_a_limit_there_is_no_script(
    app: Flask, client: FlaskClient, world: GrantWorld
) -> None:
    saved = app.config["MAX_CONTENT_LENGTH"]
    app.config["MAX_CONTENT_LENGTH"] = None
    try:
        login_english(client, world.applicant)
        page = client.get(f"/milestones/{world.milestones[0].id}/evidence").get_data(as_text=True)
    finally:
        app.config["MAX_CONTENT_LENGTH"] = saved
    assert "upload-limit.js" not in page and "data-max-bytes" not in page
    assert "you can choose several files." in page
