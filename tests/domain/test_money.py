import re
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from grants.domain.money import floor_yen, format_yen, format_yen_plain, parse_ratio


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
    ],
)
def test_parse_ratio_rejects_with_a_clear_message(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_ratio(text)


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
