"""The milestone timeline of one grant: planned against actual dates, today, overdue.

Overdue is the scan's flag, given in as each point's `overdue_since` (the first day the
milestone counts as overdue: due date + grace + 1): a milestone is overdue iff it is set.
The chart never decides it from the due date, which ignores the grace period.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from grants.core.calendar import days_overdue, format_date
from grants.core.charts import (
    PALETTE,
    Bar,
    Tick,
    date_scale,
    date_ticks,
    fit_text,
    hatches,
    tick_label,
)
from grants.core.states import MilestoneState

DECIDED = frozenset({MilestoneState.approved, MilestoneState.rejected})
DELIVERED = frozenset({MilestoneState.submitted, MilestoneState.changes_requested})


@dataclass(frozen=True)
class MilestonePoint:
    """One milestone: its planned (original) and current due date, the (Tokyo) day its latest
    evidence was submitted and the day it was decided, if any, and the day since which the
    scan flags it overdue (milestone.overdue_since), if it does."""

    key: int
    label: str
    planned: date
    due: date
    state: MilestoneState
    submitted: date | None = None
    decided: date | None = None
    overdue_since: date | None = None

    @property
    def actual(self) -> date | None:
        """When it was delivered: decided (approved or rejected), else the latest evidence."""
        if self.state in DECIDED:
            return self.decided or self.submitted
        if self.state in DELIVERED:
            return self.submitted
        return None


@dataclass(frozen=True)
class TimelineRow:
    key: int
    label: str
    full_label: str
    state: MilestoneState
    colour: str  # of the state, or of overdue
    marker_colour: str  # of the state: the delivery marker
    y: float
    planned: date
    due: date
    actual: date | None
    planned_text: str
    due_text: str
    actual_text: str | None
    submitted_text: str | None
    decided_text: str | None
    planned_x: float
    due_x: float | None  # only when an amendment moved the due date
    actual_x: float | None
    bars: tuple[Bar, ...]
    overdue: bool
    overdue_since: date | None  # the flag's date, when overdue
    days_overdue: int
    # Where the "Overdue since ..." words hang above the row, inside the plot: ending at
    # today or starting where the overdue bar starts, whichever side has more room.
    overdue_x: float | None
    overdue_anchor: str
    days_late: int  # actual - due: > 0 late, <= 0 on time; 0 when not delivered

    @property
    def moved(self) -> bool:
        return self.due != self.planned

    def diamond(self, x: float, size: float = 6) -> str:
        """Polygon points of a diamond marker centred on (x, this row's y)."""
        y = self.y
        return f"{x},{y - size} {x + size},{y} {x},{y + size} {x - size},{y}"


@dataclass(frozen=True)
class Timeline:
    width: int
    height: int
    plot_left: int
    plot_right: int
    plot_top: int
    plot_bottom: float
    rows: tuple[TimelineRow, ...]
    ticks: tuple[Tick, ...]
    today: date
    today_x: float
    today_text: str
    states: tuple[tuple[MilestoneState, int], ...]  # how many milestones in each state

    @property
    def overdue(self) -> int:
        return sum(1 for row in self.rows if row.overdue)

    @property
    def hatches(self) -> tuple[str, ...]:
        return hatches(bar for row in self.rows for bar in row.bars)

    @property
    def today_anchor(self) -> str:
        """Where the "today" label hangs from its line, so that it stays inside the chart."""
        if self.today_x > self.plot_right - 40:
            return "end"
        return "start" if self.today_x < self.plot_left + 40 else "middle"


TIMELINE_WIDTH = 760
TIMELINE_LABELS = 210  # the label column on the left
TIMELINE_TOP = 40  # tick labels and the "today" label
TIMELINE_ROW = 40


def is_overdue(point: MilestonePoint) -> bool:
    """Overdue iff the scan flagged it (the flag has its own date).

    The scan sets the flag only while the grantee owes the evidence, and the services clear
    it when evidence arrives or the due date moves, so the flag alone is the answer.
    """
    return point.overdue_since is not None


def timeline(points: Sequence[MilestonePoint], today: date, locale: str) -> Timeline:
    """One row per milestone against time; the range always includes `today`."""
    dates = [today] + [d for p in points for d in (p.planned, p.due, p.actual) if d is not None]
    start, end = _padded(min(dates), max(dates))
    left, right = TIMELINE_LABELS, TIMELINE_WIDTH - 20
    x = date_scale(start, end, left, right)
    bottom = TIMELINE_TOP + len(points) * TIMELINE_ROW
    step, ticks = date_ticks(start, end)
    rows = tuple(
        _timeline_row(p, TIMELINE_TOP + (i + 0.5) * TIMELINE_ROW, today, x, (left, right), locale)
        for i, p in enumerate(points)
    )
    counts = Counter(p.state for p in points)
    return Timeline(
        width=TIMELINE_WIDTH,
        height=bottom + 12,
        plot_left=left,
        plot_right=right,
        plot_top=TIMELINE_TOP,
        plot_bottom=bottom,
        rows=rows,
        ticks=tuple(Tick(x(t), tick_label(t, step, locale)) for t in ticks),
        today=today,
        today_x=x(today),
        today_text=format_date(today, locale),
        states=tuple((s, counts[s]) for s in MilestoneState if counts[s]),
    )


def _padded(first: date, last: date) -> tuple[date, date]:
    pad = timedelta(days=max((last - first).days // 20, 20))
    return first - pad, last + pad


def _timeline_row(
    point: MilestonePoint,
    y: float,
    today: date,
    x: Callable[[date], float],
    plot: tuple[float, float],
    locale: str,
) -> TimelineRow:
    overdue = is_overdue(point)
    actual = point.actual
    colour = PALETTE["overdue" if overdue else str(point.state)]
    bars: list[Bar] = []
    if actual is not None:
        a, b = sorted((x(point.planned), x(actual)))
        bars.append(Bar(a, y - 3, round(b - a, 1), 6, PALETTE[str(point.state)]))
    if overdue and point.overdue_since is not None and point.overdue_since <= today:
        a, b = x(point.overdue_since), x(today)
        bars.append(Bar(a, y - 5, round(b - a, 1), 10, PALETTE["overdue"], "hatch"))
    overdue_x, overdue_anchor = _overdue_label(point, today, x, plot) if overdue else (None, "end")
    return TimelineRow(
        key=point.key,
        label=fit_text(point.label, TIMELINE_LABELS - 12),
        full_label=point.label,
        state=point.state,
        colour=colour,
        marker_colour=PALETTE[str(point.state)],
        y=y,
        planned=point.planned,
        due=point.due,
        actual=actual,
        planned_text=format_date(point.planned, locale),
        due_text=format_date(point.due, locale),
        actual_text=_day(point.actual, locale),
        submitted_text=_day(point.submitted, locale),
        decided_text=_day(point.decided, locale),
        planned_x=x(point.planned),
        due_x=x(point.due) if point.due != point.planned else None,
        actual_x=x(actual) if actual else None,
        bars=tuple(bars),
        overdue=overdue,
        overdue_since=point.overdue_since if overdue else None,
        days_overdue=days_overdue(point.overdue_since, today),
        overdue_x=overdue_x,
        overdue_anchor=overdue_anchor,
        days_late=(actual - point.due).days if actual else 0,
    )


def _overdue_label(
    point: MilestonePoint, today: date, x: Callable[[date], float], plot: tuple[float, float]
) -> tuple[float, str]:
    since = point.overdue_since
    end = x(today)
    start = x(since) if since is not None and since <= today else end
    left, right = plot
    return (end, "end") if end - left >= right - start else (start, "start")


def _day(day: date | None, locale: str) -> str | None:
    return format_date(day, locale) if day else None
