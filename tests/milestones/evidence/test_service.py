"""Evidence submission: validation, file checks, safe storage, rounds and downloads."""

from __future__ import annotations

import hashlib
import io
import zipfile
from datetime import date
from pathlib import Path

import pytest
from flask import Flask

from grants.awards.models import EvidenceFile, EvidenceSubmission, Milestone
from grants.core import audit
from grants.core.errors import Conflict, NotAllowed, NotFound, RuleViolation
from grants.core.identity import OrgKind, Role
from grants.core.models import AuditEvent
from grants.core.states import GrantState, MilestoneState
from grants.extensions import db
from grants.milestones.assignments import service as assignments
from grants.milestones.evidence import service as evidence
from tests.support.approvals import approve
from tests.support.factories import make_org, make_user, uploads
from tests.support.grants import GrantWorld, make_grant
from tests.support.i18n import raises_saying

TODAY = date(2026, 9, 1)
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32
CSV = "metric,value\nIC50,8 nM\n化合物,A-1\n".encode()


def ooxml(part: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr(part, "<x/>")
    return buffer.getvalue()


def upload(name: str, data: bytes, content_type: str = "application/octet-stream"):  # type: ignore[no-untyped-def]
    return (name, io.BytesIO(data), content_type)


def stored_files(app: Flask) -> set[str]:
    folder = Path(app.config["UPLOAD_FOLDER"])
    return {p.name for p in folder.iterdir()} if folder.exists() else set()


def submit(world: GrantWorld, milestone: Milestone | None = None, files=(), **kwargs):  # type: ignore[no-untyped-def]
    milestone = milestone or world.milestones[0]
    values = {
        "narrative": "IC50 reached 8 nM in the second assay.",
        "measured": {0: "8"},
        "files": list(files),
        "today": TODAY,
    }
    values.update(kwargs)
    return evidence.submit_evidence(
        world.applicant, milestone.id, **values, upload_folder=uploads()
    )


def test_grantee_submits_evidence_with_files(app: Flask) -> None:
    world = make_grant()
    milestone = world.milestones[0]
    files = [
        upload("結果報告.pdf", PDF, "application/pdf"),
        upload("plate.png", PNG),
        upload("photo.JPG", JPEG),
        upload("data.csv", CSV),
        upload("table.xlsx", ooxml("xl/workbook.xml")),
        upload("report.docx", ooxml("word/document.xml")),
    ]
    submission = submit(world, files=files)
    db.session.refresh(milestone)
    assert milestone.state == MilestoneState.submitted and milestone.round == 1
    assert submission.round == 1 and submission.submitted_by_id == world.applicant.id
    assert submission.measured == [
        {"metric": "IC50", "target": "<= 10", "unit": "nM", "value": "8"}
    ]
    rows = {f.original_name: f for f in submission.files}
    assert set(rows) == {
        "結果報告.pdf",
        "plate.png",
        "photo.JPG",
        "data.csv",
        "table.xlsx",
        "report.docx",
    }
    pdf = rows["結果報告.pdf"]
    assert pdf.content_type == "application/pdf" and pdf.size == len(PDF)
    assert pdf.sha256 == hashlib.sha256(PDF).hexdigest()
    assert rows["photo.JPG"].content_type == "image/jpeg"
    assert rows["data.csv"].content_type == "text/csv; charset=utf-8"
    folder = Path(app.config["UPLOAD_FOLDER"]).resolve()
    for row in submission.files:
        path = folder / row.stored_name
        assert path.is_file() and path.parent == folder
        assert len(row.stored_name.split(".")[0]) == 32
    assert (folder / pdf.stored_name).read_bytes() == PDF
    event_row = db.session.query(AuditEvent).filter_by(action="milestone.submit_evidence").one()
    assert event_row.before == {"state": "planned", "round": 0}
    assert event_row.after["state"] == "submitted" and event_row.after["round"] == 1
    assert event_row.after["files"] == [f.sha256 for f in submission.files]


@pytest.mark.parametrize(
    ("data", "charset"),
    [
        (
            "化合物,IC50（nM）\r\nA-1,8\r\n".encode("cp932"),
            "shift_jis",
        ),  # Excel's 「CSV（カンマ区切り）」
        ("化合物,ｱﾙﾌｧ,①\r\n".encode("cp932"), "shift_jis"),  # half-width kana, NEC extensions
        ("\ufeff化合物,値\r\nA-1,8\r\n".encode(), "utf-8"),  # Excel's 「CSV UTF-8」: with a BOM
        (CSV, "utf-8"),
        (b"metric\tvalue\nIC50\t8\n", "utf-8"),
    ],
)
def test_csv_files_from_excel_are_accepted_as_they_are(
    app: Flask, data: bytes, charset: str
) -> None:
    world = make_grant()
    submission = submit(world, files=[upload("データ.csv", data)])
    stored = Path(app.config["UPLOAD_FOLDER"]).resolve() / submission.files[0].stored_name
    assert stored.read_bytes() == data  # kept byte for byte, not re-encoded
    assert submission.files[0].content_type == f"text/csv; charset={charset}"


def test_evidence_without_files_is_accepted(app: Flask) -> None:
    world = make_grant()
    submission = submit(world, files=[upload("", b"")])  # a browser's empty file input
    assert submission.files == []


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"narrative": "   "}, "narrative"),
        ({"narrative": "x" * (evidence.NARRATIVE_MAX + 1)}, "narrative"),
        ({"measured": {}}, "measured.0"),
        ({"measured": {0: "  "}}, "measured.0"),
        ({"measured": {0: "9" * 201}}, "measured.0"),
    ],
)
def test_narrative_and_every_measured_value_are_required(
    app: Flask, kwargs: dict[str, object], field: str
) -> None:
    world = make_grant()
    before = stored_files(app)
    with pytest.raises(RuleViolation) as caught:
        submit(world, files=[upload("ok.pdf", PDF)], **kwargs)
    assert field in caught.value.fields
    assert stored_files(app) == before
    db.session.rollback()
    assert db.session.query(EvidenceSubmission).count() == 0
    assert db.session.get(Milestone, world.milestones[0].id).state == MilestoneState.planned


def test_every_criterion_needs_its_value(app: Flask) -> None:
    world = make_grant()
    milestone = world.milestones[0]
    milestone.criteria = [
        {"metric": "IC50", "target": "<= 10", "unit": "nM"},
        {"metric": "Yield", "target": ">= 40", "unit": "%"},
    ]
    db.session.commit()
    with pytest.raises(RuleViolation) as caught:
        submit(world, measured={0: "8"})
    assert set(caught.value.fields) == {"measured.1"}
    submission = submit(world, measured={0: "8", 1: "42"})
    assert [m["value"] for m in submission.measured] == ["8", "42"]


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("setup.exe", b"MZ\x90\x00"),
        ("report.pdf", b"MZ\x90\x00 not a pdf"),
        ("plate.png", PDF),
        ("photo.jpeg", PNG),
        ("data.csv", b"a,b\n\x00\x01"),
        ("data.csv", b"\x82\xa0\x82"),  # neither UTF-8 nor complete Shift_JIS
        ("data.csv", b"\x1b\x05\x81\x40\x02\x88\x9f"),  # binary that cp932 would decode
        ("data.csv", b"a,b\n\x7f\x1a"),
        ("table.xlsx", b"PK\x03\x04 truncated"),
        ("table.xlsx", ooxml("word/document.xml")),
        ("report.docx", PDF),
        ("empty.pdf", b""),
        ("noextension", PDF),
        (".pdf", PDF),
        ("archive.zip", ooxml("xl/workbook.xml")),
    ],
)
def test_disallowed_or_mislabelled_files_are_refused_and_nothing_is_written(
    app: Flask, name: str, data: bytes
) -> None:
    world = make_grant()
    before = stored_files(app)
    with pytest.raises(RuleViolation) as caught:
        submit(world, files=[upload("fine.pdf", PDF), upload(name, data)])
    assert len(caught.value.fields["files"]) == 1
    assert stored_files(app) == before
    db.session.rollback()
    assert db.session.query(EvidenceFile).count() == 0
    assert db.session.get(Milestone, world.milestones[0].id).round == 0


def test_too_many_files_are_refused(app: Flask) -> None:
    world = make_grant()
    files = [upload(f"f{i}.pdf", PDF) for i in range(evidence.FILES_MAX + 1)]
    with pytest.raises(RuleViolation) as caught:
        submit(world, files=files)
    assert "files" in caught.value.fields


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("..\\..\\windows\\system.ini.pdf", "system.ini.pdf"),
        ("/abs/path/report.pdf", "report.pdf"),
        ("re\x00po\x07rt\x1b.pdf", "report.pdf"),
        ("evil\u202efdp.exe.pdf", "evilfdp.exe.pdf"),
        ("line\nbreak.pdf", "linebreak.pdf"),
        ("...hidden.pdf", "hidden.pdf"),
    ],
)
def test_hostile_names_are_kept_only_as_safe_display_names(
    app: Flask, sent: str, kept: str
) -> None:
    world = make_grant()
    submission = submit(world, files=[upload(sent, PDF)])
    (row,) = submission.files
    assert row.original_name == kept
    folder = Path(app.config["UPLOAD_FOLDER"]).resolve()
    assert (folder / row.stored_name).resolve().parent == folder
    assert row.stored_name.endswith(".pdf") and kept not in row.stored_name


def test_a_very_long_japanese_name_is_capped_and_keeps_its_extension(app: Flask) -> None:
    world = make_grant()
    name = "研究成果報告書" * 43 + ".pdf"  # 301 + 4 characters
    submission = submit(world, files=[upload(name, PDF)])
    (row,) = submission.files
    assert len(row.original_name) == evidence.NAME_MAX
    assert row.original_name.startswith("研究成果報告書") and row.original_name.endswith(".pdf")
    assert len(row.stored_name) == 36


def test_display_name_examples() -> None:
    assert evidence.display_name("C:\\Users\\山田\\報告.pdf") == "報告.pdf"
    assert evidence.display_name("..") == ""
    assert evidence.display_name("ｶﾞ.pdf") == "ｶﾞ.pdf"  # NFC keeps half-width kana
    assert evidence.display_name("a" * 300)[:3] == "aaa"
    assert len(evidence.display_name("a" * 300)) == evidence.NAME_MAX


def test_written_files_are_removed_when_the_transaction_fails(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = make_grant()
    before = stored_files(app)

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("audit log unavailable")

    monkeypatch.setattr(audit, "record", broken)
    with pytest.raises(RuntimeError):
        submit(world, files=[upload("a.pdf", PDF), upload("b.png", PNG)])
    assert stored_files(app) == before
    assert db.session.query(EvidenceSubmission).count() == 0
    assert db.session.get(Milestone, world.milestones[0].id).state == MilestoneState.planned


def test_a_lost_race_on_the_round_is_a_conflict_and_removes_files(app: Flask) -> None:
    world = make_grant()
    milestone = world.milestones[0]
    db.session.add(
        EvidenceSubmission(milestone_id=milestone.id, round=1, narrative="n", measured=[])
    )
    db.session.commit()  # a round 1 exists although the milestone still says round 0
    before = stored_files(app)
    with pytest.raises(Conflict):
        submit(world, files=[upload("a.pdf", PDF)])
    assert stored_files(app) == before
    assert db.session.get(Milestone, milestone.id).round == 0


def test_another_organization_cannot_submit(app: Flask) -> None:
    world = make_grant()
    stranger = make_user(Role.applicant, make_org(OrgKind.startup))
    with pytest.raises(NotAllowed):
        evidence.submit_evidence(
            stranger, world.milestones[0].id, "n", {0: "1"}, [], TODAY, upload_folder=uploads()
        )


@pytest.mark.parametrize("role", [Role.reviewer, Role.officer, Role.admin])
def test_other_roles_cannot_submit(app: Flask, role: Role) -> None:
    world = make_grant()
    user = make_user(role, world.grantee)
    with pytest.raises(NotAllowed):
        evidence.submit_evidence(
            user, world.milestones[0].id, "n", {0: "1"}, [], TODAY, upload_folder=uploads()
        )


@pytest.mark.parametrize("state", [MilestoneState.submitted, MilestoneState.approved])
def test_evidence_only_for_planned_or_changes_requested(app: Flask, state: MilestoneState) -> None:
    world = make_grant()
    world.milestones[0].state = state
    db.session.commit()
    with pytest.raises(Conflict):
        submit(world)


@pytest.mark.parametrize("state", [GrantState.suspended, GrantState.terminated])
def test_the_grant_must_be_active(app: Flask, state: GrantState) -> None:
    world = make_grant()
    world.grant.state = state
    db.session.commit()
    with pytest.raises(Conflict):
        submit(world)


def test_unknown_milestone_is_not_found(app: Flask) -> None:
    world = make_grant()
    with pytest.raises(NotFound):
        evidence.submit_evidence(
            world.applicant, 999_999, "n", {0: "1"}, [], TODAY, upload_folder=uploads()
        )


def test_after_changes_requested_the_next_round_is_two(app: Flask) -> None:
    world = make_grant()
    milestone = world.milestones[0]
    submit(world)
    milestone.state = MilestoneState.changes_requested
    db.session.commit()
    second = submit(world, narrative="Re-run with more samples.")
    assert second.round == 2
    db.session.refresh(milestone)
    assert milestone.round == 2 and milestone.state == MilestoneState.submitted


def _file(world: GrantWorld) -> EvidenceFile:
    submission = submit(world, files=[upload("報告書.pdf", PDF)])
    return submission.files[0]


@pytest.mark.parametrize("who", ["grantee_colleague", "reviewer", "officer"])
def test_downloads_allowed_for_the_grantee_reviewers_and_officers(app: Flask, who: str) -> None:
    world = make_grant()
    row = _file(world)
    user = {
        "grantee_colleague": lambda: make_user(Role.applicant, world.grantee),
        "reviewer": lambda: world.reviewers[0],
        "officer": lambda: make_user(Role.officer),
    }[who]()
    path, name, content_type = evidence.open_evidence_file(user, row.id, upload_folder=uploads())
    assert path.read_bytes() == PDF and name == "報告書.pdf" and content_type == "application/pdf"


@pytest.mark.parametrize("who", ["stranger", "unassigned", "conflicted", "admin"])
def test_downloads_forbidden_to_everyone_else(app: Flask, who: str) -> None:
    world = make_grant()
    row = _file(world)
    if who == "conflicted":
        user = world.reviewers[0]
        assignments.declare_conflict(user, world.grantee.id, None, "family")
    else:
        user = {
            "stranger": lambda: make_user(Role.applicant, make_org()),
            "unassigned": lambda: make_user(Role.reviewer),
            "admin": lambda: make_user(Role.admin),
        }[who]()
    with pytest.raises(NotAllowed):
        evidence.open_evidence_file(user, row.id, upload_folder=uploads())


def test_download_of_a_missing_file_is_not_found(app: Flask) -> None:
    world = make_grant()
    row = _file(world)
    with pytest.raises(NotFound):
        evidence.open_evidence_file(world.applicant, 999_999, upload_folder=uploads())
    (Path(app.config["UPLOAD_FOLDER"]) / row.stored_name).unlink()
    with pytest.raises(NotFound):
        evidence.open_evidence_file(world.applicant, row.id, upload_folder=uploads())


# ---- staged milestones: evidence for the current milestone only ----------------------------


def test_evidence_for_a_later_milestone_waits_for_the_earlier_ones(app: Flask) -> None:
    """(In English: the messages are asserted word for word.)"""
    world = make_grant()
    first, second, third = world.milestones
    for later in (second, third):
        with raises_saying(Conflict, "1. Milestone 1 must be approved first", "en"):
            submit(world, later)
    assert db.session.query(EvidenceSubmission).count() == 0
    submit(world, first)
    # Submitted but undecided: still the current milestone, nothing after it yet.
    with raises_saying(Conflict, "1. Milestone 1 must be approved first", "en"):
        submit(world, second)
    approve(world, db.session.get(Milestone, first.id))
    assert submit(world, second).round == 1
    with raises_saying(Conflict, "2. Milestone 2 must be approved first", "en"):
        submit(world, third)
    assert db.session.get(Milestone, third.id).state == MilestoneState.planned
    assert db.session.query(AuditEvent).filter_by(action="milestone.submit_evidence").count() == 2


def test_after_changes_requested_the_current_milestone_takes_a_new_round(app: Flask) -> None:
    world = make_grant()
    first, second, _third = world.milestones
    submit(world, first)
    db.session.get(Milestone, first.id).state = MilestoneState.changes_requested
    db.session.commit()
    with pytest.raises(Conflict):
        submit(world, second)
    assert submit(world, first).round == 2


def test_after_a_no_go_no_later_milestone_takes_evidence(app: Flask) -> None:
    world = make_grant()
    first, second, third = world.milestones
    approve(world, first)
    db.session.get(Milestone, second.id).state = MilestoneState.rejected
    db.session.commit()
    with raises_saying(Conflict, "2. Milestone 2 must be approved first", "en"):
        submit(world, third)
    with pytest.raises(Conflict):  # the no-go itself takes no new round either
        submit(world, second)


def test_a_stranger_is_refused_before_the_order_is_told(app: Flask) -> None:
    world = make_grant()
    stranger = make_user(Role.applicant, make_org(OrgKind.startup))
    with pytest.raises(NotAllowed):
        evidence.submit_evidence(
            stranger, world.milestones[2].id, "n", {0: "1"}, [], TODAY, upload_folder=uploads()
        )
