"""The application factory and configuration."""

from pathlib import Path

import pytest

from grants import create_app
from grants.core.settings import ConfigurationError


def test_production_without_secret_key_refuses_to_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRANTS_ENV", "production")
    monkeypatch.delenv("GRANTS_SECRET_KEY", raising=False)
    monkeypatch.setenv("GRANTS_DATABASE_URL", "sqlite://")
    with pytest.raises(ConfigurationError, match="GRANTS_SECRET_KEY"):
        create_app()


def test_production_reads_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRANTS_ENV", "production")
    monkeypatch.setenv("GRANTS_SECRET_KEY", "s" * 40)
    monkeypatch.setenv("GRANTS_DATABASE_URL", "sqlite://")
    monkeypatch.setenv("GRANTS_MAX_CONTENT_LENGTH", "1024")
    monkeypatch.setenv("GRANTS_MAIL_USE_TLS", "true")
    app = create_app()
    assert app.config["SECRET_KEY"] == "s" * 40
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "sqlite://"
    assert app.config["MAX_CONTENT_LENGTH"] == 1024
    assert app.config["MAIL_USE_TLS"] is True
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_unknown_environment_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRANTS_ENV", "staging")
    with pytest.raises(ConfigurationError, match="GRANTS_ENV"):
        create_app()


def test_development_generates_and_keeps_a_secret_key(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("GRANTS_ENV", "development")
    monkeypatch.delenv("GRANTS_SECRET_KEY", raising=False)
    monkeypatch.setattr("grants.app.ROOT", tmp_path)
    (tmp_path / "grants").mkdir()
    first = create_app()
    second = create_app()
    key_file = tmp_path / "instance" / "secret_key"
    assert key_file.exists() and oct(key_file.stat().st_mode)[-3:] == "600"
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"] == key_file.read_text()
    assert first.config["SQLALCHEMY_DATABASE_URI"].endswith("instance/grants.sqlite3")


def test_overrides_win(app) -> None:  # type: ignore[no-untyped-def]
    assert app.config["TESTING"] is True
    assert app.config["ENV_NAME"] == "testing"
