"""Reading the services' messages as a reader would: in a language.

Services raise Problems (English text that keeps its msgid); the edges say them in the
reader's language. Tests do the same: `said(error.message)` is the Japanese text a page
shows, and `raises_saying` is pytest.raises(match=...) against that text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from grants.core.i18n import translate


def said(message: Any, locale: str = "ja") -> Any:
    """A Problem (or field errors holding them) as a reader of `locale` reads it."""
    return translate(message, locale)


@contextmanager
def raises_saying(
    kind: type[BaseException], pattern: str, locale: str = "ja"
) -> Iterator[pytest.ExceptionInfo[Any]]:
    """pytest.raises(kind) whose message, said in `locale`, matches `pattern`."""
    with pytest.raises(kind) as caught:
        yield caught
    message = getattr(caught.value, "message", None) or str(caught.value)
    text = said(message, locale)
    assert re.search(pattern, text), f"{pattern!r} not in {text!r}"
