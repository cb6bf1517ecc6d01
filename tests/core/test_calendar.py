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
    parse_day,
    tokyo_today,
)
from grants.core.problems import Problem


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


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-04-01", date(2026, 4, 1)),
        ("2026/04/01", date(2026, 4, 1)),
        ("2026/4/1", date(2026, 4, 1)),
        ("2026年4月1日", date(2026, 4, 1)),
        ("令和8年4月1日", date(2026, 4, 1)),
        ("令和8年4月1", date(2026, 4, 1)),
        ("R8.4.1", date(2026, 4, 1)),
        ("r8/4/1", date(2026, 4, 1)),
        ("Ｒ８．４．１", date(2026, 4, 1)),
        ("令和 8年 4月 1日", date(2026, 4, 1)),
        ("令和元年5月1日", date(2019, 5, 1)),
        ("平成31年4月30日", date(2019, 4, 30)),
        ("H1.1.8", date(1989, 1, 8)),
        ("２０２６－０４－０１", date(2026, 4, 1)),
    ],
)
def test_a_day_reads_as_people_in_japan_write_it(text: str, expected: date) -> None:
    assert parse_day(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Enter a date such as 2026-04-01"),
        ("tomorrow", "Enter a date such as 2026-04-01"),
        ("2026.04.01", "Enter a date such as 2026-04-01"),
        ("01/04/2026", "Enter a date such as 2026-04-01"),
        ("R8.4", "Enter a date such as 2026-04-01"),
        ("2026-4/1", "Enter a date such as 2026-04-01"),
        ("令和1年4月30日", "no such day in that era"),  # 令和 began on 1 May 2019
        ("H31.5.1", "no such day in that era"),
        ("2026-02-30", "no such day in the calendar"),
        ("R8.13.1", "no such day in the calendar"),
    ],
)
def test_anything_else_is_refused_with_the_accepted_forms(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as caught:
        parse_day(text)
    assert isinstance(caught.value.args[0], Problem)
    assert "Not a valid date value" in caught.value.args[0]
