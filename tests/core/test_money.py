import re
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from grants.core.money import (
    YEN_MAX,
    floor_yen,
    format_yen,
    format_yen_plain,
    parse_ratio,
    parse_yen,
)
from grants.core.problems import Problem
from grants.core.text import figure


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1/3", Fraction(1, 3)),
        ("2/3", Fraction(2, 3)),
        ("0.25", Fraction(1, 4)),
        ("25%", Fraction(1, 4)),
        (" 12.5 % ", Fraction(1, 8)),
        ("1", Fraction(1)),
        ("0", Fraction(0)),
        ("２５％", Fraction(1, 4)),
        ("１／３", Fraction(1, 3)),
        ("０．２５", Fraction(1, 4)),
        ("1 / 3", Fraction(1, 3)),
        (".5", Fraction(1, 2)),
    ],
)
def test_parse_ratio_accepts_fractions_decimals_and_percentages(
    text: str, expected: Fraction
) -> None:
    assert parse_ratio(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1/0", "divides by zero"),
        ("abc", "Not a ratio"),
        ("-1/3", "negative"),
        ("-5%", "negative"),
        ("", "required"),
        ("   ", "required"),
        ("%", "required"),
        ("1/3/4", "Not a ratio"),
        ("1e3", "Not a ratio"),
        ("1E-2", "Not a ratio"),
        ("1_000", "Not a ratio"),
        ("inf", "Not a ratio"),
        ("nan", "Not a ratio"),
        ("0.5/2", "Not a ratio"),
        ("-１／４", "negative"),
        ("1" * 5000, "Not a ratio"),
    ],
)
def test_parse_ratio_rejects_with_a_clear_message(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_ratio(text)


@pytest.mark.parametrize(
    ("text", "template", "params"),
    [
        ("1/0", "Ratio '%(text)s' divides by zero.", {"text": "1/0"}),
        ("-1/4", "Ratio '%(text)s' is negative.", {"text": "-1/4"}),
        (
            "２５％x",
            "Not a ratio: '%(text)s' (use a form such as '1/3', '0.25' or '25%%').",
            {"text": "２５％x"},
        ),
    ],
)
def test_ratio_messages_keep_their_msgid_for_translation(
    text: str, template: str, params: dict[str, str]
) -> None:
    with pytest.raises(ValueError) as caught:
        parse_ratio(text)
    problem = caught.value.args[0]
    assert isinstance(problem, Problem)
    assert (problem.template, problem.params) == (template, params)


def test_ratio_text_is_stored_in_plain_characters() -> None:
    assert figure(" ２５％ ") == "25%"
    assert figure("１／３") == "1/3"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0", 0),
        ("1000", 1000),
        ("1,000", 1000),
        ("1,000,000", 1_000_000),
        ("１，０００，０００", 1_000_000),
        (" 12 ", 12),
        ("\u3000５００\u3000", 500),
        ("¥500,000,000", 500_000_000),
        ("￥500,000,000", 500_000_000),
        ("¥ 500", 500),
        ("500円", 500),
        ("¥500円", 500),
        ("10億", 10**9),
        ("7億円", 7 * 10**8),
        ("1,000万円", 10**7),
        ("7億5,000万", 750_000_000),
        ("7億5000万円", 750_000_000),
        ("1兆2億3万4", 1_000_200_030_004),
        ("1.5億", 150_000_000),
        ("0.5万", 5_000),
        ("1.23456789億", 123_456_789),
        ("１０億", 10**9),
        ("1,000兆", YEN_MAX),
        ("0" * 5000 + "1", 1),
        # as the issue writes them: each is 1億5千万円
        ("一億五千万円", 150_000_000),
        ("1億5千万円", 150_000_000),
        ("150百万円", 150_000_000),
        ("１億５千万円", 150_000_000),
        ("15,000万円", 150_000_000),
        ("千五百万", 15_000_000),
        ("二千二十六", 2026),
        ("二〇二六", 2026),
        ("3千2百万", 32_000_000),
        ("十万", 100_000),
        ("五兆", 5 * 10**12),
        ("-0", 0),  # nothing, whatever its sign
    ],
)
def test_parse_yen_reads_amounts_as_typed(text: str, expected: int) -> None:
    assert parse_yen(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Enter a whole number of yen"),
        ("   ", "Enter a whole number of yen"),
        ("abc", "Enter a whole number of yen"),
        ("¥", "Enter a whole number of yen"),
        ("円", "Enter a whole number of yen"),
        ("1,0,0,0", "Enter a whole number of yen"),
        ("1,00", "Enter a whole number of yen"),
        ("1000,000", "Enter a whole number of yen"),
        (",100", "Enter a whole number of yen"),
        ("100,", "Enter a whole number of yen"),
        ("1e9", "Enter a whole number of yen"),
        ("1_000", "Enter a whole number of yen"),
        ("0x10", "Enter a whole number of yen"),
        ("٣", "Enter a whole number of yen"),  # a digit, but not one people type here
        ("万", "Enter a whole number of yen"),
        ("5万億", "Enter a whole number of yen"),  # units out of order
        ("5億5億", "Enter a whole number of yen"),
        ("7億12,000万", "Enter a whole number of yen"),  # 1.2億 written under 億
        ("1万10000", "Enter a whole number of yen"),
        ("1 000", "Enter a whole number of yen"),
        ("百千", "Enter a whole number of yen"),  # small units out of order
        ("5千5千", "Enter a whole number of yen"),
        ("1千2000", "Enter a whole number of yen"),  # more than the 千 holds under it
        ("五 千", "Enter a whole number of yen"),
        ("1億一二三四五万", "Enter a whole number of yen"),  # a group of 12,345 under 億
        ("壱万", "Enter a whole number of yen"),  # old-style numerals are not read
        ("-5", "zero or more"),
        ("−5", "zero or more"),
        ("－5億", "zero or more"),
        ("1.5", "not a whole number of yen"),
        ("0.00001万", "not a whole number of yen"),
        ("1." + "0" * 5000 + "1億", "not a whole number of yen"),
        ("1,000兆1", "too large"),
        ("1001兆", "too large"),
        ("1000000000000000000000000", "too large"),
        ("9" * 5000, "too large"),
    ],
)
def test_parse_yen_refuses_what_is_not_whole_yen(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as caught:
        parse_yen(text)
    assert isinstance(caught.value.args[0], Problem)


def test_the_yen_limit_is_the_budget_pools() -> None:
    assert parse_yen(f"{YEN_MAX:,}") == YEN_MAX == 10**15
    with pytest.raises(ValueError, match="too large"):
        parse_yen(f"{YEN_MAX + 1:,}")


@given(st.integers(0, YEN_MAX))
def test_every_amount_reads_back_from_its_display(amount: int) -> None:
    assert parse_yen(format_yen(amount, "ja")) == amount
    assert parse_yen(format_yen(amount, "en")) == amount
    assert parse_yen(format_yen_plain(amount)) == amount


def test_parse_ratio_rejects_non_text() -> None:
    with pytest.raises(ValueError, match="as text"):
        parse_ratio(0.25)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("amount", "ratio", "expected"),
    [
        (100, "2/3", 66),
        (6_000_000_000, "2/3", 4_000_000_000),
        (10**13, "1/3", 3_333_333_333_333),
        (99, "1/2", 49),
        (0, "2/3", 0),
    ],
)
def test_floor_yen_rounds_down(amount: int, ratio: str, expected: int) -> None:
    assert floor_yen(amount, parse_ratio(ratio)) == expected


@pytest.mark.parametrize("amount", [1.5, 100.0, True])
def test_floor_yen_refuses_non_integer_money(amount: object) -> None:
    with pytest.raises(TypeError):
        floor_yen(amount, Fraction(1, 2))  # type: ignore[arg-type]


@given(st.integers(0, 10**15), st.fractions(min_value=0, max_value=10, max_denominator=1000))
def test_floor_yen_is_the_largest_yen_not_above_the_exact_product(
    amount: int, ratio: Fraction
) -> None:
    result = floor_yen(amount, ratio)
    assert result <= amount * ratio < result + 1


@pytest.mark.parametrize(
    ("amount", "ja", "en"),
    [
        (1_000_000_000, "10億円", "¥1,000,000,000"),
        (10_000_000, "1,000万円", "¥10,000,000"),
        (1_234_500_000, "12億3,450万円", "¥1,234,500,000"),
        (5_000, "5,000円", "¥5,000"),
        (123_456_789, "1億2,345万6,789円", "¥123,456,789"),
        (1_000_000_000_000, "1兆円", "¥1,000,000,000,000"),
        (10**13 + 5, "10兆5円", "¥10,000,000,000,005"),
        (0, "0円", "¥0"),
        (-5_000, "-5,000円", "-¥5,000"),
        (-1_234_500_000, "-12億3,450万円", "-¥1,234,500,000"),
    ],
)
def test_format_yen(amount: int, ja: str, en: str) -> None:
    assert format_yen(amount, "ja") == ja
    assert format_yen(amount, "en") == en


def test_format_yen_plain() -> None:
    assert format_yen_plain(1_234_500_000) == "1,234,500,000"
    assert format_yen_plain(-5_000) == "-5,000"


_UNITS = {"兆": 10**12, "億": 10**8, "万": 10**4, "円": 1}


@given(st.integers(-(10**17), 10**17))
def test_japanese_form_reads_back_as_the_same_amount(amount: int) -> None:
    text = format_yen(amount, "ja")
    groups = re.findall(r"([\d,]+)(兆|億|万|円)?", text.lstrip("-"))
    total = sum(int(digits.replace(",", "")) * _UNITS[unit or "円"] for digits, unit in groups)
    assert (-total if text.startswith("-") else total) == amount
    assert text.endswith("円")
