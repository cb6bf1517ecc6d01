"""Locale choice: the user's setting, then the language switch, then Accept-Language."""

from __future__ import annotations

from flask import current_app, has_request_context, request, session
from flask_login import current_user

from grants.domain.accounts import Locale

SESSION_KEY = "locale"


def select_locale() -> str:
    if not has_request_context():  # command line and scheduled jobs
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if current_user and current_user.is_authenticated:
        return str(current_user.locale)
    chosen = session.get(SESSION_KEY)
    if chosen in current_app.config["LANGUAGES"]:
        return chosen
    best = request.accept_languages.best_match(current_app.config["LANGUAGES"])
    return best or current_app.config["BABEL_DEFAULT_LOCALE"]


def select_timezone() -> str:
    return "Asia/Tokyo"


def parse_locale(value: str | None) -> Locale | None:
    try:
        return Locale(value or "")
    except ValueError:
        return None
