import pytest

from grants.accounts.rules import (
    corporate_number_check_digit,
    corporate_number_error,
    is_valid_email,
    normalize_corporate_number,
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


@pytest.mark.parametrize(
    "typed",
    [
        "７００００１２０５０００２",  # full width
        " 7000012050002 ",
        "7000-0120-50002",
        "７０００－０１２０－５０００２",  # full-width hyphens
        "7000 0120 50002",
        "7000\u30000120\u300050002",  # ideographic spaces
    ],
)
def test_corporate_numbers_are_read_as_typed(typed: str) -> None:
    assert normalize_corporate_number(typed) == "7000012050002"
    assert corporate_number_error(normalize_corporate_number(typed)) is None


def test_normalising_keeps_what_is_not_a_digit_for_the_check() -> None:
    assert corporate_number_error(normalize_corporate_number("7000-0120-5000a")) == "digits"
    assert corporate_number_error(normalize_corporate_number("70000 1205 00021")) == "length"


def test_email_typed_in_full_width_is_read_as_plain() -> None:
    assert normalize_email("ｈａｎａｋｏ＠ｅｘａｍｐｌｅ．ｊｐ") == "hanako@example.jp"


@pytest.mark.parametrize(
    "address", ["hanako@example.jp", "a.b+tag@mail.example.co.jp", "x_y-z@sub.example.com"]
)
def test_plausible_email_addresses_are_valid(address: str) -> None:
    assert is_valid_email(address)


@pytest.mark.parametrize(
    "address",
    [
        "",
        "@",
        "hanako",
        "hanako@",
        "@example.jp",
        "a@b@example.jp",
        "a\r\nBcc: x@y@example.jp",
        "a\r\n@example.jp",
        "a b@example.jp",
        "a\x00@example.jp",
        "hanako@localhost",
        "hanako@example",
        "hanako@example..jp",
        "花子@example.jp",  # an SMTP server without SMTPUTF8 refuses it
        "hanako@example.test",
    ],
)
def test_implausible_email_addresses_are_refused(address: str) -> None:
    assert not is_valid_email(address)
