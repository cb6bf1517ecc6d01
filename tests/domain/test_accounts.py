import pytest

from grants.domain.accounts import (
    corporate_number_check_digit,
    corporate_number_error,
    normalize_email,
)

# 国税庁's own 法人番号, and two more published numbers.
VALID = ["7000012050002", "4000012090001", "1180301018771"]


@pytest.mark.parametrize("number", VALID)
def test_valid_corporate_numbers_pass(number: str) -> None:
    assert corporate_number_error(number) is None


@pytest.mark.parametrize("number", VALID)
def test_every_other_check_digit_fails(number: str) -> None:
    for digit in "0123456789":
        if digit != number[0]:
            assert corporate_number_error(digit + number[1:]) == "check_digit"


@pytest.mark.parametrize("number", ["", "700001205000", "70000120500021", "7" * 20])
def test_wrong_length(number: str) -> None:
    assert corporate_number_error(number) == "length"


@pytest.mark.parametrize("number", ["700001205000a", "7000-12050002", "７000012050002"])
def test_non_digits(number: str) -> None:
    assert corporate_number_error(number) == "digits"


def test_check_digit_formula() -> None:
    assert corporate_number_check_digit("000012050002") == 7


def test_email_normalised_case_insensitively() -> None:
    assert normalize_email("  Hanako@Example.JP ") == "hanako@example.jp"
