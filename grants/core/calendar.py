"""Japanese fiscal years (April-March) and Asia/Tokyo dates. "Today" is always an argument."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

TOKYO = ZoneInfo("Asia/Tokyo")

_EN_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def fiscal_year(d: date) -> int:
    """The fiscal year a date falls in: 2026-04-01 .. 2027-03-31 is FY2026."""
    return d.year if d.month >= 4 else d.year - 1


def fiscal_year_bounds(fy: int) -> tuple[date, date]:
    """First and last day (inclusive) of fiscal year `fy`."""
    return date(fy, 4, 1), date(fy + 1, 3, 31)


def fiscal_years(first: date, last: date) -> range:
    """The fiscal years from the one `first` falls in to the one `last` falls in."""
    return range(fiscal_year(first), fiscal_year(last) + 1)


def fiscal_year_label(fy: int, locale: str) -> str:
    """ "2026年度" for Japanese locales, "FY2026" otherwise."""
    return f"{fy}年度" if locale.startswith("ja") else f"FY{fy}"


def tokyo_today(now: datetime) -> date:
    """The calendar date in Tokyo at the aware instant `now`."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("tokyo_today needs a timezone-aware datetime.")
    return now.astimezone(TOKYO).date()


def format_date(d: date, locale: str) -> str:
    """ "2026年4月1日" for Japanese locales, "1 Apr 2026" otherwise."""
    if locale.startswith("ja"):
        return f"{d.year}年{d.month}月{d.day}日"
    return f"{d.day} {_EN_MONTHS[d.month - 1]} {d.year}"


def days_overdue(overdue_since: date | None, today: date) -> int:
    """How many days a milestone flagged overdue since `overdue_since` has been overdue on
    `today`, its first overdue day counting as 1 (as the escalation tiers count:
    today - (due date + grace)); 0 when it is not flagged, or flagged from a later day."""
    if overdue_since is None or today < overdue_since:
        return 0
    return (today - overdue_since).days + 1


@dataclass(frozen=True)
class Day:
    """A date in a message: 2026年4月1日 in Japanese, 1 Apr 2026 in English."""

    value: date

    def localised(self, locale: str) -> str:
        return format_date(self.value, locale)


@dataclass(frozen=True)
class FiscalYear:
    """A fiscal year in a message: 2026年度 / FY2026."""

    year: int

    def localised(self, locale: str) -> str:
        return fiscal_year_label(self.year, locale)
