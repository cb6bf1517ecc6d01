"""`flask grants backup DIR` and `flask grants restore DIR`.

A backup folder holds the database copy (databases.py), the upload folder as uploads/, the
task-result folder as task-results/, and manifest.json: the SHA-256 of every file, the
database's migration revision and its audit chain (events, head hash, intact). The
database is copied first, then the files: a file uploaded meanwhile may be in the backup
without its row, never a row without its file.

Restoring checks everything before writing anything: the manifest, every file against its
hash (a file missing, changed or added is refused), then that the database has no table
and both folders are empty or absent. It loads the database, reads its audit chain again
(it must be the manifest's, else the database is emptied again), and copies the files.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from grants.operations import databases
from grants.operations.databases import BackupError

FORMAT = "grants-backup/1"
MANIFEST = "manifest.json"
# The folders of a backup: uploaded evidence and prepared task results.
FOLDERS = ("uploads", "task-results")
_CHUNK = 1024 * 1024
_PARTIAL = ".part"  # a task result still being written


@dataclass(frozen=True)
class Manifest:
    data: dict[str, Any]

    @property
    def audit(self) -> dict[str, Any]:
        return dict(self.data["audit"])

    @property
    def files(self) -> dict[str, str]:
        return dict(self.data["files"])


def make_backup(
    target: Path, engine: Engine, folders: Mapping[str, Path], now: datetime
) -> Manifest:
    """Write a backup of the database and `folders` (by FOLDERS name) into `target`."""
    _check_new_folder(target)
    created = not target.exists()
    target.mkdir(exist_ok=True)
    try:
        copy = _dump(engine, target)
        for name in FOLDERS:
            _copy_tree(folders[name], target / name)
        manifest = {
            "format": FORMAT,
            "created_at": now.isoformat(),
            "database": {
                "dialect": engine.dialect.name,
                "file": copy.file,
                "revision": copy.revision,
            },
            "audit": copy.audit,
            "files": {name: sha256_of(target / name) for name in _relative_files(target)},
        }
        (target / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    except BaseException:
        _remove_contents(target, created)
        raise
    return Manifest(manifest)


def restore_backup(source: Path, engine: Engine, folders: Mapping[str, Path]) -> Manifest:
    """Restore `source` into the empty database of `engine` and the empty `folders`."""
    manifest = read_manifest(source)
    _check_files(source, manifest)
    _check_targets(manifest, engine, folders)
    _restore_database(source, manifest, engine)
    written: list[Path] = []
    try:
        for name in FOLDERS:
            written += _restore_tree(source / name, folders[name], manifest)
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        databases.empty(engine)
        raise
    return manifest


# --- writing --------------------------------------------------------------------------------


def _check_new_folder(target: Path) -> None:
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise BackupError(f"{target} is not an empty folder: give a new or an empty one.")
    if not target.parent.is_dir():
        raise BackupError(f"{target.parent} does not exist: create it first.")


def _dump(engine: Engine, target: Path) -> databases.DatabaseCopy:
    dumps: dict[str, Callable[[Engine, Path], databases.DatabaseCopy]] = {
        "sqlite": databases.dump_sqlite,
        "postgresql": databases.dump_postgres,
    }
    dump = dumps.get(engine.dialect.name)
    if dump is None:
        raise BackupError(f"Backups of {engine.dialect.name} databases are not supported.")
    return dump(engine, target)


def _copy_tree(source: Path, target: Path) -> None:
    target.mkdir()
    if not source.is_dir():
        return
    for path in sorted(source.rglob("*")):
        if path.is_file() and not path.name.endswith(_PARTIAL):
            destination = target / path.relative_to(source)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, destination)


def _relative_files(folder: Path) -> list[str]:
    """Every file in `folder` but the manifest, as a relative POSIX path."""
    return [
        path.relative_to(folder).as_posix()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.relative_to(folder).as_posix() != MANIFEST
    ]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _remove_contents(target: Path, created: bool) -> None:
    if created:
        shutil.rmtree(target, ignore_errors=True)
        return
    for path in target.iterdir():
        shutil.rmtree(path) if path.is_dir() else path.unlink()


# --- checking ---------------------------------------------------------------------------------


def read_manifest(source: Path) -> Manifest:
    if not source.is_dir():
        raise BackupError(f"{source} is not a folder: give the folder a backup was written to.")
    try:
        data = json.loads((source / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BackupError(f"{source} has no {MANIFEST}: it is not a backup folder.") from None
    except (ValueError, UnicodeDecodeError) as error:
        raise BackupError(f"{source / MANIFEST} is not readable JSON: {error}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise BackupError(f"{source / MANIFEST} is not a {FORMAT} manifest.")
    for key in ("database", "audit", "files"):
        if not isinstance(data.get(key), dict):
            raise BackupError(f"{source / MANIFEST} has no valid '{key}'.")
    return Manifest(data)


def _check_files(source: Path, manifest: Manifest) -> None:
    listed = manifest.files
    for name in listed:
        _check_relative(name)
    if unexpected := sorted(set(_relative_files(source)) - set(listed)):
        raise BackupError(f"{source / unexpected[0]} is not in the manifest: refused.")
    for name, digest in listed.items():
        path = source / name
        if not path.is_file():
            raise BackupError(f"{path} is missing.")
        if sha256_of(path) != digest:
            raise BackupError(f"{path} does not match its SHA-256 in the manifest: refused.")
    if manifest.data["database"].get("file") not in listed:
        raise BackupError("The manifest names no database file among its files.")


def _check_relative(name: str) -> None:
    """A path inside the backup folder: no absolute path, no way up."""
    parts = PurePosixPath(name).parts
    if not name or PurePosixPath(name).is_absolute() or ".." in parts or "\\" in name:
        raise BackupError(f"The manifest names a file outside the backup: {name!r}.")


def _check_targets(manifest: Manifest, engine: Engine, folders: Mapping[str, Path]) -> None:
    dialect = manifest.data["database"].get("dialect")
    if dialect != engine.dialect.name:
        raise BackupError(
            f"The backup is of a {dialect} database; this installation uses {engine.dialect.name}."
        )
    if not databases.is_empty(engine):
        raise BackupError(
            "The database is not empty: restore into a new database without tables (create "
            "it, point GRANTS_DATABASE_URL at it, and do not run `flask db upgrade` before)."
        )
    for name in FOLDERS:
        folder = folders[name]
        if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
            raise BackupError(f"{folder} is not empty: restore into an empty or new folder.")


# --- restoring ------------------------------------------------------------------------------


def _restore_database(source: Path, manifest: Manifest, engine: Engine) -> None:
    copy = source / manifest.data["database"]["file"]
    sqlite = engine.dialect.name == "sqlite"
    load = databases.restore_sqlite if sqlite else databases.restore_postgres
    try:
        load(engine, copy)
        with Session(bind=engine) as session:
            found = databases.audit_summary(session)
    except BaseException:
        databases.empty(engine)
        raise
    if found != manifest.audit:
        databases.empty(engine)
        raise BackupError(
            f"The restored audit log does not match the manifest: {found['events']} events up "
            f"to {found['head']} (intact: {found['intact']}) instead of "
            f"{manifest.audit.get('events')} up to {manifest.audit.get('head')}. "
            "The database was emptied again."
        )


def _restore_tree(source: Path, target: Path, manifest: Manifest) -> list[Path]:
    written: list[Path] = []
    target.mkdir(parents=True, exist_ok=True)
    prefix = source.name + "/"
    for name in sorted(manifest.files):
        if name.startswith(prefix):
            destination = target / name.removeprefix(prefix)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source / name.removeprefix(prefix), destination)
            written.append(destination)
    return written
