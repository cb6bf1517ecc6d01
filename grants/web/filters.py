"""Jinja filters that show money, dates and states in the current language."""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum

from flask import Flask
from flask_babel import get_locale

from grants.domain import states
from grants.domain.calendar import TOKYO, fiscal_year_label, format_date
from grants.domain.money import format_yen


def _locale() -> str:
    return str(get_locale() or "ja")


def yen(amount: int | None) -> str:
    return "—" if amount is None else format_yen(amount, _locale())


def day(value: date | None) -> str:
    return "—" if value is None else format_date(value, _locale())


def moment(value: datetime | None) -> str:
    """A stored UTC timestamp as Tokyo date and time."""
    if value is None:
        return "—"
    local = value.astimezone(TOKYO) if value.tzinfo else value.replace(tzinfo=UTC).astimezone(TOKYO)
    return f"{format_date(local.date(), _locale())} {local:%H:%M}"


def fy(year: int | None) -> str:
    return "—" if year is None else fiscal_year_label(year, _locale())


def state_label(member: StrEnum) -> str:
    return states.label(member, _locale())


def register_filters(app: Flask) -> None:
    for function in (yen, day, moment, fy, state_label):
        app.add_template_filter(function)
