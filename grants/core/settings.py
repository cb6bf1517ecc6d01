"""Loads configuration: config/default.py, the environment's module, GRANTS_* variables."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Any

from flask import Config

ENVIRONMENTS = ("development", "testing", "production")
_RENAMED = {"DATABASE_URL": "SQLALCHEMY_DATABASE_URI"}


class ConfigurationError(RuntimeError):
    """The configuration cannot run the application."""


def load_config(config: Config, instance_path: str, overrides: dict[str, Any] | None) -> None:
    env = os.environ.get("GRANTS_ENV", "development")
    if overrides and "ENV_NAME" in overrides:
        env = overrides["ENV_NAME"]
    if env not in ENVIRONMENTS:
        raise ConfigurationError(
            f"GRANTS_ENV must be one of {', '.join(ENVIRONMENTS)}, not {env!r}"
        )
    config.from_object("config.default")
    config.from_object(f"config.{env}")
    config.update(_from_environment(config))
    config.update(overrides or {})
    config["ENV_NAME"] = env
    _ensure_database(config, instance_path)
    _ensure_secret_key(config, instance_path, env)


def _from_environment(config: Config) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, raw in os.environ.items():
        if not name.startswith("GRANTS_") or name == "GRANTS_ENV":
            continue
        key = _RENAMED.get(name[7:], name[7:])
        values[key] = _parse(raw, config.get(key))
    return values


def _parse(raw: str, default: Any) -> Any:
    if isinstance(default, bool):
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, dict | list | tuple):
        return json.loads(raw)
    return raw


def _ensure_database(config: Config, instance_path: str) -> None:
    if not config.get("SQLALCHEMY_DATABASE_URI"):
        Path(instance_path).mkdir(parents=True, exist_ok=True)
        path = Path(instance_path) / "grants.sqlite3"
        config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{path}"
    if not config.get("UPLOAD_FOLDER"):
        config["UPLOAD_FOLDER"] = str(Path(instance_path) / "uploads")


def _ensure_secret_key(config: Config, instance_path: str, env: str) -> None:
    if config.get("SECRET_KEY"):
        return
    if env == "production":
        raise ConfigurationError(
            "GRANTS_SECRET_KEY is not set. Production refuses to start without a secret key: "
            'set GRANTS_SECRET_KEY to a long random value, e.g. python -c "import secrets; '
            'print(secrets.token_hex(32))".'
        )
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    config["SECRET_KEY"] = path.read_text().strip()
