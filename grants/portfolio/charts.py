"""The officer's portfolio charts: budget per fiscal year and health per programme."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction

from grants.core.calendar import fiscal_year_label
from grants.core.charts import (
    PALETTE,
    Bar,
    Tick,
    amount_scale,
    compact_yen,
    fit_text,
    hatches,
    nice_step,
    percent_text,
)
from grants.core.money import format_yen


@dataclass(frozen=True)
class PoolFigures:
    program_code: str
    fiscal_year: int
    appropriation: int
    committed: int
    released: int

    @property
    def available(self) -> int:
        return self.appropriation - self.committed - self.released


@dataclass(frozen=True)
class BudgetBar:
    key: str
    label: str
    y: float  # top of the bar
    height: float
    label_y: float  # the programme and year, left of the bar
    note_y: float  # the appropriation, under the label
    caption_y: float  # released, committed and available, under the bar
    segments: tuple[Bar, ...]  # released, committed, available (left to right)
    appropriation_x: float
    figures: PoolFigures
    appropriation_text: str
    committed_text: str
    released_text: str
    available_text: str

    @property
    def over(self) -> bool:
        """Committed and released together exceed the appropriation."""
        return self.figures.available < 0

    @property
    def over_text(self) -> str:
        return self.available_text.lstrip("-")


@dataclass(frozen=True)
class BudgetGroup:
    """The fiscal years of one programme, on one scale of their own."""

    program_code: str
    label: str
    label_y: float
    top: float  # the grid runs from top to bottom
    bottom: float
    ticks: tuple[Tick, ...]
    bars: tuple[BudgetBar, ...]


@dataclass(frozen=True)
class BudgetChart:
    width: int
    height: int
    plot_left: int
    plot_right: int
    groups: tuple[BudgetGroup, ...]

    @property
    def bars(self) -> tuple[BudgetBar, ...]:
        return tuple(bar for group in self.groups for bar in group.bars)

    @property
    def hatches(self) -> tuple[str, ...]:
        return hatches(segment for bar in self.bars for segment in bar.segments)


BUDGET_WIDTH = 760
BUDGET_LABELS = 170
BUDGET_HEAD = 28  # the programme's code and the amount ticks
BUDGET_ROW = 56
BUDGET_BAR = 20
BUDGET_GAP = 16


def budget_chart(pools: Sequence[PoolFigures], locale: str) -> BudgetChart:
    """Stacked bars per fiscal year: released, committed, then available up to the
    appropriation. The years of one programme share a scale (the largest appropriation, or
    committed + released when a pool is over-committed) so that they compare at a glance;
    programmes of very different sizes each get their own.
    """
    by_program: dict[str, list[PoolFigures]] = {}
    for pool in pools:
        by_program.setdefault(pool.program_code, []).append(pool)
    groups: list[BudgetGroup] = []
    y = 0.0
    for code, members in by_program.items():
        groups.append(_budget_group(code, members, y, locale))
        y = groups[-1].bottom + BUDGET_GAP
    height = int(groups[-1].bottom) + 8 if groups else 8
    return BudgetChart(BUDGET_WIDTH, height, BUDGET_LABELS, BUDGET_WIDTH - 24, tuple(groups))


def _budget_group(code: str, pools: list[PoolFigures], y: float, locale: str) -> BudgetGroup:
    left, right = BUDGET_LABELS, BUDGET_WIDTH - 24
    maximum = max(max(p.appropriation, p.committed + p.released) for p in pools)
    x = amount_scale(maximum, left, right)
    step = nice_step(maximum)
    ticks = tuple(
        Tick(x(value), compact_yen(value, locale)) for value in range(0, max(maximum, 0) + 1, step)
    )
    top = y + BUDGET_HEAD
    bars = tuple(
        _budget_bar(pool, top + 8 + i * BUDGET_ROW, x, locale) for i, pool in enumerate(pools)
    )
    label = fit_text(code, BUDGET_LABELS - 12)
    return BudgetGroup(code, label, y + 16, top, top + len(pools) * BUDGET_ROW, ticks, bars)


def _budget_bar(pool: PoolFigures, y: float, x: Callable[[int], float], locale: str) -> BudgetBar:
    edges = [0, pool.released, pool.released + pool.committed]
    edges.append(max(pool.appropriation, edges[-1]))
    kinds = (("released", None), ("committed", "hatch"), ("available", "outline"))
    segments = tuple(
        Bar(x(a), y, round(x(b) - x(a), 1), BUDGET_BAR, PALETTE[kind], pattern)
        for (kind, pattern), a, b in zip(kinds, edges, edges[1:], strict=False)
    )
    return BudgetBar(
        key=f"{pool.program_code}-{pool.fiscal_year}",
        label=fiscal_year_label(pool.fiscal_year, locale),
        y=y,
        height=BUDGET_BAR,
        label_y=y + 14,
        note_y=y + BUDGET_BAR + 15,
        caption_y=y + BUDGET_BAR + 15,
        segments=segments,
        appropriation_x=x(pool.appropriation),
        figures=pool,
        appropriation_text=format_yen(pool.appropriation, locale),
        committed_text=format_yen(pool.committed, locale),
        released_text=format_yen(pool.released, locale),
        available_text=format_yen(pool.available, locale),
    )


# --- portfolio health ---------------------------------------------------------------------


@dataclass(frozen=True)
class ProgrammeHealth:
    program_code: str
    due: int  # milestones due so far
    on_time: int  # of those, delivered on or before the due date
    overdue: int  # milestones overdue now

    @property
    def rate(self) -> Fraction | None:
        return Fraction(self.on_time, self.due) if self.due else None


@dataclass(frozen=True)
class HealthBar:
    label: str
    y: float
    height: float
    figures: ProgrammeHealth
    rate_text: str
    rate_bar: Bar | None
    rate_text_x: float
    overdue_bar: Bar | None
    overdue_text_x: float


@dataclass(frozen=True)
class HealthChart:
    width: int
    height: int
    rate_left: int
    rate_right: int
    overdue_left: int
    overdue_right: int
    plot_top: int
    plot_bottom: float
    bars: tuple[HealthBar, ...]
    rate_ticks: tuple[Tick, ...]
    overdue_ticks: tuple[Tick, ...]

    @property
    def hatches(self) -> tuple[str, ...]:
        return hatches(bar.overdue_bar for bar in self.bars)


HEALTH_WIDTH = 760
HEALTH_LABELS = 150
HEALTH_TOP = 44  # panel headings and ticks
HEALTH_ROW = 34
HEALTH_BAR = 16
_RATE = (HEALTH_LABELS, 420)
_OVERDUE = (540, HEALTH_WIDTH - 40)


def health_chart(programmes: Sequence[ProgrammeHealth]) -> HealthChart:
    """Two panels per programme: on-time rate (0-100 %) and overdue milestones (count)."""
    most = max((p.overdue for p in programmes), default=0)
    step = nice_step(most, 4)
    top = max(most, 1)
    overdue_x = amount_scale(top, *_OVERDUE)
    rate_width = _RATE[1] - _RATE[0]
    bars = []
    for i, p in enumerate(programmes):
        y = HEALTH_TOP + i * HEALTH_ROW + (HEALTH_ROW - HEALTH_BAR) / 2
        rate = p.rate
        rate_bar = None
        if rate is not None and rate > 0:
            width = round(float(rate) * rate_width, 1)
            rate_bar = Bar(_RATE[0], y, width, HEALTH_BAR, PALETTE["on_time"])
        end = overdue_x(p.overdue)
        overdue_bar = None
        if p.overdue:
            overdue_bar = Bar(
                _OVERDUE[0], y, round(end - _OVERDUE[0], 1), HEALTH_BAR, PALETTE["overdue"], "hatch"
            )
        bars.append(
            HealthBar(
                label=fit_text(p.program_code, HEALTH_LABELS - 12),
                y=y,
                height=HEALTH_BAR,
                figures=p,
                rate_text=percent_text(rate),
                rate_bar=rate_bar,
                rate_text_x=_RATE[1] + 6,
                overdue_bar=overdue_bar,
                overdue_text_x=end + 6,
            )
        )
    bottom = HEALTH_TOP + len(programmes) * HEALTH_ROW
    return HealthChart(
        width=HEALTH_WIDTH,
        height=int(bottom) + 8,
        rate_left=_RATE[0],
        rate_right=_RATE[1],
        overdue_left=_OVERDUE[0],
        overdue_right=_OVERDUE[1],
        plot_top=HEALTH_TOP,
        plot_bottom=bottom,
        bars=tuple(bars),
        rate_ticks=tuple(
            Tick(round(_RATE[0] + rate_width * share / 100, 1), f"{share}%")
            for share in (0, 50, 100)
        ),
        overdue_ticks=tuple(Tick(overdue_x(n), str(n)) for n in range(0, top + 1, step)),
    )
