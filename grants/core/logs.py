"""Secrets kept out of the logs.

The private calendar feed is addressed as /calendar/<token>.ics: calendar programs
subscribe to a plain URL, with no header or password to carry a secret, so the token is
in the path, and every access log would print it. So are the links e-mailed to set a
password, /invitation/<token> and /password/reset/<token>. `mask_secrets` writes such a
path with [token] for its secret; `SecretFilter` applies it to a logger's records (the
development server's request log), and config/gunicorn.conf.py to gunicorn's access and
error logs.
"""

from __future__ import annotations

import logging
import re

_CALENDAR_FEED = re.compile(r"(/calendar/)[^/?#\s\"]+(\.ics)")
_PASSWORD_LINK = re.compile(r"(/invitation/|/password/reset/)[^/?#\s\"]+")
MASK = "[token]"


def mask_secrets(text: str) -> str:
    """`text` with the secret of every calendar feed and password link replaced by [token]."""
    text = _CALENDAR_FEED.sub(rf"\g<1>{MASK}\g<2>", text)
    return _PASSWORD_LINK.sub(rf"\g<1>{MASK}", text)


class SecretFilter(logging.Filter):
    """Masks the secrets in every record's message (it passes every record on)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_secrets(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def filter_request_logs() -> None:
    """The development server's request log (werkzeug) never prints a feed's secret."""
    logger = logging.getLogger("werkzeug")
    if not any(isinstance(found, SecretFilter) for found in logger.filters):
        logger.addFilter(SecretFilter())
