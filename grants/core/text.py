"""Text people type: what can be stored and shown, and figures written as they are meant.

NUL cannot be stored by PostgreSQL, and the other control characters (escape, bell,
delete ...) corrupt what is shown, mailed or exported; tab and line breaks belong only in
multi-line text.

Invisible characters can make a text show something else than it says ("Trojan Source"):
the bidirectional overrides and isolates (U+202A-U+202E, U+2066-U+2069) reverse what
follows them, and zero-width ones (U+200B, U+2060, U+FEFF) hide inside a name. They are
refused everywhere, as are the line and paragraph separators (U+2028, U+2029), which some
programs show as a line break and others not at all. The joiners (U+200C, U+200D) are
refused in a single line (a name, a title) but kept in multi-line text, where emoji
sequences and some scripts need them.

Text that arrived broken is refused too: a lone surrogate (U+D800-U+DFFF, which JSON's
"\\ud800" escape can carry but no encoding can store) and the replacement character
U+FFFD, which is what bytes that were not UTF-8 become when a form or query string is read.
"""

from __future__ import annotations

import re
import unicodedata

from grants.core.problems import N_, Problem

_C0 = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f"
_BREAKS = "\t\n\r"
_BIDI = "\u202a-\u202e\u2066-\u2069"
_INVISIBLE = "\u200b\u2060\ufeff"
_JOINERS = "\u200c\u200d"
_SEPARATORS = "\u2028\u2029"
_BROKEN = "\ud800-\udfff\ufffd"
_MULTILINE_REFUSED = re.compile(f"[{_C0}{_BIDI}{_INVISIBLE}{_SEPARATORS}{_BROKEN}]")
_LINE_REFUSED = re.compile(f"[{_C0}{_BREAKS}{_BIDI}{_INVISIBLE}{_JOINERS}{_SEPARATORS}{_BROKEN}]")
_CONTROL_OR_BREAK = re.compile(f"[{_C0}{_BREAKS}]")


def control_problem(text: str, multiline: bool = False) -> Problem | None:
    """Why `text` cannot be kept (a control or invisible character it holds), or None."""
    found = (_MULTILINE_REFUSED if multiline else _LINE_REFUSED).search(text)
    if found is None:
        return None
    character = found.group()
    code = f"{ord(character):04X}"
    if character in "\t\r\n" or (character in _SEPARATORS and not multiline):
        return N_("Line breaks and tabs are not allowed here.")
    if character in _SEPARATORS:
        return N_(
            "The text contains a line separator (U+%(code)s): use an ordinary line break.",
            code=code,
        )
    if re.match(f"[{_BIDI}]", character):
        return N_(
            "The text contains a character that reverses the direction of what follows "
            "(U+%(code)s).",
            code=code,
        )
    if re.match(f"[{_BROKEN}]", character):
        return N_(
            "The text contains a character that could not be read (U+%(code)s): send it as UTF-8.",
            code=code,
        )
    if re.match(f"[{_INVISIBLE}{_JOINERS}]", character):
        return N_("The text contains an invisible character (U+%(code)s).", code=code)
    return N_("The text contains a control character (U+%(code)s).", code=code)


# What a spreadsheet reads as the start of a formula (full-width forms too: Excel in Japan
# takes them as well), when a cell's text begins with it.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
_PLAIN_NUMBER = re.compile(r"[+-]?\d[\d,]*(\.\d+)?([eE][+-]?\d+)?%?")

Cell = str | int | None


def formula_like(text: str) -> bool:
    """Whether a spreadsheet would evaluate a cell holding `text` as a formula: it begins
    like one and is not a plain signed number (-5, +1.5e3: read as the number)."""
    return text.startswith(FORMULA_START) and _PLAIN_NUMBER.fullmatch(text) is None


def neutralise(cell: Cell) -> Cell:
    """A text cell a spreadsheet would evaluate, made inert with a leading apostrophe."""
    if isinstance(cell, str) and cell.startswith(FORMULA_START):
        return "'" + cell
    return cell


def without_controls(text: str) -> str:
    """`text` with every character a single line refuses removed: for a search term."""
    return _LINE_REFUSED.sub("", text)


def figure(text: str) -> str:
    """A figure as typed, in plain characters: full-width digits, letters and signs (NFKC)."""
    return unicodedata.normalize("NFKC", text).strip()
