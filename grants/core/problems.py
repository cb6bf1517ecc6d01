"""Messages that are translated where they are shown, never where they are raised.

A Problem is its English text (a str, so it reads, compares and serialises as before) that
also keeps its msgid and parameters; whoever shows it says it again in the reader's
language (grants.core.i18n.translate: the web and API edges in the request's language,
e-mails in the recipient's). `N_` marks the msgid for pybabel, which extracts it by that
name. A parameter may itself be a Problem (a translatable word), or a value that knows how
to show itself in a language (`Localisable`: an amount, a day, a state).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

_SHOWN_MAX = 60
_BITS_MAX = 256


@runtime_checkable
class Localisable(Protocol):
    """A message parameter shown differently by language (10億円 / ¥1,000,000,000)."""

    def localised(self, locale: str) -> str: ...


def localisable(value: Any) -> bool:
    """isinstance(value, Localisable), without typing's runtime protocol check, which costs
    a thousand times more (every message parameter of every row a page shows asks it)."""
    return callable(getattr(value, "localised", None))


def in_english(value: Any) -> Any:
    return value.localised("en") if localisable(value) else value


class Problem(str):
    """English text with its msgid (`template`, %-style) and `params`."""

    template: str
    params: Mapping[str, Any]

    def __new__(cls, template: str, params: Mapping[str, Any] | None = None) -> Problem:
        values = dict(params or {})
        english = {key: in_english(value) for key, value in values.items()}
        problem = super().__new__(cls, template % english if values else template)
        problem.template = template
        problem.params = values
        return problem

    def __getnewargs__(self) -> tuple[Any, ...]:  # type: ignore[override]
        return (self.template, self.params)

    def format(self, *args: Any, **kwargs: Any) -> Problem:  # type: ignore[override]
        """Marshmallow fills its messages with format(input=..., min=...): for a Problem
        those become parameters of the %-style template."""
        return Problem(self.template, {**self.params, **kwargs})


def N_(template: str, **params: Any) -> Problem:  # noqa: N802  (the keyword pybabel extracts)
    return Problem(template, params)


def problem_of(error: BaseException) -> str:
    """The message an exception was raised with; a Problem stays one (str(error) would not)."""
    message = error.args[0] if error.args else ""
    return message if isinstance(message, str) else str(message)


def shown(value: Any) -> str:
    """`value` as quoted in a message: short, and never an int too long for str()."""
    if isinstance(value, int) and value.bit_length() > _BITS_MAX:
        return f"~1e{int(value.bit_length() * 0.30103)}"
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= _SHOWN_MAX else f"{text[: _SHOWN_MAX - 1]}…"
