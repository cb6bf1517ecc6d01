"""The ranking page's chart: how the written scores spread per criterion.

One bar per criterion, 100% wide, cut into the share of each score given (lowest on the
left, in light blue, to the highest in dark blue), with the criterion's mean at the right.
A scale of more than ten values is shown in ten bins. Drawn on the server as inline SVG
(templates/merit_review/ranking/_chart.html); the same figures go in a table beside it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction

from grants.core.charts import FONT, Bar, fit_text
from grants.merit_review.rules import shown
from grants.rules.rubric import Stage

WIDTH = 760
LABELS = 220
MEAN = 70  # the mean, right of the bars
TOP = 8
ROW = 34
BAR = 18
BINS_MAX = 10
_LIGHT, _DARK = (0xDB, 0xE9, 0xF6), (0x0B, 0x3D, 0x91)


@dataclass(frozen=True)
class Bin:
    low: int
    high: int
    colour: str

    @property
    def label(self) -> str:
        return str(self.low) if self.low == self.high else f"{self.low}–{self.high}"


@dataclass(frozen=True)
class Segment:
    bar: Bar
    bin: Bin
    count: int


@dataclass(frozen=True)
class CriterionRow:
    criterion_id: str
    label: str  # fitted to the label column
    full_label: str
    y: float
    segments: tuple[Segment, ...]
    counts: tuple[int, ...]  # per bin
    total: int
    mean: Fraction | None

    @property
    def mean_text(self) -> str:
        return "—" if self.mean is None else shown(self.mean)


@dataclass(frozen=True)
class DistributionChart:
    width: int
    height: int
    plot_left: int
    plot_right: int
    mean_x: int
    bins: tuple[Bin, ...]
    rows: tuple[CriterionRow, ...]

    @property
    def empty(self) -> bool:
        return not any(row.total for row in self.rows)


def bins(low: int, high: int) -> tuple[Bin, ...]:
    """Each score its own bin, or ten bins of (nearly) equal width for a longer scale."""
    values = high - low + 1
    count = min(values, BINS_MAX)
    edges = [low + values * i // count for i in range(count + 1)]
    return tuple(Bin(edges[i], edges[i + 1] - 1, _colour(i, count)) for i in range(count))


def _colour(index: int, count: int) -> str:
    share = Fraction(index, max(count - 1, 1))
    rgb = [round(a + (b - a) * share) for a, b in zip(_LIGHT, _DARK, strict=True)]
    return "#" + "".join(f"{value:02x}" for value in rgb)


def distribution_chart(
    stage: Stage, counts: Mapping[str, Mapping[int, int]], locale: str
) -> DistributionChart:
    """The chart of `counts` (criterion id -> score -> how often it was given)."""
    found = bins(stage.low, stage.high)
    left, right = LABELS, WIDTH - MEAN - 8
    rows = []
    for index, criterion in enumerate(stage.criteria):
        given = counts.get(criterion.id, {})
        per_bin = tuple(
            sum(n for score, n in given.items() if b.low <= score <= b.high) for b in found
        )
        total = sum(per_bin)
        y = TOP + index * ROW
        name = criterion.name.text(locale)
        rows.append(
            CriterionRow(
                criterion_id=criterion.id,
                label=fit_text(name, LABELS - 12, FONT),
                full_label=name,
                y=y,
                segments=_segments(found, per_bin, total, left, right, y),
                counts=per_bin,
                total=total,
                mean=Fraction(sum(s * n for s, n in given.items()), total) if total else None,
            )
        )
    height = TOP + len(rows) * ROW + 4
    return DistributionChart(WIDTH, height, left, right, WIDTH - MEAN, found, tuple(rows))


def _segments(
    found: tuple[Bin, ...],
    per_bin: tuple[int, ...],
    total: int,
    left: int,
    right: int,
    y: float,
) -> tuple[Segment, ...]:
    if not total:
        return ()
    segments = []
    given = 0
    for b, count in zip(found, per_bin, strict=True):
        if not count:
            continue
        x0 = left + (right - left) * given / total
        given += count
        x1 = left + (right - left) * given / total
        bar = Bar(round(x0, 1), y, round(x1 - x0, 1), BAR, b.colour)
        segments.append(Segment(bar, b, count))
    return tuple(segments)
