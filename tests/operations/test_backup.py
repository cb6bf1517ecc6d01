"""flask grants backup and restore: a round trip on the run's database (SQLite, or a second
database of the PostgreSQL cluster), and every refusal leaves nothing written."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import func, inspect, select

from grants import create_app
from grants.core.audit import verify_chain
from grants.extensions import db
from grants.milestones.evidence import service as evidence
from grants.operations.backup import MANIFEST, sha256_of
from grants.releases import service as releases
from tests.support.approvals import approve, officer
from tests.support.databases import scratch_database
from tests.support.grants import make_grant

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\n%%EOF\n"


@dataclass
class Source:
    audit_head: str
    audit_events: int
    rows: dict[str, int]
    uploads: dict[str, bytes]
    results: dict[str, bytes]


def _row_counts() -> dict[str, int]:
    return {
        table.name: int(db.session.scalar(select(func.count()).select_from(table)) or 0)
        for table in db.metadata.sorted_tables
    }


def _files(folder: Path) -> dict[str, bytes]:
    if not folder.is_dir():
        return {}
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


@pytest.fixture
def source(app: Flask) -> Source:
    """Data made through the services (audit events), an evidence file, a task result."""
    world = make_grant()
    approve(world, world.milestones[0])
    releases.release(officer(world), world.milestones[0].id, date(2026, 10, 15))
    evidence.submit_evidence(
        world.applicant,
        world.milestones[1].id,
        "IC50 reached 8 nM.",
        {0: "8"},
        [("round1.pdf", io.BytesIO(PDF), "application/pdf")],
        date(2026, 11, 1),
        upload_folder=Path(app.config["UPLOAD_FOLDER"]),
    )
    results = Path(app.config["TASK_RESULT_FOLDER"])
    results.mkdir(parents=True, exist_ok=True)
    (results / "export.csv").write_bytes(b"a,b\r\n")
    (results / "half.csv.part").write_bytes(b"a,")  # still being written: not backed up
    report = verify_chain()
    assert report.ok and report.checked >= 2
    uploads = _files(Path(app.config["UPLOAD_FOLDER"]))  # earlier tests' files too
    finished = {name: data for name, data in _files(results).items() if not name.endswith(".part")}
    db.session.rollback()
    return Source(report.head, report.checked, _row_counts(), uploads, finished)


@pytest.fixture
def target(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    """A second installation: an empty database and empty folders."""
    with scratch_database(database_url, tmp_path, "grants_restore") as url:
        restored = create_app(
            {
                "ENV_NAME": "testing",
                "SQLALCHEMY_DATABASE_URI": url,
                "UPLOAD_FOLDER": str(tmp_path / "restored-uploads"),
                "TASK_RESULT_FOLDER": str(tmp_path / "restored-results"),
            }
        )
        yield restored
        with restored.app_context():
            db.session.remove()
            db.engine.dispose()


def _backup(runner: FlaskCliRunner, folder: Path) -> None:
    result = runner.invoke(args=["grants", "backup", str(folder)])
    assert result.exit_code == 0, result.output
    assert "Backup written to" in result.output


def _restore(target: Flask, folder: Path) -> tuple[int, str]:
    with target.app_context():  # else the command runs in the test's own app context
        result = target.test_cli_runner().invoke(args=["grants", "restore", str(folder)])
        db.session.remove()
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def _untouched(target: Flask) -> None:
    with target.app_context():
        found = inspect(db.engine)
        assert found.get_table_names() == []
        if db.engine.dialect.name == "postgresql":
            assert found.get_enums() == []  # type: ignore[attr-defined]
        db.engine.dispose()
    for key in ("UPLOAD_FOLDER", "TASK_RESULT_FOLDER"):
        assert _files(Path(target.config[key])) == {}


def test_a_backup_restores_into_an_empty_installation(
    app: Flask, runner: FlaskCliRunner, source: Source, target: Flask, tmp_path: Path
) -> None:
    folder = tmp_path / "backup"
    _backup(runner, folder)
    manifest = json.loads((folder / MANIFEST).read_text())
    assert manifest["audit"] == {
        "events": source.audit_events,
        "head": source.audit_head,
        "intact": True,
    }
    assert manifest["database"]["dialect"] == db.engine.dialect.name
    for name, digest in manifest["files"].items():
        assert sha256_of(folder / name) == digest
    assert {name.split("/")[0] for name in manifest["files"]} == {
        manifest["database"]["file"],
        "uploads",
        "task-results",
    }
    assert "task-results/half.csv.part" not in manifest["files"]

    code, output = _restore(target, folder)
    assert code == 0, output
    assert f"head {source.audit_head}" in output
    with target.app_context():
        assert _row_counts() == source.rows
        report = verify_chain(anchor=source.audit_head)
        assert report.ok and report.head == source.audit_head
        db.session.remove()
    assert _files(Path(target.config["UPLOAD_FOLDER"])) == source.uploads
    assert _files(Path(target.config["TASK_RESULT_FOLDER"])) == source.results

    code, output = _restore(target, folder)  # a second time: the database is not empty now
    assert code == 1 and "The database is not empty" in output


def test_a_missing_folder_is_refused(target: Flask, tmp_path: Path) -> None:
    code, output = _restore(target, tmp_path / "nowhere")
    assert code == 1 and "is not a folder" in output
    _untouched(target)


@pytest.mark.parametrize("damage", ["changed", "removed", "added", "escaping"])
def test_a_tampered_backup_is_refused_before_anything_is_written(
    runner: FlaskCliRunner, source: Source, target: Flask, tmp_path: Path, damage: str
) -> None:
    folder = tmp_path / "backup"
    _backup(runner, folder)
    upload = next((folder / "uploads").iterdir())
    if damage == "changed":
        upload.write_bytes(upload.read_bytes() + b"%")
    elif damage == "removed":
        upload.unlink()
    elif damage == "added":
        (folder / "uploads" / "extra.pdf").write_bytes(PDF)
    else:
        manifest = json.loads((folder / MANIFEST).read_text())
        manifest["files"]["../../outside.txt"] = "0" * 64
        (folder / MANIFEST).write_text(json.dumps(manifest))
    code, output = _restore(target, folder)
    assert code == 1, output
    expected = {
        "changed": "does not match its SHA-256",
        "removed": "is missing",
        "added": "is not in the manifest",
        "escaping": "outside the backup",
    }[damage]
    assert expected in output
    _untouched(target)


def test_an_audit_log_that_is_not_the_manifests_is_emptied_again(
    runner: FlaskCliRunner, source: Source, target: Flask, tmp_path: Path
) -> None:
    folder = tmp_path / "backup"
    _backup(runner, folder)
    manifest = json.loads((folder / MANIFEST).read_text())
    manifest["audit"]["head"] = "f" * 64
    (folder / MANIFEST).write_text(json.dumps(manifest))
    code, output = _restore(target, folder)
    assert code == 1 and "does not match the manifest" in output
    _untouched(target)


def test_non_empty_target_folders_are_refused(
    runner: FlaskCliRunner, source: Source, target: Flask, tmp_path: Path
) -> None:
    folder = tmp_path / "backup"
    _backup(runner, folder)
    uploads = Path(target.config["UPLOAD_FOLDER"])
    uploads.mkdir()
    (uploads / "someone-elses.pdf").write_bytes(PDF)
    code, output = _restore(target, folder)
    assert code == 1 and "is not empty" in output
    with target.app_context():
        assert inspect(db.engine).get_table_names() == []
        db.engine.dispose()
    assert _files(uploads) == {"someone-elses.pdf": PDF}


def test_a_backup_is_only_written_into_a_new_or_empty_folder(
    runner: FlaskCliRunner, source: Source, tmp_path: Path
) -> None:
    folder = tmp_path / "used"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    result = runner.invoke(args=["grants", "backup", str(folder)])
    assert result.exit_code == 1 and "not an empty folder" in result.output
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt"]
    missing_parent = runner.invoke(args=["grants", "backup", str(tmp_path / "a" / "b")])
    assert missing_parent.exit_code == 1 and "does not exist" in missing_parent.output
    assert not (tmp_path / "a").exists()


def test_the_manifest_records_when_and_what(
    runner: FlaskCliRunner, source: Source, tmp_path: Path
) -> None:
    _backup(runner, tmp_path / "b")
    manifest = json.loads((tmp_path / "b" / MANIFEST).read_text())
    assert manifest["format"] == "grants-backup/1"
    created = datetime.fromisoformat(manifest["created_at"])
    assert abs((datetime.now(UTC) - created).total_seconds()) < 120
