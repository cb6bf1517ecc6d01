"""Chart geometry: plain values in, plain shapes with coordinates out.

templates/_macros/charts.html draws these shapes as inline SVG (no JavaScript, no
drawing library); everything that can be computed (positions, scales, ticks, amounts
and dates formatted for the locale) is computed here, so it can be tested without a
browser. Fixed words ("Today", "Overdue"...) are translated by the template.

Every colour in PALETTE has at least 3:1 contrast on white (WCAG non-text contrast);
colour is never the only cue: rows carry their state as text, overdue bars are hatched
and the planned and actual dates are different marker shapes.
"""

from grants.domain.charts.common import (
    PALETTE,
    Bar,
    Tick,
    compact_yen,
    date_ticks,
    fit_text,
    month_label,
    nice_step,
    percent_text,
    text_width,
)
from grants.domain.charts.portfolio import (
    BudgetBar,
    BudgetChart,
    HealthBar,
    HealthChart,
    PoolFigures,
    ProgrammeHealth,
    budget_chart,
    health_chart,
)
from grants.domain.charts.timeline import (
    MilestonePoint,
    Timeline,
    TimelineRow,
    is_overdue,
    timeline,
)

__all__ = [
    "PALETTE",
    "Bar",
    "BudgetBar",
    "BudgetChart",
    "HealthBar",
    "HealthChart",
    "MilestonePoint",
    "PoolFigures",
    "ProgrammeHealth",
    "Tick",
    "Timeline",
    "TimelineRow",
    "budget_chart",
    "compact_yen",
    "date_ticks",
    "fit_text",
    "health_chart",
    "is_overdue",
    "month_label",
    "nice_step",
    "percent_text",
    "text_width",
    "timeline",
]
