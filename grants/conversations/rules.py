"""Conversations' pure rules: what a thread is about, and a message's text made safe to show
with its web addresses as links."""

from __future__ import annotations

import re
from enum import StrEnum

from markupsafe import Markup, escape

BODY_MAX = 10_000


class ThreadKind(StrEnum):
    """What a thread is about (a thread's subject_type; its subject_id names the row)."""

    application = "application"
    milestone = "milestone"
    amendment = "amendment"


# An http(s) address up to the first character no address holds unescaped: spaces, quotes,
# angle brackets and anything outside ASCII (Japanese text that follows it without a space).
_URL = re.compile(r"https?://[A-Za-z0-9\-._~:/?#\[\]@!$&()*+,;=%]+", re.IGNORECASE)
# What ends a sentence rather than the address.
_TRAILING = ".,;:!?)]"


def linkify(text: str) -> Markup:
    """`text` escaped for HTML, each http or https address in it a link that opens without
    giving the target page this one (rel="noopener noreferrer"). No other scheme is linked
    (javascript:, data: stay text), and nothing of the text becomes markup."""
    parts: list[str] = []
    position = 0
    for found in _URL.finditer(text):
        url = found.group().rstrip(_TRAILING)
        end = found.start() + len(url)
        if url.count("(") > url.count(")") and text[end : end + 1] == ")":
            url, end = url + ")", end + 1  # https://en.wikipedia.org/wiki/X_(Y)
        parts.append(str(escape(text[position : found.start()])))
        link = escape(url)
        parts.append(f'<a href="{link}" rel="noopener noreferrer">{link}</a>')
        position = end
    parts.append(str(escape(text[position:])))
    return Markup("".join(parts))
