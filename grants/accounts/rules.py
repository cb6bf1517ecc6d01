"""Accounts vocabulary: 法人番号 and e-mail addresses (passwords: credentials.rules)."""

from __future__ import annotations

import re
import unicodedata

from email_validator import EmailNotValidError, validate_email

CORPORATE_NUMBER_LENGTH = 13


# What people put between the digits of a 法人番号 (after NFKC): spaces and dashes.
_NUMBER_SPACING = re.compile(r"[\s\-‐‑‒–—―−]")


def corporate_number_check_digit(base12: str) -> int:
    """Check digit of a 法人番号 from its 12-digit base (国税庁 formula).

    Digits are weighted 1, 2, 1, 2, ... counting from the rightmost digit of the
    base; the check digit is 9 minus the weighted sum modulo 9.
    """
    total = sum(int(digit) * (1 if i % 2 == 0 else 2) for i, digit in enumerate(reversed(base12)))
    return 9 - total % 9


def normalize_corporate_number(value: str) -> str:
    """A 法人番号 as typed ("７０００-0120-50002", " 7000012050002 ") in its 13 plain digits."""
    return _NUMBER_SPACING.sub("", unicodedata.normalize("NFKC", value))


def corporate_number_error(value: str) -> str | None:
    """Why `value` is not a valid 法人番号, or None when it is valid.

    Returns a message key: "length", "digits" or "check_digit".
    """
    if len(value) != CORPORATE_NUMBER_LENGTH:
        return "length"
    if not value.isascii() or not value.isdigit():
        return "digits"
    if int(value[0]) != corporate_number_check_digit(value[1:]):
        return "check_digit"
    return None


def normalize_email(email: str) -> str:
    """E-mail addresses are unique case-insensitively: store them lower-cased (full-width
    letters read as plain)."""
    return unicodedata.normalize("NFKC", email).strip().lower()


def is_valid_email(email: str) -> bool:
    """A deliverable-looking address: one @, no spaces or control characters, a domain with
    a dot that is not reserved (as an SMTP server takes it, with an ASCII local part)."""
    try:
        validate_email(email, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError:
        return False
    return True
