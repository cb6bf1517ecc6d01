"""Every translatable string has a Japanese and an English entry."""

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
METHODS = [
    ("grants/**.py", "python"),
    ("templates/**.html", "jinja2"),
    ("templates/**.txt", "jinja2"),
]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}


def _extracted() -> set[str]:
    ids = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), METHODS, keywords=KEYWORDS
    ):
        ids.add(message[0] if isinstance(message, tuple) else message)
    return ids


def _catalog(locale: str):  # type: ignore[no-untyped-def]
    path = ROOT / "grants" / "translations" / locale / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        return read_po(handle, locale=locale)


def test_strings_are_extracted() -> None:
    assert "Sign in" in _extracted()


@pytest.mark.parametrize("locale", ["ja", "en"])
def test_catalogue_has_every_string(locale: str) -> None:
    catalog = _catalog(locale)
    missing = sorted(m for m in _extracted() if m not in catalog)
    assert missing == []


def test_japanese_catalogue_is_fully_translated() -> None:
    untranslated = [
        m.id
        for m in _catalog("ja")
        if m.id and (not m.string or (isinstance(m.string, tuple) and not all(m.string)))
    ]
    fuzzy = [m.id for m in _catalog("ja") if m.id and m.fuzzy]
    assert untranslated == [] and fuzzy == []
