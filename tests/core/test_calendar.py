from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from grants.core.calendar import (
    TOKYO,
    fiscal_year,
    fiscal_year_bounds,
    fiscal_year_label,
    fiscal_years,
    format_date,
    tokyo_today,
)


@pytest.mark.parametrize(
    ("day", "fy"),
    [
        (date(2026, 3, 31), 2025),
        (date(2026, 4, 1), 2026),
        (date(2026, 12, 31), 2026),
        (date(2027, 1, 1), 2026),
        (date(2027, 3, 31), 2026),
        (date(2027, 4, 1), 2027),
    ],
)
def test_fiscal_year_turns_over_on_april_first(day: date, fy: int) -> None:
    assert fiscal_year(day) == fy


def test_fiscal_year_bounds() -> None:
    assert fiscal_year_bounds(2026) == (date(2026, 4, 1), date(2027, 3, 31))


@given(st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 12, 31)))
def test_every_date_lies_within_its_fiscal_year(day: date) -> None:
    first, last = fiscal_year_bounds(fiscal_year(day))
    assert first <= day <= last
    assert fiscal_year(first - timedelta(days=1)) == fiscal_year(day) - 1
    assert fiscal_year(last + timedelta(days=1)) == fiscal_year(day) + 1


def test_fiscal_years_run_from_the_first_dates_year_to_the_last_dates() -> None:
    assert fiscal_years(date(2026, 3, 31), date(2029, 12, 1)) == range(2025, 2030)
    assert list(fiscal_years(date(2026, 4, 1), date(2027, 3, 31))) == [2026]
    assert list(fiscal_years(date(2027, 4, 1), date(2026, 4, 1))) == []


def test_fiscal_year_label() -> None:
    assert fiscal_year_label(2026, "ja") == "2026年度"
    assert fiscal_year_label(2026, "en") == "FY2026"


def test_format_date() -> None:
    assert format_date(date(2026, 4, 1), "ja") == "2026年4月1日"
    assert format_date(date(2026, 4, 1), "en") == "1 Apr 2026"
    assert format_date(date(2031, 12, 25), "en") == "25 Dec 2031"


@pytest.mark.parametrize(
    ("now", "today"),
    [
        (datetime(2026, 3, 31, 14, 59, tzinfo=UTC), date(2026, 3, 31)),
        (datetime(2026, 3, 31, 15, 0, tzinfo=UTC), date(2026, 4, 1)),
        (datetime(2026, 4, 1, 0, 30, tzinfo=TOKYO), date(2026, 4, 1)),
        (datetime(2026, 3, 31, 12, 0, tzinfo=timezone(timedelta(hours=-5))), date(2026, 4, 1)),
    ],
)
def test_tokyo_today_converts_aware_instants(now: datetime, today: date) -> None:
    assert tokyo_today(now) == today


def test_tokyo_today_refuses_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        tokyo_today(datetime(2026, 4, 1, 9, 0))
