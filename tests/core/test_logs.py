"""No access log prints the calendar feed's secret, nor a password link's: the development
server's request log, and gunicorn's with config/gunicorn.conf.py."""

from __future__ import annotations

import logging
import os
import runpy
import subprocess
import sys
import time
import urllib.request
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask

from grants.alerts.calendar import service as calendar_feed
from grants.core.identity import Role
from grants.core.logs import mask_secrets
from grants.extensions import db
from tests.support.factories import make_user
from tests.support.smtp import free_port

TOKEN = "s3cr3t-Token_value"


def test_the_feed_secret_is_masked_wherever_it_appears() -> None:
    assert mask_secrets(f"GET /calendar/{TOKEN}.ics HTTP/1.1") == (
        "GET /calendar/[token].ics HTTP/1.1"
    )
    assert mask_secrets(f"https://grants.example.jp/calendar/{TOKEN}.ics?x=1") == (
        "https://grants.example.jp/calendar/[token].ics?x=1"
    )
    assert mask_secrets("GET /settings/calendar HTTP/1.1") == "GET /settings/calendar HTTP/1.1"


def test_the_secret_of_a_password_link_is_masked() -> None:
    assert mask_secrets(f"POST /invitation/{TOKEN} HTTP/1.1") == (
        "POST /invitation/[token] HTTP/1.1"
    )
    assert mask_secrets(f'"https://grants.example.jp/password/reset/{TOKEN}?x=1"') == (
        '"https://grants.example.jp/password/reset/[token]?x=1"'
    )
    assert mask_secrets("POST /password/forgot HTTP/1.1") == "POST /password/forgot HTTP/1.1"


def test_the_development_servers_request_log_is_masked(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="werkzeug"):
        logging.getLogger("werkzeug").info(  # as werkzeug's request handler logs
            '%s - - [%s] "%s" %s %s', "127.0.0.1", "now", f"GET /calendar/{TOKEN}.ics", 200, 9
        )
    assert TOKEN not in caplog.text
    assert '"GET /calendar/[token].ics" 200 9' in caplog.text


def _gunicorn_settings(repo_root: Path) -> dict[str, Any]:
    return runpy.run_path(str(repo_root / "config" / "gunicorn.conf.py"))


def test_the_gunicorn_loggers_atoms_are_masked(repo_root: Path) -> None:
    from gunicorn.config import Config

    logger = _gunicorn_settings(repo_root)["logger_class"](Config())
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": f"/calendar/{TOKEN}.ics",
        "PATH_INFO": f"/calendar/{TOKEN}.ics",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_REFERER": f"https://example.jp/calendar/{TOKEN}.ics",
    }
    response = SimpleNamespace(status="200 OK", headers=[], sent=10)
    request = SimpleNamespace(headers=[("REFERER", environ["HTTP_REFERER"])])
    atoms = logger.atoms(response, request, environ, timedelta(milliseconds=5))
    assert TOKEN not in repr(atoms)
    assert atoms["r"] == "GET /calendar/[token].ics HTTP/1.1"
    assert atoms["U"] == "/calendar/[token].ics"


def test_gunicorn_with_the_config_logs_the_feed_without_its_secret(
    app: Flask, repo_root: Path, tmp_path: Path
) -> None:
    token = calendar_feed.create_token(make_user(Role.applicant))
    db.session.commit()
    port, log = free_port(), tmp_path / "access.log"
    env = {
        **os.environ,
        "GRANTS_ENV": "testing",
        "GRANTS_DATABASE_URL": db.engine.url.render_as_string(hide_password=False),
    }
    command = [
        *(sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.conf.py"),
        *("--bind", f"127.0.0.1:{port}", "--workers", "1", "--access-logfile", str(log)),
        "wsgi:app",
    ]
    server = subprocess.Popen(command, cwd=repo_root, env=env, stderr=subprocess.PIPE)
    try:
        _wait_until_serving(port)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/calendar/{token}.ics") as feed:
            assert feed.status == 200 and b"BEGIN:VCALENDAR" in feed.read()
    finally:
        server.terminate()
        _out, errors = server.communicate(timeout=30)
    logged = log.read_text()
    assert '"GET /calendar/[token].ics HTTP/1.1" 200' in logged, logged
    assert token not in logged and token not in errors.decode()


def _wait_until_serving(port: int) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
