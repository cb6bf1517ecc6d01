"""Integer-yen money: ratios as exact Fractions, rounding down (切り捨て), ja/en display."""

from __future__ import annotations

import re
import unicodedata
from fractions import Fraction

from grants.core.problems import N_, shown
from grants.core.text import figure

# The largest amount any form or API field takes (1,000兆円): above every budget pool, and
# sums of many such amounts stay far below a BIGINT column's limit.
YEN_MAX = 10**15

# Japanese large-number units, largest first: 兆 = 10^12, 億 = 10^8, 万 = 10^4.
_JA_UNITS = ((10**12, "兆"), (10**8, "億"), (10**4, "万"))

_NUMBER = r"(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?"
_YEN = re.compile(rf"(?:({_NUMBER})兆)?(?:({_NUMBER})億)?(?:({_NUMBER})万)?({_NUMBER})?")
_YEN_AFFIXES = re.compile(r"^¥\s*|\s*円$")  # NFKC has made ￥ a ¥
_UNITS = (10**12, 10**8, 10**4, 1)
_GROUP = 10**4  # a group after a larger unit counts less than one of that unit
_DIGITS_MAX = 20  # more digits than any amount up to YEN_MAX has
_RATIO = re.compile(r"([0-9]+)\s*/\s*([0-9]+)|([0-9]+(?:\.[0-9]+)?|\.[0-9]+)")
_RATIO_MAX = 40


def parse_yen(text: str) -> int:
    """Whole yen as a Japanese user types them; raises ValueError (with a Problem).

    "1,000,000", "１，０００", "¥500,000,000", "7億円", "1,000万", "7億5,000万", "1.5億": full
    width is read as plain (NFKC), ¥ / ￥ before and 円 after are optional, commas only
    group thousands, and 兆 / 億 / 万 come largest first, each lower group under 10,000.
    """
    body = _YEN_AFFIXES.sub("", unicodedata.normalize("NFKC", text).strip())
    negative = body.startswith(("-", "−"))
    total = _amount(body[1:] if negative else body)
    if total is None:
        raise ValueError(N_("Enter a whole number of yen, e.g. 50,000,000, 5億 or 7億5,000万."))
    if negative and total:
        raise ValueError(N_("Enter a whole number of yen, zero or more."))
    if total > YEN_MAX:
        raise ValueError(N_("This amount is too large."))
    if total.denominator != 1:
        raise ValueError(N_("This is not a whole number of yen."))
    return int(total)


def _amount(body: str) -> Fraction | None:
    """The amount `body` writes ("7億5,000万" is 7 x 10^8 + 5,000 x 10^4), or None."""
    match = _YEN.fullmatch(body)
    if match is None:
        return None
    counts = [(_number(n), unit) for n, unit in zip(match.groups(), _UNITS, strict=True) if n]
    if not counts or any(count >= _GROUP for count, _unit in counts[1:]):
        return None
    return sum((count * unit for count, unit in counts), Fraction(0))


def _number(digits: str) -> Fraction:
    """A matched number such as "1,000" or "1.5", exactly; one too long for an amount is
    read as too large (int() refuses a few thousand digits)."""
    whole, _point, decimals = digits.replace(",", "").partition(".")
    whole, decimals = whole.lstrip("0") or "0", decimals.rstrip("0")
    if len(whole) > _DIGITS_MAX:
        return Fraction(YEN_MAX + 1)
    if len(decimals) > _DIGITS_MAX:  # no unit makes this many decimals whole yen
        return Fraction(int(whole)) + Fraction(1, 10**_DIGITS_MAX)
    return Fraction(int(whole)) + Fraction(int(decimals or "0"), 10 ** len(decimals))


def parse_ratio(text: str) -> Fraction:
    """Parse "1/3", "2/3", "0.25", "25%" or "1" into an exact, non-negative Fraction.

    Full-width digits, ／ and ％ are read as plain (NFKC); exponents ("1e3") are refused.
    Raises ValueError with a Problem.
    """
    if not isinstance(text, str):
        raise ValueError(
            N_("A ratio must be given as text such as '1/3', not %(value)s.", value=shown(text))
        )
    body = figure(text)
    percent = body.endswith("%")
    if percent:
        body = body[:-1].strip()
    if not body:
        raise ValueError(N_("A ratio is required (for example '1/3', '0.25' or '25%')."))
    negative = body.startswith("-")
    match = _RATIO.fullmatch(body[1:].strip() if negative else body)
    if match is None or len(body) > _RATIO_MAX:
        raise ValueError(
            N_(
                "Not a ratio: '%(text)s' (use a form such as '1/3', '0.25' or '25%%').",
                text=shown(text),
            )
        )
    numerator, denominator, decimal = match.groups()
    if decimal is None and int(denominator) == 0:
        raise ValueError(N_("Ratio '%(text)s' divides by zero.", text=shown(text)))
    value = Fraction(decimal) if decimal is not None else Fraction(int(numerator), int(denominator))
    if negative and value:
        raise ValueError(N_("Ratio '%(text)s' is negative.", text=shown(text)))
    return value / 100 if percent else value


def floor_yen(amount: int, ratio: Fraction) -> int:
    """`amount` x `ratio`, rounded down to the yen."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise TypeError(f"Yen amounts are integers, got {amount!r}.")
    return amount * ratio.numerator // ratio.denominator


def format_yen_plain(amount: int) -> str:
    """Digits with thousands separators: 1234500000 -> "1,234,500,000"."""
    return f"{amount:,}"


def format_yen(amount: int, locale: str) -> str:
    """ "12億3,450万円" for Japanese locales, "¥1,234,500,000" otherwise."""
    sign = "-" if amount < 0 else ""
    if not locale.startswith("ja"):
        return f"{sign}¥{abs(amount):,}"
    return f"{sign}{_ja_groups(abs(amount))}円"


def _ja_groups(amount: int) -> str:
    parts: list[str] = []
    for unit, name in _JA_UNITS:
        count, amount = divmod(amount, unit)
        if count:
            parts.append(f"{count:,}{name}")
    if amount or not parts:
        parts.append(f"{amount:,}")
    return "".join(parts)


class Amount(int):
    """Yen in a message: 10億円 in Japanese, ¥1,000,000,000 in English."""

    def localised(self, locale: str) -> str:
        return format_yen(int(self), locale)
