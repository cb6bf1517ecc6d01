"""Integer-yen money: ratios as exact Fractions, rounding down (切り捨て), ja/en display."""

from __future__ import annotations

from fractions import Fraction

# Japanese large-number units, largest first: 兆 = 10^12, 億 = 10^8, 万 = 10^4.
_JA_UNITS = ((10**12, "兆"), (10**8, "億"), (10**4, "万"))


def parse_ratio(text: str) -> Fraction:
    """Parse "1/3", "2/3", "0.25", "25%" or "1" into an exact, non-negative Fraction."""
    if not isinstance(text, str):
        raise ValueError(f"A ratio must be given as text such as '1/3', not {text!r}.")
    body = text.strip()
    percent = body.endswith("%")
    if percent:
        body = body[:-1].strip()
    if not body:
        raise ValueError("A ratio is required (for example '1/3', '0.25' or '25%').")
    try:
        value = Fraction(body)
    except ZeroDivisionError:
        raise ValueError(f"Ratio {text!r} divides by zero.") from None
    except ValueError:
        raise ValueError(
            f"Not a ratio: {text!r} (use a form such as '1/3', '0.25' or '25%')."
        ) from None
    if value < 0:
        raise ValueError(f"Ratio {text!r} is negative.")
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
