"""Shared pieces of the charts: palette, shapes, text fitting, scales and ticks."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from unicodedata import east_asian_width

from grants.core.calendar import fiscal_year_label
from grants.core.money import format_yen

PALETTE: dict[str, str] = {
    "planned": "#57606a",
    "submitted": "#0b5cab",
    "approved": "#1a7f37",
    "changes_requested": "#9a6700",
    "rejected": "#b42318",
    "cancelled": "#6e7781",
    "overdue": "#b42318",
    "today": "#8250df",
    "released": "#0b5cab",
    "committed": "#9a6700",
    "available": "#57606a",
    "on_time": "#1a7f37",
    "ink": "#1b1f24",
}
_EN_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTH_STEPS = (1, 2, 3, 6, 12, 24, 36, 60, 120)
FONT = 12  # px, the text size the charts are laid out for


@dataclass(frozen=True)
class Tick:
    x: float
    label: str


@dataclass(frozen=True)
class Bar:
    """A filled rectangle; `pattern` names a hatch drawn in `colour` (else a solid fill)."""

    x: float
    y: float
    width: float
    height: float
    colour: str
    pattern: str | None = None


def hatches(bars: Iterable[Bar | None]) -> tuple[str, ...]:
    """The colours hatched somewhere in `bars`: one SVG pattern to define for each."""
    return tuple(sorted({b.colour for b in bars if b is not None and b.pattern == "hatch"}))


# --- text ---------------------------------------------------------------------------------


def text_width(text: str, font: float = FONT) -> float:
    """Estimated width in px: full-width (CJK) characters 1 em, others 0.6 em."""
    return sum(font * (1.0 if east_asian_width(ch) in "WF" else 0.6) for ch in text)


def fit_text(text: str, width: float, font: float = FONT) -> str:
    """`text`, shortened with an ellipsis when it would be wider than `width` px."""
    if text_width(text, font) <= width:
        return text
    kept = ""
    for ch in text:
        if text_width(kept + ch + "…", font) > width:
            break
        kept += ch
    return kept + "…"


def month_label(day: date, locale: str) -> str:
    """ "2026年10月" for Japanese locales, "Oct 2026" otherwise."""
    if locale.startswith("ja"):
        return f"{day.year}年{day.month}月"
    return f"{_EN_MONTHS[day.month - 1]} {day.year}"


def compact_yen(amount: int, locale: str) -> str:
    """A short amount for axis ticks: "20億円" / "¥2B" (`format_yen` in Japanese)."""
    if locale.startswith("ja") or abs(amount) < 1000:
        return format_yen(amount, locale)
    unit, suffix = next(
        (unit, suffix)
        for unit, suffix in ((10**12, "T"), (10**9, "B"), (10**6, "M"), (10**3, "K"))
        if abs(amount) >= unit
    )
    value = Fraction(amount, unit)
    shown = f"{value.numerator:,}" if value.denominator == 1 else f"{float(value):,.1f}"
    return f"¥{shown}{suffix}"


def percent_text(rate: Fraction | None) -> str:
    """A rate as a whole percentage, rounded down (100% only when every one counts)."""
    return "—" if rate is None else f"{rate.numerator * 100 // rate.denominator}%"


# --- scales -------------------------------------------------------------------------------


def date_scale(start: date, end: date, left: float, right: float) -> Callable[[date], float]:
    days = max((end - start).days, 1)
    return lambda day: round(left + (day - start).days * (right - left) / days, 1)


def amount_scale(maximum: int, left: float, right: float) -> Callable[[int], float]:
    top = max(maximum, 1)
    return lambda amount: round(left + float(Fraction(max(amount, 0), top) * (right - left)), 1)


def nice_step(maximum: int, max_ticks: int = 5) -> int:
    """The smallest 1, 2 or 5 x 10^k step that needs at most `max_ticks` + 1 ticks from 0."""
    magnitude = 1
    while True:
        for multiple in (1, 2, 5):
            step = multiple * magnitude
            if max(maximum, 0) // step <= max_ticks:
                return step
        magnitude *= 10


def date_ticks(start: date, end: date, max_ticks: int = 7) -> tuple[int, list[date]]:
    """(step in months, first days of months from start to end): every 1, 2, 3 or 6 months,
    or whole fiscal years; steps of a year or more fall on 1 April (a fiscal year opens).
    """
    first = start.year * 12 + start.month - 1 + (start.day > 1)
    last = end.year * 12 + end.month - 1
    span = max(last - first + 1, 1)
    steps = [*_MONTH_STEPS, 12 * -(-span // (12 * max_ticks))]
    for step in steps:
        begin = first + (3 - first) % step  # month index of April is year * 12 + 3
        if len(range(begin, last + 1, step)) <= max_ticks:
            return step, [date(m // 12, m % 12 + 1, 1) for m in range(begin, last + 1, step)]
    return 1, []  # pragma: no cover - the last step always fits


def tick_label(day: date, step_months: int, locale: str) -> str:
    return fiscal_year_label(day.year, locale) if step_months >= 12 else month_label(day, locale)
