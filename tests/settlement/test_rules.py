"""A report's states and labels, and a grant's periods."""

from __future__ import annotations

from datetime import date

import pytest

from grants.core.errors import Conflict
from grants.rules.settlement import ExcessMethod, PeriodKind
from grants.settlement.rules import (
    Period,
    PeriodMilestone,
    ReportState,
    label,
    periods,
    report_transition,
)

pytestmark = pytest.mark.pure


def test_labels_tell_apart_members_that_share_a_value() -> None:
    assert label(ReportState.returned, "ja") == "差し戻し(修正依頼)"
    assert label(ExcessMethod.returned, "ja") == "返還"


def test_a_confirmed_report_moves_no_more() -> None:
    assert report_transition(ReportState.returned, ReportState.submitted) is ReportState.submitted
    with pytest.raises(Conflict):
        report_transition(ReportState.confirmed, ReportState.returned)


def test_periods_by_fiscal_year_and_by_milestone() -> None:
    milestones = [
        PeriodMilestone(1, 1, 2026, date(2026, 9, 30), 100, True),
        PeriodMilestone(2, 2, 2026, date(2027, 3, 31), 200, False),
        PeriodMilestone(3, 3, 2027, date(2027, 9, 30), 300, False),
    ]
    years = periods(PeriodKind.fiscal_year, milestones)
    assert [(p.key, p.end, p.decided) for p in years] == [
        ("fy2026", date(2027, 3, 31), 100),
        ("fy2027", date(2028, 3, 31), 0),
    ]
    assert not years[0].ended(date(2027, 3, 31)) and years[0].ended(date(2027, 4, 1))
    each = periods(PeriodKind.milestone, milestones)
    assert [p.key for p in each] == ["m1", "m2", "m3"]
    assert each[0].ended(date(2026, 1, 1))  # approved: ended, whatever its due date
    assert each[1].due_on(61) == date(2027, 5, 31)


def test_a_period_whose_milestone_was_cancelled_still_has_a_name() -> None:
    empty = Period("m2", PeriodKind.milestone, 2026, date(2026, 9, 30), ())
    assert (empty.name("ja"), empty.name("en"), empty.decided) == (
        "マイルストーン2",
        "Milestone 2",
        0,
    )
    assert empty.milestone_id is None
