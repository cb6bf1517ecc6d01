"""Chart geometry: dates and amounts in, coordinates out (no app, no browser)."""

from __future__ import annotations

from datetime import date, timedelta
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from grants.awards import charts
from grants.awards.charts import MilestonePoint
from grants.core import charts as cc
from grants.core.states import MilestoneState as S
from grants.portfolio import charts as pc
from grants.portfolio.charts import PoolFigures, ProgrammeHealth

TODAY = date(2026, 11, 1)
days = st.dates(date(2000, 1, 1), date(2099, 12, 31))


def point(
    key: int,
    due: date,
    state: S = S.planned,
    planned: date | None = None,
    submitted: date | None = None,
    decided: date | None = None,
    overdue_since: date | None = None,
) -> MilestonePoint:
    return MilestonePoint(
        key=key,
        label=f"{key}. Milestone {key}",
        planned=planned or due,
        due=due,
        state=state,
        submitted=submitted,
        decided=decided,
        overdue_since=overdue_since,
    )


def within(chart: charts.Timeline, x: float) -> bool:
    return chart.plot_left <= x <= chart.plot_right


# --- timeline: positions ----------------------------------------------------------------


@given(st.lists(days, min_size=1, max_size=12), days)
def test_positions_are_monotonic_in_dates_and_inside_the_plot(
    dues: list[date], today: date
) -> None:
    chart = charts.timeline([point(i, d) for i, d in enumerate(dues)], today, "en")
    by_date = sorted(zip(dues, (row.planned_x for row in chart.rows), strict=True))
    for (d1, x1), (d2, x2) in zip(by_date, by_date[1:], strict=False):
        assert x1 <= x2
        if d1 < d2 and (d2 - d1).days > 400:  # far apart dates never share a pixel column
            assert x1 < x2
    assert all(within(chart, row.planned_x) for row in chart.rows)
    assert within(chart, chart.today_x)
    assert [t.x for t in chart.ticks] == sorted(t.x for t in chart.ticks)
    assert all(within(chart, t.x) for t in chart.ticks)
    assert len(chart.ticks) <= 7


def test_rows_keep_their_order_and_stack_downwards() -> None:
    chart = charts.timeline(
        [point(1, date(2027, 3, 1)), point(2, date(2026, 9, 1)), point(3, date(2028, 1, 1))],
        TODAY,
        "en",
    )
    assert [row.key for row in chart.rows] == [1, 2, 3]
    ys = [row.y for row in chart.rows]
    assert ys == sorted(ys) and len(set(ys)) == 3
    assert chart.plot_top < ys[0] and ys[-1] < chart.plot_bottom < chart.height
    assert chart.rows[1].planned_x < chart.rows[0].planned_x < chart.rows[2].planned_x


def test_today_line_sits_between_the_dates_around_it() -> None:
    before, after = date(2026, 10, 1), date(2026, 12, 1)
    chart = charts.timeline([point(1, before), point(2, after)], TODAY, "en")
    assert chart.rows[0].planned_x < chart.today_x < chart.rows[1].planned_x
    # 31 days after the first and 30 before the second: proportional, to within rounding
    first, second = chart.rows[0].planned_x, chart.rows[1].planned_x
    assert chart.today_x == pytest.approx(first + (second - first) * 31 / 61, abs=0.1)
    assert chart.today_text == "1 Nov 2026"
    on_the_day = charts.timeline([point(1, TODAY)], TODAY, "en")
    assert on_the_day.today_x == on_the_day.rows[0].planned_x


def test_the_range_always_includes_today() -> None:
    past = charts.timeline([point(1, date(2020, 4, 30))], TODAY, "en")
    future = charts.timeline([point(1, date(2031, 4, 30))], TODAY, "en")
    assert past.rows[0].planned_x < past.today_x <= past.plot_right
    assert future.plot_left <= future.today_x < future.rows[0].planned_x
    assert past.today_anchor == "end" and future.today_anchor == "start"
    middle = charts.timeline(
        [point(1, date(2020, 4, 30)), point(2, date(2031, 4, 30))], TODAY, "en"
    )
    assert middle.today_anchor == "middle"


def test_single_milestone_and_empty_timeline() -> None:
    one = charts.timeline([point(1, TODAY)], TODAY, "en")
    assert len(one.rows) == 1 and within(one, one.rows[0].planned_x)
    assert one.plot_left < one.rows[0].planned_x < one.plot_right  # padded, not on the edge
    assert one.ticks, "even a single day gets a month tick around it"
    assert one.height > one.rows[0].y
    empty = charts.timeline([], TODAY, "en")
    assert empty.rows == () and empty.overdue == 0 and empty.states == ()
    assert within(empty, empty.today_x) and empty.height > 0


# --- timeline: planned, actual and overdue ------------------------------------------------


def test_actual_date_is_the_decision_or_the_latest_evidence() -> None:
    sub, dec = date(2026, 9, 20), date(2026, 10, 5)
    cases = {
        S.approved: dec,
        S.rejected: dec,
        S.submitted: sub,
        S.changes_requested: sub,
        S.planned: None,
        S.cancelled: None,
    }
    for state, expected in cases.items():
        assert point(1, date(2026, 9, 30), state, submitted=sub, decided=dec).actual == expected
    assert point(1, date(2026, 9, 30), S.approved, submitted=sub).actual == sub  # no decision day


def test_a_delivered_milestone_has_a_bar_from_planned_to_actual_in_its_colour() -> None:
    late = point(1, date(2026, 9, 30), S.approved, submitted=date(2026, 10, 5), decided=TODAY)
    early = point(2, date(2026, 9, 30), S.submitted, submitted=date(2026, 9, 20))
    chart = charts.timeline([late, early], TODAY, "en")
    late_row, early_row = chart.rows
    [bar] = late_row.bars
    assert bar.x == late_row.planned_x and bar.x + bar.width == pytest.approx(late_row.actual_x)
    assert bar.colour == charts.PALETTE["approved"] == late_row.colour and bar.pattern is None
    assert late_row.days_late == 32 and late_row.decided_text == "1 Nov 2026"
    [bar] = early_row.bars
    assert bar.x == early_row.actual_x < early_row.planned_x  # early: the bar runs backwards
    assert early_row.days_late == -10 and early_row.actual_text == "20 Sep 2026"
    assert chart.states == ((S.submitted, 1), (S.approved, 1))


@pytest.mark.parametrize(
    ("state", "due", "since", "overdue"),
    [
        (S.planned, date(2026, 10, 24), date(2026, 10, 25), True),
        (S.changes_requested, date(2026, 10, 1), date(2026, 10, 2), True),
        (S.planned, date(2026, 10, 1), None, False),  # past due, not flagged: in its grace
        (S.changes_requested, date(2026, 10, 1), None, False),
        (S.planned, TODAY, None, False),
        (S.planned, date(2026, 11, 30), None, False),
        (S.planned, date(2026, 11, 30), date(2026, 11, 1), True),  # the scan's flag counts
        (S.submitted, date(2026, 10, 1), None, False),
        (S.rejected, date(2026, 10, 1), None, False),
        (S.cancelled, date(2026, 10, 1), None, False),
    ],
)
def test_overdue_is_the_scan_s_flag(state: S, due: date, since: date | None, overdue: bool) -> None:
    p = point(1, due, state, overdue_since=since)
    assert charts.is_overdue(p) is overdue
    [row] = charts.timeline([p], TODAY, "en").rows
    assert row.overdue is overdue
    assert row.overdue_since == since
    assert (row.colour == charts.PALETTE["overdue"]) is overdue or state == S.rejected
    assert row.marker_colour == charts.PALETTE[str(state)]  # delivery marker: the state's
    assert (row.overdue_x is not None) is overdue


def test_an_overdue_milestone_is_hatched_from_its_flag_to_today() -> None:
    since = date(2026, 10, 8)  # due 1 October, a week's grace
    chart = charts.timeline(
        [
            point(1, date(2026, 10, 1), overdue_since=since),
            point(2, date(2026, 10, 20)),  # past due but within its grace: not overdue
            point(3, date(2027, 4, 1)),
        ],
        TODAY,
        "ja",
    )
    late, graced, fine = chart.rows
    [bar] = late.bars
    assert bar.pattern == "hatch" and bar.colour == charts.PALETTE["overdue"]
    assert late.planned_x < bar.x and bar.x + bar.width == pytest.approx(chart.today_x)
    assert late.days_overdue == 25 and chart.overdue == 1 and late.overdue_since == since
    assert graced.bars == () and not graced.overdue and graced.days_overdue == 0
    assert fine.bars == () and not fine.overdue and fine.days_overdue == 0
    assert chart.hatches == (charts.PALETTE["overdue"],)
    assert late.due_text == "2026年10月1日" and chart.today_text == "2026年11月1日"


def test_the_overdue_words_hang_on_the_side_with_room() -> None:
    early = charts.timeline(  # today at the far left: the words start at the bar
        [point(1, TODAY - timedelta(days=3), overdue_since=TODAY - timedelta(days=2)),
         point(2, TODAY + timedelta(days=900))], TODAY, "en")  # fmt: skip
    late = charts.timeline(  # today at the far right: the words end at today
        [point(1, TODAY - timedelta(days=900), overdue_since=TODAY - timedelta(days=899))],
        TODAY,
        "en",
    )
    row = early.rows[0]
    assert row.overdue_anchor == "start" and row.overdue_x == row.bars[0].x
    row = late.rows[0]
    assert row.overdue_anchor == "end" and row.overdue_x == late.today_x


def test_an_amended_due_date_is_drawn_apart_from_the_planned_one() -> None:
    moved = point(1, date(2027, 1, 31), planned=date(2026, 10, 31))
    chart = charts.timeline([moved, point(2, date(2027, 3, 31))], TODAY, "en")
    row, unmoved = chart.rows
    assert row.moved and row.due_x is not None and row.planned_x < row.due_x
    assert row.planned_text == "31 Oct 2026" and row.due_text == "31 Jan 2027"
    assert not row.overdue  # the current due date counts, not the original one
    assert not unmoved.moved and unmoved.due_x is None
    assert row.diamond(100.0) == f"100.0,{row.y - 6} 106.0,{row.y} 100.0,{row.y + 6} 94.0,{row.y}"


def test_long_labels_are_shortened_but_kept_whole_for_the_tooltip() -> None:
    title = "非臨床試験の完了とデータパッケージの提出および規制当局との事前相談"
    p = MilestonePoint(1, f"1. {title}", TODAY, TODAY, S.planned)
    [row] = charts.timeline([p], TODAY, "ja").rows
    assert row.label.endswith("…") and len(row.label) < len(row.full_label)
    assert cc.text_width(row.label) <= charts.timeline([p], TODAY, "ja").plot_left - 12
    assert row.full_label == f"1. {title}"


# --- ticks, text, numbers -----------------------------------------------------------------


def test_date_ticks_choose_a_step_and_years_start_in_april() -> None:
    step, ticks = charts.date_ticks(date(2026, 9, 15), date(2026, 12, 20))
    assert step == 1 and ticks == [date(2026, 10, 1), date(2026, 11, 1), date(2026, 12, 1)]
    step, ticks = charts.date_ticks(date(2026, 1, 1), date(2036, 1, 1))
    assert step >= 12 and len(ticks) <= 7
    assert all(t.month == 4 and t.day == 1 for t in ticks)
    step, ticks = charts.date_ticks(date(1900, 1, 1), date(2099, 1, 1))
    assert len(ticks) <= 7 and all(t.month == 4 for t in ticks)
    yearly = charts.timeline(
        [point(1, date(2026, 4, 30)), point(2, date(2034, 4, 30))], TODAY, "ja"
    )
    assert yearly.ticks and all(t.label.endswith("年度") for t in yearly.ticks)
    monthly = charts.timeline([point(1, date(2026, 10, 15))], TODAY, "en")
    assert "Oct 2026" in [t.label for t in monthly.ticks]
    assert cc.month_label(date(2026, 10, 1), "ja") == "2026年10月"


def test_text_fitting_counts_full_width_characters_double() -> None:
    assert cc.text_width("ab", 10) == 12
    assert cc.text_width("助成", 10) == 20
    assert charts.fit_text("short", 100) == "short"
    assert charts.fit_text("abcdefghijklmnopqrstuvwxyz", 60, 10) == "abcdefghi…"
    assert charts.fit_text("", 10) == ""


def test_numbers_for_axes_and_rates() -> None:
    assert cc.nice_step(0) == 1 and cc.nice_step(-5) == 1
    assert cc.nice_step(7) == 2 and cc.nice_step(10) == 2 and cc.nice_step(12) == 5
    assert cc.nice_step(10**13) == 2 * 10**12
    assert cc.compact_yen(2 * 10**12, "en") == "¥2T"
    assert cc.compact_yen(1_500_000_000, "en") == "¥1.5B"
    assert cc.compact_yen(500, "en") == "¥500"
    assert cc.compact_yen(2 * 10**12, "ja") == "2兆円"
    assert cc.percent_text(None) == "—"
    assert cc.percent_text(Fraction(199, 200)) == "99%"  # rounded down: 100% means all
    assert cc.percent_text(Fraction(1)) == "100%" and cc.percent_text(Fraction(0)) == "0%"


def _luminance(colour: str) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def test_every_colour_is_readable_as_text_on_white() -> None:
    for name, colour in charts.PALETTE.items():
        ratio = (1.05) / (_luminance(colour) + 0.05)
        assert ratio >= 4.5, f"{name} {colour}: {ratio:.2f}"
    assert _luminance("#ffffff") == pytest.approx(1.0)


# --- budget by fiscal year ----------------------------------------------------------------


def test_budget_bars_stack_released_committed_available_against_the_appropriation() -> None:
    pool = PoolFigures("AMR", 2026, 1_000_000_000, 300_000_000, 100_000_000)
    chart = pc.budget_chart([pool], "en")
    [group] = chart.groups
    [bar] = group.bars
    released, committed, available = bar.segments
    assert released.x == chart.plot_left
    assert released.x + released.width == pytest.approx(committed.x)
    assert committed.x + committed.width == pytest.approx(available.x)
    assert available.x + available.width == pytest.approx(bar.appropriation_x)
    assert bar.appropriation_x == chart.plot_right  # the largest pool spans the plot
    assert released.width * 3 == pytest.approx(committed.width, abs=0.2)
    assert available.width == pytest.approx(released.width * 6, abs=0.2)
    assert (released.pattern, committed.pattern, available.pattern) == (None, "hatch", "outline")
    assert bar.label == "FY2026" and group.label == "AMR"
    assert (bar.released_text, bar.committed_text, bar.available_text) == (
        "¥100,000,000",
        "¥300,000,000",
        "¥600,000,000",
    )
    assert not bar.over and chart.hatches == (charts.PALETTE["committed"],)
    assert [t.label for t in group.ticks] == ["¥0", "¥200M", "¥400M", "¥600M", "¥800M", "¥1B"]


def test_years_of_a_programme_share_a_scale_and_programmes_get_their_own() -> None:
    pools = [
        PoolFigures("AMR", 2026, 1_000_000_000, 0, 0),
        PoolFigures("AMR", 2027, 500_000_000, 0, 0),
        PoolFigures("BIG", 2026, 3 * 10**12, 0, 0),
    ]
    chart = pc.budget_chart(pools, "ja")
    amr, big = chart.groups
    first, second = amr.bars
    half = chart.plot_left + (chart.plot_right - chart.plot_left) / 2
    assert first.appropriation_x == chart.plot_right and second.appropriation_x == half
    assert big.bars[0].appropriation_x == chart.plot_right
    assert amr.bottom < big.top and big.bottom < chart.height
    assert [b.label for b in chart.bars] == ["2026年度", "2027年度", "2026年度"]
    assert big.bars[0].appropriation_text == "3兆円" and big.ticks[-1].label == "3兆円"
    ys = [b.y for b in chart.bars]
    assert ys == sorted(ys)


def test_huge_amounts_up_to_ten_trillion_yen_scale_exactly() -> None:
    pool = PoolFigures("MEGA", 2026, 10**13, 10**13 - 2, 1)
    [bar] = pc.budget_chart([pool], "en").bars
    released, committed, available = bar.segments
    assert released.width >= 0 and available.width >= 0
    total = released.width + committed.width + available.width
    assert total == pytest.approx(bar.appropriation_x - released.x, abs=0.3)
    assert bar.available_text == "¥1" and bar.appropriation_text == "¥10,000,000,000,000"
    assert all(isinstance(s.x, float) and s.x == s.x for s in bar.segments)  # no NaN
    ticks = pc.budget_chart([pool], "en").groups[0].ticks
    assert ticks[-1].label == "¥10T" and len(ticks) == 6


def test_an_over_committed_pool_runs_past_its_appropriation() -> None:
    pool = PoolFigures("AMR", 2026, 100, 80, 40)
    [bar] = pc.budget_chart([pool], "en").bars
    released, committed, available = bar.segments
    assert bar.over and bar.over_text == "¥20" and bar.available_text == "-¥20"
    assert available.width == 0
    assert bar.appropriation_x < committed.x + committed.width  # the line is inside the bar


def test_empty_and_zero_budgets() -> None:
    empty = pc.budget_chart([], "en")
    assert empty.groups == () and empty.bars == () and empty.height > 0 and empty.hatches == ()
    [bar] = pc.budget_chart([PoolFigures("Z", 2026, 0, 0, 0)], "en").bars
    assert all(s.width == 0 for s in bar.segments)
    assert [
        t.label for t in pc.budget_chart([PoolFigures("Z", 2026, 0, 0, 0)], "en").groups[0].ticks
    ] == ["¥0"]


# --- portfolio health ---------------------------------------------------------------------


def test_health_bars_show_the_on_time_rate_and_overdue_count() -> None:
    chart = pc.health_chart(
        [
            ProgrammeHealth("AMR", 4, 3, 2),
            ProgrammeHealth("MS", 2, 2, 0),
            ProgrammeHealth("NEW", 0, 0, 0),
        ]
    )
    amr, ms, new = chart.bars
    width = chart.rate_right - chart.rate_left
    assert amr.rate_bar is not None and amr.rate_bar.width == pytest.approx(width * 3 / 4)
    assert ms.rate_bar is not None and ms.rate_bar.width == pytest.approx(width)
    assert new.rate_bar is None and new.rate_text == "—" and new.figures.rate is None
    assert (amr.rate_text, ms.rate_text) == ("75%", "100%")
    assert amr.overdue_bar is not None and amr.overdue_bar.pattern == "hatch"
    assert amr.overdue_bar.x + amr.overdue_bar.width == chart.overdue_right  # the most overdue
    assert ms.overdue_bar is None and new.overdue_bar is None
    assert chart.rate_right < chart.overdue_left
    assert [t.label for t in chart.rate_ticks] == ["0%", "50%", "100%"]
    assert [t.label for t in chart.overdue_ticks] == ["0", "1", "2"]
    assert chart.hatches == (charts.PALETTE["overdue"],)
    ys = [b.y for b in chart.bars]
    assert ys == sorted(ys) and ys[-1] + new.height < chart.height


def test_health_of_no_programme_or_no_overdue() -> None:
    empty = pc.health_chart([])
    assert empty.bars == () and empty.height > 0
    calm = pc.health_chart([ProgrammeHealth("A", 5, 0, 0)])
    [bar] = calm.bars
    assert bar.rate_text == "0%" and bar.rate_bar is None and bar.overdue_bar is None
    assert [t.label for t in calm.overdue_ticks] == ["0", "1"]
    many = pc.health_chart([ProgrammeHealth("A", 900, 450, 730)])
    assert len(many.overdue_ticks) <= 5


@given(st.integers(0, 10**6), st.integers(0, 10**6), st.integers(0, 10**6))
def test_health_geometry_stays_inside_its_panels(due: int, on_time: int, overdue: int) -> None:
    on_time = min(on_time, due)
    chart = pc.health_chart([ProgrammeHealth("P", due, on_time, overdue)])
    [bar] = chart.bars
    if bar.rate_bar:
        assert chart.rate_left <= bar.rate_bar.x + bar.rate_bar.width <= chart.rate_right
    if bar.overdue_bar:
        assert chart.overdue_left < bar.overdue_bar.x + bar.overdue_bar.width <= chart.overdue_right


@given(
    st.lists(
        st.tuples(st.integers(0, 10**13), st.integers(0, 10**13), st.integers(0, 10**13)),
        min_size=1,
        max_size=6,
    )
)
def test_budget_geometry_stays_inside_the_plot(figures: list[tuple[int, int, int]]) -> None:
    pools = [PoolFigures("P", 2026 + i, a, c, r) for i, (a, c, r) in enumerate(figures)]
    chart = pc.budget_chart(pools, "en")
    for bar in chart.bars:
        for segment in bar.segments:
            assert segment.width >= 0
            assert (
                chart.plot_left <= segment.x <= segment.x + segment.width <= chart.plot_right + 0.1
            )
        assert chart.plot_left <= bar.appropriation_x <= chart.plot_right


def test_dates_a_day_apart_are_never_out_of_order() -> None:
    start = date(2026, 4, 1)
    dues = [start + timedelta(days=n) for n in range(40)]
    chart = charts.timeline([point(i, d) for i, d in enumerate(dues)], TODAY, "en")
    xs = [row.planned_x for row in chart.rows]
    assert xs == sorted(xs) and len(set(xs)) == len(xs)
