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
# What a form says when it cannot read an amount (the same examples in every form).
ACCEPTED_YEN = N_(
    "Enter a whole number of yen, e.g. 150,000,000, 1億5千万, 一億五千万, 15,000万 or 1.5億."
)

# Japanese large-number units, largest first: 兆 = 10^12, 億 = 10^8, 万 = 10^4.
_JA_UNITS = ((10**12, "兆"), (10**8, "億"), (10**4, "万"))

_NUMBER = r"(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?"
_KANJI_DIGITS = {"〇": 0, "零": 0, "一": 1, "二": 2, "三": 3, "四": 4}
_KANJI_DIGITS |= {"五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_SMALL_UNITS = {"十": 10, "百": 100, "千": 1000}
_BIG_UNITS = {"兆": 10**12, "億": 10**8, "万": 10**4}
_TOKEN = re.compile(rf"({_NUMBER})|([{''.join(_KANJI_DIGITS)}]+)|([十百千])|([万億兆])")
_YEN_AFFIXES = re.compile(r"^¥\s*|\s*円$")  # NFKC has made ￥ a ¥
_GROUP = 10**4  # a group after a larger unit counts less than one of that unit
_DIGITS_MAX = 20  # more digits than any amount up to YEN_MAX has
_RATIO = re.compile(r"([0-9]+)\s*/\s*([0-9]+)|([0-9]+(?:\.[0-9]+)?|\.[0-9]+)")
_RATIO_MAX = 40


def parse_yen(text: str) -> int:
    """Whole yen as a Japanese user types them; raises ValueError (with a Problem).

    "1,000,000", "１，０００", "¥500,000,000", "7億円", "1,000万", "7億5,000万", "1.5億",
    "1億5千万", "一億五千万円", "150百万円": full width is read as plain (NFKC), ¥ / ￥ before
    and 円 after are optional, commas only group thousands, 兆 / 億 / 万 come largest first,
    each lower group under 10,000, and inside a group 千 / 百 / 十 come largest first, with
    arabic or kanji numerals before them.
    """
    body = _YEN_AFFIXES.sub("", unicodedata.normalize("NFKC", text).strip())
    negative = body.startswith(("-", "−"))
    total = _amount(body[1:] if negative else body)
    if total is None:
        raise ValueError(ACCEPTED_YEN)
    if negative and total:
        raise ValueError(N_("Enter a whole number of yen, zero or more."))
    if total > YEN_MAX:
        raise ValueError(N_("This amount is too large."))
    if total.denominator != 1:
        raise ValueError(N_("This is not a whole number of yen."))
    return int(total)


def _amount(body: str) -> Fraction | None:
    """The amount `body` writes ("7億5,000万" is 7 x 10^8 + 5,000 x 10^4), or None."""
    tokens = _tokens(body)
    if not tokens:
        return None
    total, group, last_big = Fraction(0), [], None
    for token in tokens:
        if token not in _BIG_UNITS:
            group.append(token)
            continue
        big = _BIG_UNITS[token]
        value = _group(group)
        if value is None or (last_big is not None and (big >= last_big or value >= _GROUP)):
            return None
        total, group, last_big = total + value * big, [], big
    if group:
        value = _group(group)
        if value is None or (last_big is not None and value >= _GROUP):
            return None
        total += value
    return total


def _tokens(body: str) -> list[str] | None:
    """Numbers, kanji numerals and units, or None when anything else is in `body`."""
    found, position = [], 0
    for match in _TOKEN.finditer(body):
        if match.start() != position:
            return None
        found.append(match.group())
        position = match.end()
    return found if position == len(body) else None


def _group(tokens: list[str]) -> Fraction | None:
    """A group under one 兆 / 億 / 万 ("5千", "150百", "二千二十六", "12,000"), or None."""
    if not tokens:
        return None
    value, pending, last_small = Fraction(0), None, None
    for token in tokens:
        if token in _SMALL_UNITS:
            unit = _SMALL_UNITS[token]
            if last_small is not None and unit >= last_small:
                return None
            value += (1 if pending is None else pending) * unit
            pending, last_small = None, unit
        elif pending is not None:
            return None  # two numbers in a row
        else:
            pending = _kanji(token) if token[0] in _KANJI_DIGITS else _number(token)
    if pending is not None:
        if last_small is not None and pending >= last_small:
            return None
        value += pending
    return value


def _kanji(digits: str) -> Fraction:
    """Kanji numerals read digit by digit, as in 二〇二六."""
    return Fraction(int("".join(str(_KANJI_DIGITS[d]) for d in digits[: _DIGITS_MAX + 1])))


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
