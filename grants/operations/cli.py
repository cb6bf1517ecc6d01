"""flask grants backup DIR, flask grants restore DIR."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app

from grants.core.cli import grants_cli
from grants.core.models import utcnow
from grants.extensions import db
from grants.operations.backup import MANIFEST, Manifest, make_backup, restore_backup
from grants.operations.databases import BackupError
from grants.tasks.service import TaskSettings

_FOLDER = click.Path(file_okay=False, path_type=Path)


def _folders() -> dict[str, Path]:
    config = current_app.config
    tasks = TaskSettings.of(config, current_app.instance_path)
    return {"uploads": Path(config["UPLOAD_FOLDER"]).resolve(), "task-results": tasks.result_folder}


@grants_cli.command("backup")
@click.argument("directory", type=_FOLDER)
def backup_command(directory: Path) -> None:
    """Write a consistent copy of the database, the uploaded evidence and the prepared task
    results into DIRECTORY (new or empty), with a manifest of their SHA-256 hashes and the
    audit log's head hash."""
    try:
        manifest = make_backup(directory, db.engine, _folders(), utcnow())
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    _describe("Backup written to", directory, manifest)
    if not manifest.audit["intact"]:
        click.echo(
            "WARNING: the audit log's hash chain is broken in this database "
            "(see `flask grants audit-verify`); the backup keeps it as it is.",
            err=True,
        )


@grants_cli.command("restore")
@click.argument("directory", type=_FOLDER)
def restore_command(directory: Path) -> None:
    """Restore a backup from DIRECTORY into this installation's database, which must have no
    table yet, and its empty upload and task-result folders; every file is checked against
    the manifest first, the audit log against its head hash afterwards."""
    try:
        manifest = restore_backup(directory, db.engine, _folders())
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    _describe("Restored from", directory, manifest)
    click.echo("Run `flask db upgrade` if this version has newer migrations.")


def _describe(what: str, directory: Path, manifest: Manifest) -> None:
    audit, database = manifest.audit, manifest.data["database"]
    click.echo(f"{what} {directory}:")
    click.echo(
        f"  database: {database['dialect']} ({database['file']}), "
        f"migration {database['revision'] or 'none recorded'}"
    )
    click.echo(f"  files: {len(manifest.files)}, each with its SHA-256 in {MANIFEST}")
    click.echo(f"  audit log: {audit['events']} events, head {audit['head']}")
