"""Every translatable string has a Japanese and an English entry.

The extraction here mirrors `make i18n-extract`: the same mapping (babel.cfg),
the same directory filter (the Makefile's ``--ignore-dirs``) and the same
keywords, so a string the Makefile would extract cannot be missed here.
"""

import fnmatch
import os
import shlex
from functools import cache
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]


def _makefile_extract_args() -> list[str]:
    """The arguments of the Makefile's `pybabel extract` call (i18n-extract)."""
    text = (ROOT / "Makefile").read_text(encoding="utf-8").replace("\\\n", " ")
    line = next(line for line in text.splitlines() if "pybabel extract" in line)
    args = shlex.split(line)
    return args[args.index("extract") + 1 :]


def _option(args: list[str], *names: str) -> list[str]:
    values = []
    for index, arg in enumerate(args):
        for name in names:
            if arg == name:
                values.append(args[index + 1])
            elif arg.startswith(f"{name}="):
                values.append(arg.split("=", 1)[1])
    return values


def _keywords() -> dict:  # type: ignore[type-arg]
    extra = _option(_makefile_extract_args(), "-k", "--keyword", "--keywords")
    return {**DEFAULT_KEYWORDS, **{name: None for value in extra for name in value.split()}}


def _ignore_dirs() -> list[str]:
    values = _option(_makefile_extract_args(), "--ignore-dirs")
    if not values:
        # Babel's default filter skips every "." and "_" directory (templates/_macros!).
        pytest.fail("make i18n-extract must pass --ignore-dirs so templates/_macros is scanned")
    return [pattern for value in values for pattern in value.split()]


def _directory_filter(patterns: list[str]):  # type: ignore[no-untyped-def]
    # Same rule as pybabel's --ignore-dirs: match each directory's basename.
    def keep(dirname: str) -> bool:
        name = os.path.basename(dirname)
        return not any(fnmatch.fnmatch(name, pattern) for pattern in patterns)

    return keep


@cache
def _extraction() -> tuple[frozenset[str], frozenset[str]]:
    """(message ids, scanned files relative to ROOT)."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    scanned: set[str] = set()
    ids: set[str] = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT),
        method_map,
        options_map,
        keywords=_keywords(),
        callback=lambda filename, _method, _options: scanned.add(filename),
        directory_filter=_directory_filter(_ignore_dirs()),
    ):
        ids.add(message[0] if isinstance(message, tuple) else message)
    return frozenset(ids), frozenset(scanned)


def _extracted() -> frozenset[str]:
    return _extraction()[0]


def _catalog(locale: str):  # type: ignore[no-untyped-def]
    path = ROOT / "grants" / "translations" / locale / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        return read_po(handle, locale=locale)


def test_strings_are_extracted() -> None:
    assert "Sign in" in _extracted()


def test_every_template_and_module_is_scanned() -> None:
    expected = {
        path.relative_to(ROOT).as_posix()
        for pattern in ("templates/**/*.html", "templates/**/*.txt", "grants/**/*.py")
        for path in ROOT.glob(pattern)
        if "__pycache__" not in path.parts
    }
    assert any(name.startswith("templates/_macros/") for name in expected)
    assert sorted(expected - _extraction()[1]) == []


def test_macro_strings_are_extracted() -> None:
    assert "Page %(page)d of %(pages)d" in _extracted()


@pytest.mark.parametrize("locale", ["ja", "en"])
def test_catalogue_has_every_string(locale: str) -> None:
    catalog = _catalog(locale)
    missing = sorted(m for m in _extracted() if m not in catalog)
    assert missing == []


def test_japanese_catalogue_is_fully_translated() -> None:
    catalog = _catalog("ja")
    untranslated = [
        m.id
        for m in catalog
        if m.id and (not m.string or (isinstance(m.string, tuple) and not all(m.string)))
    ]
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert untranslated == [] and fuzzy == []
