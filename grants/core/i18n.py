"""Saying a Problem in a given language, inside or outside a request.

The catalogues are the app's (grants/translations); the web and API edges translate in
the request's language, e-mails and exports in the language they are made for.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from babel.support import NullTranslations, Translations

from grants.core.problems import Problem, localisable

CATALOGUES = Path(__file__).resolve().parents[1] / "translations"


@cache
def catalogue(locale: str) -> NullTranslations:
    return Translations.load(str(CATALOGUES), [locale])


def translate(message: Any, locale: str) -> Any:
    """Problems, alone or nested in field errors (dicts and lists), said in `locale`; other
    values as they are."""
    if isinstance(message, Problem):
        params = {key: translate(value, locale) for key, value in message.params.items()}
        text = catalogue(locale).ugettext(message.template)
        return text % params if params else text
    if localisable(message):
        return message.localised(locale)
    if isinstance(message, Mapping):
        return {key: translate(value, locale) for key, value in message.items()}
    if isinstance(message, list | tuple):
        return [translate(item, locale) for item in message]
    return message
