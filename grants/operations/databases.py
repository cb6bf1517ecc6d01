"""A consistent copy of the database, and its restoration, on SQLite and on PostgreSQL.

SQLite: the online backup API copies one snapshot while the application keeps running,
and the audit chain is read from the copy. PostgreSQL: a REPEATABLE READ transaction
exports its snapshot, reads the audit chain in it, and pg_dump (custom format) dumps that
very snapshot; pg_restore loads it. The audit chain's report (events, head, intact) is
what restoring must find again.
"""

from __future__ import annotations

import glob
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic.migration import MigrationContext
from sqlalchemy import MetaData, create_engine, inspect, text
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.orm import Session

from grants.core.audit import verify_chain

SQLITE_FILE = "database.sqlite3"
POSTGRES_FILE = "database.dump"
TOOL_TIMEOUT_SECONDS = 3600


class BackupError(Exception):
    """What the operator is told; nothing was written (or what was, was removed)."""


@dataclass(frozen=True)
class DatabaseCopy:
    file: str  # its name in the backup folder
    revision: str | None  # alembic's, None for a schema made without migrations
    audit: dict[str, Any]  # {"events": n, "head": hash, "intact": bool}


def audit_summary(session: Session) -> dict[str, Any]:
    report = verify_chain(session=session)
    return {"events": report.checked, "head": report.head, "intact": report.ok}


def _revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def is_empty(engine: Engine) -> bool:
    """No table at all: a database made for the restore, not yet migrated."""
    return not inspect(engine).get_table_names()


def empty(engine: Engine) -> None:
    """Drop everything a failed restore wrote (the database was empty before)."""
    metadata = MetaData()
    metadata.reflect(bind=engine)
    metadata.drop_all(bind=engine)
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            for enum in inspect(connection).get_enums():  # type: ignore[attr-defined]
                connection.exec_driver_sql(f'DROP TYPE IF EXISTS "{enum["name"]}" CASCADE')


# --- SQLite -----------------------------------------------------------------------------------


def sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("An in-memory SQLite database cannot be backed up or restored.")
    return Path(url.database).resolve()


def dump_sqlite(engine: Engine, folder: Path) -> DatabaseCopy:
    target = folder / SQLITE_FILE
    source_path = sqlite_path(engine.url)
    with closing(sqlite3.connect(source_path)) as source, closing(sqlite3.connect(target)) as copy:
        source.backup(copy)  # one consistent snapshot, the application running on
    return DatabaseCopy(SQLITE_FILE, *read_copy(f"sqlite:///{target}"))


def read_copy(url: str) -> tuple[str | None, dict[str, Any]]:
    """The migration revision and the audit chain of another database (a copy)."""
    other = create_engine(url)
    try:
        with other.connect() as connection, Session(bind=connection) as session:
            return _revision(connection), audit_summary(session)
    finally:
        other.dispose()


def restore_sqlite(engine: Engine, copy: Path) -> None:
    target = sqlite_path(engine.url)
    engine.dispose()  # no pooled connection keeps reading the empty file
    with closing(sqlite3.connect(copy)) as source, closing(sqlite3.connect(target)) as into:
        source.backup(into)
    engine.dispose()


# --- PostgreSQL ------------------------------------------------------------------------------


def find_tool(name: str) -> str:
    """pg_dump or pg_restore: on PATH, else the newest in /usr/lib/postgresql/*/bin."""
    found = shutil.which(name)
    if found:
        return found
    for candidate in sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True):
        if os.access(candidate, os.X_OK):
            return candidate
    raise BackupError(
        f"{name} was not found: install the PostgreSQL client programs (the server's major "
        f"version or newer) or put {name} on PATH."
    )


def dump_postgres(engine: Engine, folder: Path) -> DatabaseCopy:
    target = folder / POSTGRES_FILE
    with _exported_snapshot(engine) as (connection, snapshot):
        with Session(bind=connection) as session:
            audit = audit_summary(session)
        revision = _revision(connection)
        _run(
            find_tool("pg_dump"),
            ["--format=custom", f"--snapshot={snapshot}", f"--file={target}", "--no-password"],
            engine.url,
        )
    return DatabaseCopy(POSTGRES_FILE, revision, audit)


@contextmanager
def _exported_snapshot(engine: Engine) -> Iterator[tuple[Connection, str]]:
    """A transaction whose snapshot pg_dump can share (it stays open until pg_dump ends)."""
    with engine.connect() as connection:
        reading = connection.execution_options(isolation_level="REPEATABLE READ")
        with reading.begin():
            yield reading, str(reading.scalar(text("SELECT pg_export_snapshot()")))


def restore_postgres(engine: Engine, dump: Path) -> None:
    engine.dispose()
    options = ["--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction"]
    _run(find_tool("pg_restore"), [*options, "--no-password", str(dump)], engine.url, "--dbname")


def _run(tool: str, arguments: list[str], url: URL, database_flag: str = "") -> None:
    """Run a PostgreSQL client program on `url`; the password goes in the environment."""
    address = url.set(drivername="postgresql", password=None)
    location = address.render_as_string(hide_password=False)
    target = [f"{database_flag}={location}"] if database_flag else [location]
    environment = {**os.environ, **({"PGPASSWORD": str(url.password)} if url.password else {})}
    result = subprocess.run(
        [tool, *arguments, *target],
        env=environment,
        capture_output=True,
        text=True,
        timeout=TOOL_TIMEOUT_SECONDS,
        check=False,
    )
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip()
        raise BackupError(f"{Path(tool).name} failed: {detail}")
