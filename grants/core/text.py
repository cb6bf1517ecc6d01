"""Text people type: what can be stored and shown, and figures written as they are meant.

NUL cannot be stored by PostgreSQL, and the other control characters (escape, bell,
delete ...) corrupt what is shown, mailed or exported; tab and line breaks belong only in
multi-line text.
"""

from __future__ import annotations

import re
import unicodedata

from grants.core.problems import N_, Problem

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CONTROL_OR_BREAK = re.compile(r"[\x00-\x1f\x7f]")


def control_problem(text: str, multiline: bool = False) -> Problem | None:
    """Why `text` cannot be kept (a control character it holds), or None."""
    found = (_CONTROL if multiline else _CONTROL_OR_BREAK).search(text)
    if found is None:
        return None
    if found.group() in "\t\r\n":
        return N_("Line breaks and tabs are not allowed here.")
    return N_(
        "The text contains a control character (U+%(code)s).", code=f"{ord(found.group()):04X}"
    )


def without_controls(text: str) -> str:
    """`text` with its control characters (line breaks too) removed: for a search term."""
    return _CONTROL_OR_BREAK.sub("", text)


def figure(text: str) -> str:
    """A figure as typed, in plain characters: full-width digits, letters and signs (NFKC)."""
    return unicodedata.normalize("NFKC", text).strip()
