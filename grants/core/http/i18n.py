"""Locale choice. Pages: the user's setting, then the language switch, then Accept-Language.
API: Accept-Language, then the token owner's setting."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, g, has_request_context, request, session
from flask_babel import get_locale, get_translations
from flask_login import current_user
from jinja2 import pass_context
from jinja2.runtime import Context

from grants.core.i18n import translate
from grants.core.identity import Locale

SESSION_KEY = "locale"
CATALOGUE_KEY = "_catalogue"


def select_locale() -> str:
    if not has_request_context():  # command line and scheduled jobs
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    api_user = g.get("api_user")  # an API request, signed by its token (no session)
    if api_user is not None:
        asked = request.accept_languages.best_match(current_app.config["LANGUAGES"])
        return asked or str(api_user.locale)
    if current_user and current_user.is_authenticated:
        return str(current_user.locale)
    chosen = session.get(SESSION_KEY)
    if chosen in current_app.config["LANGUAGES"]:
        return chosen
    best = request.accept_languages.best_match(current_app.config["LANGUAGES"])
    return best or current_app.config["BABEL_DEFAULT_LOCALE"]


def offline_locale() -> str:
    """The language chosen without the database: the language switch, else the browser's."""
    chosen = session.get(SESSION_KEY)
    if chosen in current_app.config["LANGUAGES"]:
        return str(chosen)
    best = request.accept_languages.best_match(current_app.config["LANGUAGES"])
    return best or current_app.config["BABEL_DEFAULT_LOCALE"]


def localise(messages: Any) -> Any:
    """Problems, alone or nested in field errors, in the request's language."""
    return translate(messages, str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"]))


def select_timezone() -> str:
    return "Asia/Tokyo"


def parse_locale(value: str | None) -> Locale | None:
    try:
        return Locale(value or "")
    except ValueError:
        return None


def install_template_gettext(app: Flask) -> None:
    """Template `_()` and `ngettext()` that look the catalogue up once per render.

    Flask-Babel's callables find the catalogue again for every string (a page has
    hundreds); these read the one the page is rendered with from the template context
    (set by a context processor), and ask Flask-Babel only where it is missing (macros
    imported without context).
    """

    @pass_context
    def gettext(context: Context, message: str) -> str:
        return _catalogue(context).ugettext(message)

    @pass_context
    def ngettext(context: Context, singular: str, plural: str, n: int) -> str:
        return _catalogue(context).ungettext(singular, plural, n)

    app.jinja_env.install_gettext_callables(gettext, ngettext, newstyle=True)  # type: ignore[attr-defined]
    app.context_processor(lambda: {CATALOGUE_KEY: get_translations()})


def _catalogue(context: Context) -> Any:
    return context.get(CATALOGUE_KEY) or get_translations()
