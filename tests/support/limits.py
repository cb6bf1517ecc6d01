"""Sign-in attempts on another app server: a process of its own with its own create_app()
and limiter, sharing only the database and the limiter's storage with the others."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def attempts_on_a_server(
    database_url: str, storage_uri: str, email: str, passwords: list[str]
) -> list[int]:
    """The status of each sign-in with `passwords` in turn, on a new server process whose
    GRANTS_RATELIMIT_STORAGE_URI is `storage_uri`."""
    env = {**os.environ, "GRANTS_RATELIMIT_STORAGE_URI": storage_uri}
    code = "from tests.support.limits import main; main()"
    arguments = [database_url, email, json.dumps(passwords)]
    done = subprocess.run(
        [sys.executable, "-c", code, *arguments],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return list(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    from grants import create_app
    from tests.support.web import post_form

    database_url, email, passwords = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    app = create_app({"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": database_url})
    client = app.test_client()
    statuses = [
        post_form(client, "/login", {"email": email, "password": password}).status_code
        for password in passwords
    ]
    print(json.dumps(statuses))
