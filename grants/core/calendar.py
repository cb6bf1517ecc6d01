"""Japanese fiscal years (April-March) and Asia/Tokyo dates. "Today" is always an argument."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from grants.core.problems import N_

TOKYO = ZoneInfo("Asia/Tokyo")

# Japanese eras people still write dates in: first day, last day (None: still running).
_ERAS = {
    "令和": (date(2019, 5, 1), None),
    "R": (date(2019, 5, 1), None),
    "平成": (date(1989, 1, 8), date(2019, 4, 30)),
    "H": (date(1989, 1, 8), date(2019, 4, 30)),
}
_WESTERN = re.compile(
    r"(\d{4})(?:-(\d{1,2})-(\d{1,2})|/(\d{1,2})/(\d{1,2})|年(\d{1,2})月(\d{1,2})日?)"
)
_ERA = re.compile(
    r"(令和|平成|R|H)(\d{1,2}|元)(?:[./-](\d{1,2})[./-](\d{1,2})|年(\d{1,2})月(\d{1,2})日?)"
)
ACCEPTED_DAY = N_(
    "Not a valid date value. Enter a date such as 2026-04-01, 2026/04/01, 令和8年4月1日 or R8.4.1."
)

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


def days_waiting(since: datetime, today: date) -> int:
    """Whole days from the instant `since` (stored in UTC: a submission, a request) to
    `today`, counted on Tokyo's calendar: 0 on the same day."""
    aware = since if since.tzinfo is not None else since.replace(tzinfo=UTC)
    return max((today - tokyo_today(aware)).days, 0)


def format_date(d: date, locale: str) -> str:
    """ "2026年4月1日" for Japanese locales, "1 Apr 2026" otherwise."""
    if locale.startswith("ja"):
        return f"{d.year}年{d.month}月{d.day}日"
    return f"{d.day} {_EN_MONTHS[d.month - 1]} {d.year}"


def parse_day(text: str) -> date:
    """A date as a Japanese user types it: 2026-04-01, 2026/04/01, 2026年4月1日, 令和8年4月1日,
    R8.4.1 (平成 and H too; 元年 is year 1), full width read as plain. Raises ValueError
    with a Problem."""
    body = unicodedata.normalize("NFKC", text).strip().upper().replace(" ", "")
    if match := _WESTERN.fullmatch(body):
        year, *parts = match.groups()
        return _day(int(year), [p for p in parts if p is not None])
    if match := _ERA.fullmatch(body):
        era, year, *parts = match.groups()
        first, last = _ERAS[era]
        day = _day(first.year + (1 if year == "元" else int(year)) - 1, [p for p in parts if p])
        if day < first or (last is not None and day > last):
            raise ValueError(N_("Not a valid date value: there is no such day in that era."))
        return day
    raise ValueError(ACCEPTED_DAY)


def _day(year: int, month_day: list[str]) -> date:
    try:
        return date(year, int(month_day[0]), int(month_day[1]))
    except ValueError:
        raise ValueError(
            N_("Not a valid date value: there is no such day in the calendar.")
        ) from None


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
