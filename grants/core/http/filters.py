"""Jinja filters that show money, dates and states in the current language.

Pages list hundreds of amounts and dates, so the filters read the language the page is
rendered in from the template context (set once per render by a context processor)
rather than asking Flask-Babel for every value; macros imported without context fall
back to asking.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from flask import Flask
from flask_babel import get_locale
from jinja2 import pass_context
from jinja2.runtime import Context

from grants.core import states
from grants.core.calendar import (
    TOKYO,
    days_overdue,
    days_waiting,
    fiscal_year_label,
    format_date,
    tokyo_today,
)
from grants.core.conflicts import ConflictReason, Reasons
from grants.core.i18n import translate
from grants.core.money import format_yen

LOCALE_KEY = "current_locale"


def current_locale() -> str:
    return str(get_locale() or "ja")


def yen(amount: int | None, locale: str | None = None) -> str:
    return "—" if amount is None else format_yen(amount, locale or current_locale())


def day(value: date | None, locale: str | None = None) -> str:
    return "—" if value is None else format_date(value, locale or current_locale())


def moment(value: datetime | None, locale: str | None = None) -> str:
    """A stored UTC timestamp as Tokyo date and time."""
    if value is None:
        return "—"
    local = value.astimezone(TOKYO) if value.tzinfo else value.replace(tzinfo=UTC).astimezone(TOKYO)
    return f"{format_date(local.date(), locale or current_locale())} {local:%H:%M}"


def fy(year: int | None, locale: str | None = None) -> str:
    return "—" if year is None else fiscal_year_label(year, locale or current_locale())


def state_label(member: StrEnum, locale: str | None = None) -> str:
    return states.label(member, locale or current_locale())


def overdue_days(since: date | None) -> int:
    """Days overdue today in Tokyo of a milestone flagged overdue since `since`, for
    templates/_macros/milestones.html."""
    return days_overdue(since, tokyo_today(datetime.now(UTC)))


def waiting_days(since: datetime) -> int:
    """Days something submitted at `since` has waited, today in Tokyo (the queues' age)."""
    return days_waiting(since, tokyo_today(datetime.now(UTC)))


def _in_page_locale(function: Callable[[Any, str | None], str]) -> Callable[..., str]:
    @pass_context
    def jinja_filter(context: Context, value: Any) -> str:
        return function(value, context.get(LOCALE_KEY))

    return jinja_filter


def localise(message: Any, locale: str | None = None) -> Any:
    """A Problem (or a value that shows itself by language) in the page's language."""
    return translate(message, locale or current_locale())


def reason_text(reasons: Iterable[ConflictReason]) -> str:
    """Conflict-of-interest reasons, joined in the page's language."""
    return Reasons(tuple(reasons)).localised(current_locale())


def register_filters(app: Flask) -> None:
    for function in (yen, day, moment, fy, state_label, localise):
        app.add_template_filter(_in_page_locale(function), function.__name__)
    app.add_template_global(overdue_days)
    app.add_template_global(waiting_days)
    app.add_template_global(reason_text)
