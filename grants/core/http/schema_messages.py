"""marshmallow's own field messages in the caller's language.

marshmallow formats its English templates ("Length must be between {min} and {max}.")
before the API sees them. Each template is listed here, so that the catalogues hold it;
a message is matched back to its template and the translation formatted with the same
values. A message that is a Problem is localised; any other is looked up as a msgid of
its own (a feature's schema marks its messages with N_).
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from flask_babel import gettext

from grants.core.http.i18n import localise
from grants.core.problems import N_, Problem

TEMPLATES = (
    N_("Missing data for required field."),
    N_("Field may not be null."),
    N_("Invalid value."),
    N_("Invalid input."),
    N_("Invalid input type."),
    N_("Invalid type."),
    N_("Unknown field."),
    N_("Not a valid string."),
    N_("Not a valid utf-8 string."),
    N_("Not a valid integer."),
    N_("Not a valid number."),
    N_("Number too large."),
    N_("Special numeric values (nan or infinity) are not permitted."),
    N_("Not a valid boolean."),
    N_("Not a valid date."),
    N_("Not a valid datetime."),
    N_("Not a valid list."),
    N_("Not a valid tuple."),
    N_("Not a valid mapping type."),
    N_("Not a valid email address."),
    N_("Not a valid URL."),
    N_("Not a valid UUID."),
    N_("Length must be between {min} and {max}."),
    N_("Length must be {equal}."),
    N_("Shorter than minimum length {min}."),
    N_("Longer than maximum length {max}."),
    N_("Must be greater than or equal to {min} and less than or equal to {max}."),
    N_("Must be greater than {min} and less than {max}."),
    N_("Must be greater than or equal to {min}."),
    N_("Must be greater than {min}."),
    N_("Must be less than or equal to {max}."),
    N_("Must be less than {max}."),
    N_("Must be equal to {other}."),
    N_("Must be one of: {choices}."),
    N_("One or more of the choices you made was not in: {choices}."),
    N_("String does not match expected pattern."),
)


@cache
def _patterns() -> tuple[tuple[re.Pattern[str], str], ...]:
    return tuple((_pattern(problem.template), problem.template) for problem in TEMPLATES)


def _pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"\{(\w+)\}", template)
    return re.compile(
        "".join(
            re.escape(part) if i % 2 == 0 else f"(?P<{part}>.+?)" for i, part in enumerate(parts)
        )
    )


def schema_message(message: Any) -> Any:
    """`message` (a marshmallow field message) in the request's language."""
    if isinstance(message, Problem):
        return localise(message)
    if not isinstance(message, str):
        return message
    for pattern, template in _patterns():
        if found := pattern.fullmatch(message):
            values = found.groupdict()
            return gettext(template).format(**values) if values else gettext(template)
    return gettext(message)


def translated(messages: Any) -> Any:
    """Every message of a list (or a single message) translated."""
    if isinstance(messages, list):
        return [schema_message(message) for message in messages]
    return schema_message(messages)
