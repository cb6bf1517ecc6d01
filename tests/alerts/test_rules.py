"""Alert tiers from dates and offsets, schedules from documents, and the retry backoff."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from grants.alerts.rules import (
    AlertKind,
    Audience,
    Since,
    days_waiting,
    due_date_tiers,
    due_soon_windows,
    due_tiers,
    escalation_cutoffs,
    overdue_last_due,
    overdue_since,
    reached_after,
    retry_delay,
    retry_schedule,
    review_waiting_cutoffs,
    schedule_from,
    settled,
    tranche_waiting_cutoff,
    waited_before,
)
from grants.core.calendar import days_overdue
from grants.core.states import MilestoneState
from grants.rules import Schedule
from grants.rules.schema import DAYS_MAX

DEFAULT = Schedule((30, 7), 0, (14, 30), 14, 14)
DUE = date(2026, 9, 30)
K = AlertKind


def tiers(today: date, schedule: Schedule = DEFAULT, state: str = "planned") -> list:
    return due_tiers(schedule, today, DUE, MilestoneState(state))


def test_nothing_long_before_the_due_date() -> None:
    assert tiers(DUE - timedelta(days=31)) == []


def test_first_reminder_thirty_days_before() -> None:
    assert tiers(DUE - timedelta(days=30)) == [(K.due_soon, 1)]
    assert tiers(DUE - timedelta(days=8)) == [(K.due_soon, 1)]


def test_second_reminder_supersedes_the_first() -> None:
    assert tiers(DUE - timedelta(days=7)) == [(K.due_soon, 2)]
    assert tiers(DUE) == [(K.due_soon, 2)]


def test_overdue_the_day_after_without_grace() -> None:
    assert tiers(DUE + timedelta(days=1)) == [(K.overdue, 1)]


def test_grace_period_delays_overdue_and_escalation() -> None:
    graced = Schedule((30, 7), 5, (14, 30), 14, 14)
    assert tiers(DUE + timedelta(days=5), graced) == []
    assert tiers(DUE + timedelta(days=6), graced) == [(K.overdue, 1)]
    assert (K.escalation, 1) not in tiers(DUE + timedelta(days=18), graced)
    assert (K.escalation, 1) in tiers(DUE + timedelta(days=19), graced)
    assert overdue_since(DUE, 5) == DUE + timedelta(days=6)


def test_escalation_tiers_accumulate() -> None:
    assert tiers(DUE + timedelta(days=13)) == [(K.overdue, 1)]
    assert tiers(DUE + timedelta(days=14)) == [(K.overdue, 1), (K.escalation, 1)]
    assert tiers(DUE + timedelta(days=30)) == [
        (K.overdue, 1),
        (K.escalation, 1),
        (K.escalation, 2),
    ]


@pytest.mark.parametrize("state", ["submitted", "approved", "rejected", "cancelled"])
def test_no_tier_once_evidence_is_in_or_decided(state: str) -> None:
    assert tiers(DUE + timedelta(days=40), state=state) == []
    assert tiers(DUE - timedelta(days=7), state=state) == []


def test_changes_requested_is_chased_like_planned() -> None:
    assert tiers(DUE + timedelta(days=1), state="changes_requested") == [(K.overdue, 1)]


def test_windows_and_cutoffs() -> None:
    today = date(2026, 9, 1)
    assert [(w.tier, w.first_due, w.last_due) for w in due_soon_windows(DEFAULT, today)] == [
        (1, date(2026, 9, 9), date(2026, 10, 1)),
        (2, date(2026, 9, 1), date(2026, 9, 8)),
    ]
    assert overdue_last_due(DEFAULT, today) == date(2026, 8, 31)
    cutoffs = escalation_cutoffs(DEFAULT, today)
    assert [(c.tier, c.last_due, c.audience) for c in cutoffs] == [
        (1, date(2026, 8, 18), Audience.officers),
        (2, date(2026, 8, 2), Audience.admins),
    ]


def test_waiting_counts_tokyo_days() -> None:
    today = date(2026, 10, 15)
    before = waited_before(today, 14)
    # Started on 1 Oct (Tokyo) or earlier: 14 days waited. 2 Oct begins at 15:00 UTC on 1 Oct.
    assert before == datetime(2026, 10, 1, 15, 0, tzinfo=UTC)
    assert days_waiting(before - timedelta(seconds=1), today) == 14
    assert days_waiting(before, today) == 13
    reviewer, officers = review_waiting_cutoffs(DEFAULT, today)
    assert (reviewer.tier, reviewer.audience, officers.tier, officers.audience) == (
        1,
        Audience.reviewer,
        2,
        Audience.officers,
    )
    assert officers.before == waited_before(today, 28)
    assert tranche_waiting_cutoff(DEFAULT, today).before == before


@given(
    offsets=st.lists(st.integers(0, 60), min_size=1, max_size=4),
    shift=st.integers(-90, 90),
)
def test_at_most_one_due_soon_tier_on_any_day(offsets: list[int], shift: int) -> None:
    schedule = schedule_from({"due_soon_days": offsets}, DEFAULT)
    found = [t for t in tiers(DUE + timedelta(days=shift), schedule) if t[0] is K.due_soon]
    assert len(found) <= 1
    if -max(offsets) <= shift <= 0:
        assert len(found) == 1


@given(offsets=st.lists(st.integers(0, 60), min_size=1, max_size=4, unique=True))
def test_stepping_day_by_day_reaches_every_due_soon_tier(offsets: list[int]) -> None:
    schedule = schedule_from({"due_soon_days": offsets}, DEFAULT)
    seen = set()
    for shift in range(-70, 1):
        seen |= {t for t in tiers(DUE + timedelta(days=shift), schedule) if t[0] is K.due_soon}
    assert seen == {(K.due_soon, n) for n in range(1, len(offsets) + 1)}


def test_schedule_from_document_fills_and_tidies() -> None:
    schedule = schedule_from(
        {"due_soon_days": [7, 30, 7], "grace_days": 3, "escalation_days": [30, 14]}, DEFAULT
    )
    assert schedule == Schedule((30, 7), 3, (14, 30), 14, 14)


@pytest.mark.parametrize(
    "raw",
    [
        None,
        "nonsense",
        {"grace_days": -1},
        {"grace_days": True},
        {"due_soon_days": "30"},
        {"grace_days": 2**63},  # stored before the schema's bound: timedelta would overflow
        {"grace_days": DAYS_MAX + 1, "review_waiting_days": 10**30},
    ],
)
def test_schedule_from_bad_values_falls_back_to_defaults(raw: object) -> None:
    assert schedule_from(raw, DEFAULT) == DEFAULT


def test_the_longest_schedule_the_schema_allows_stays_on_the_calendar() -> None:
    longest = [DAYS_MAX, 0]
    schedule = schedule_from(
        {"due_soon_days": longest, "grace_days": DAYS_MAX, "escalation_days": longest}, DEFAULT
    )
    today = date(2026, 10, 1)
    assert overdue_last_due(schedule, today) == today - timedelta(days=DAYS_MAX + 1)
    assert [c.last_due for c in escalation_cutoffs(schedule, today)][-1] == today - timedelta(
        days=2 * DAYS_MAX
    )
    assert due_soon_windows(schedule, today)[0].last_due == today + timedelta(days=DAYS_MAX)


def test_retry_backoff_doubles_up_to_the_cap() -> None:
    assert retry_schedule(6, 60, 600) == [
        timedelta(seconds=s) for s in (60, 120, 240, 480, 600, 600)
    ]
    assert retry_delay(1000, 60, 3600) == timedelta(hours=1)
    with pytest.raises(ValueError):
        retry_delay(0, 60, 600)


def _due(tiers: list, due: date) -> set:
    return {(t.kind, t.tier, t.audience) for t in tiers if t.first_due <= due <= t.last_due}


@given(
    offsets=st.lists(st.integers(0, 60), min_size=1, max_size=3),
    grace=st.integers(0, 10),
    escalation=st.lists(st.integers(1, 60), min_size=1, max_size=3),
    gap=st.integers(0, 45),
    shift=st.integers(-120, 120),
)
def test_what_reached_a_tier_after_a_day_is_what_was_not_due_then(
    offsets: list[int], grace: int, escalation: list[int], gap: int, shift: int
) -> None:
    schedule = schedule_from(
        {"due_soon_days": offsets, "grace_days": grace, "escalation_days": escalation}, DEFAULT
    )
    since, today = DUE, DUE + timedelta(days=gap)
    due = DUE + timedelta(days=shift)
    now = _due(due_date_tiers(schedule, today), due)
    then = _due(due_date_tiers(schedule, since), due)
    assert _due(reached_after(schedule, since, today), due) == now - then


def test_nothing_reaches_a_tier_after_today() -> None:
    assert reached_after(DEFAULT, DUE, DUE) == []


def test_the_due_date_tiers_go_to_their_audiences_in_order() -> None:
    found = [(t.kind, t.tier, t.audience) for t in due_date_tiers(DEFAULT, DUE)]
    assert found == [
        (K.due_soon, 1, Audience.grantee),
        (K.due_soon, 2, Audience.grantee),
        (K.overdue, 1, Audience.grantee),
        (K.overdue, 1, Audience.officers),
        (K.escalation, 1, Audience.officers),
        (K.escalation, 2, Audience.admins),
    ]


@given(gap=st.integers(0, 40), started=st.integers(-40 * 24, 40 * 24))
def test_a_wait_is_new_after_a_day_when_it_reached_its_cut_off_since(
    gap: int, started: int
) -> None:
    since, today = DUE, DUE + timedelta(days=gap)
    start = datetime(2026, 9, 30, 3, tzinfo=UTC) + timedelta(hours=started)
    for now, then in zip(
        review_waiting_cutoffs(DEFAULT, today, since)
        + [tranche_waiting_cutoff(DEFAULT, today, since)],
        review_waiting_cutoffs(DEFAULT, since) + [tranche_waiting_cutoff(DEFAULT, since)],
        strict=True,
    ):
        assert now.not_before == then.before
        new = now.not_before <= start < now.before
        assert new == (start < now.before and not start < then.before)


ON = date(2026, 11, 1)


@pytest.mark.parametrize(
    ("since", "today", "days"),
    [
        (None, ON, 0),
        (ON, ON, 1),  # its first overdue day counts
        (ON - timedelta(days=1), ON, 2),
        (ON - timedelta(days=30), ON, 31),
        (ON + timedelta(days=1), ON, 0),  # flagged from a later day (a scan ahead)
    ],
)
def test_days_overdue_count_from_the_flag(since: date | None, today: date, days: int) -> None:
    assert days_overdue(since, today) == days


def test_days_overdue_count_as_the_escalation_tiers_do() -> None:
    """Escalation tier k is due once today - (due date + grace) >= its days."""
    due, grace = date(2026, 9, 30), 5
    since = due + timedelta(days=grace + 1)
    for today in (since, since + timedelta(days=13), since + timedelta(days=40)):
        assert days_overdue(since, today) == (today - (due + timedelta(days=grace))).days


@pytest.mark.parametrize(
    ("kind", "state", "released", "current", "reviewed", "expected"),
    [
        (AlertKind.due_soon, "planned", False, True, False, False),
        (AlertKind.overdue, "changes_requested", False, True, False, False),
        (AlertKind.overdue, "submitted", False, True, False, True),
        (AlertKind.escalation, "cancelled", False, True, False, True),
        (AlertKind.review_waiting, "submitted", False, True, False, False),
        (AlertKind.review_waiting, "submitted", False, True, True, True),  # this reviewer did
        (AlertKind.review_waiting, "submitted", False, False, False, True),  # a newer round
        (AlertKind.review_waiting, "approved", False, True, False, True),
        (AlertKind.tranche_waiting, "approved", False, True, False, False),
        (AlertKind.tranche_waiting, "approved", True, True, False, True),
        (AlertKind.tranche_waiting, "cancelled", False, True, False, True),
    ],
)
def test_an_alert_is_settled_once_what_it_asked_for_happened(
    kind: AlertKind, state: str, released: bool, current: bool, reviewed: bool, expected: bool
) -> None:
    since = Since(
        milestone_state=state, released=released, current_round=current, reviewed=reviewed
    )
    assert settled(kind, since) is expected
