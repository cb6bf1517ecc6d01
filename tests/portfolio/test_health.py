"""Portfolio health per programme: milestones due, delivered on time, overdue; one query."""

from __future__ import annotations

from datetime import UTC, date, datetime
from fractions import Fraction
from unittest.mock import ANY

from flask import Flask, current_app
from sqlalchemy import and_, delete, text, update

from grants.alerts.scan import service as alerts_scan
from grants.awards.models import EvidenceSubmission, Milestone
from grants.core import audit
from grants.core.actors import SYSTEM
from grants.core.db import add_days
from grants.core.models import AuditEvent
from grants.core.states import AWAITING_EVIDENCE, GrantState, MilestoneState
from grants.extensions import db
from grants.portfolio import health as portfolio_health
from tests.support.approvals import sibling_grant
from tests.support.grants import GrantWorld, make_grant, make_program
from tests.support.queries import count_queries

TODAY = date(2026, 11, 1)
_MARK = "data_generation"  # the table whose one row marks the data (core.changes)
LAST_MINUTE = datetime(2026, 9, 30, 14, 59, tzinfo=UTC)  # 23:59 on 30 Sep in Tokyo
ONE_MINUTE_LATE = datetime(2026, 9, 30, 15, 0, tzinfo=UTC)  # 00:00 on 1 Oct in Tokyo


def _submit(milestone: Milestone, at: datetime, state: MilestoneState) -> None:
    milestone.round += 1
    db.session.add(
        EvidenceSubmission(
            milestone_id=milestone.id,
            round=milestone.round,
            narrative="Results.",
            measured=[],
            submitted_at=at,
        )
    )
    milestone.state = state


def _world() -> dict[str, GrantWorld]:
    base = make_grant(code="HL", tranches=(1_000,), first_due=date(2027, 6, 1))  # not due yet
    a = sibling_grant(
        base,
        "HL-A",
        (1_000,) * 6,
        (
            date(2026, 9, 30),
            date(2026, 9, 30),
            date(2026, 10, 15),
            date(2026, 10, 1),
            date(2026, 10, 1),
            date(2026, 10, 20),
        ),
    )
    m = a.milestones
    _submit(m[0], LAST_MINUTE, MilestoneState.approved)  # on time, by a minute
    _submit(m[1], ONE_MINUTE_LATE, MilestoneState.submitted)  # late, by a minute
    # m[2] never delivered: overdue
    _submit(m[3], datetime(2026, 9, 1, tzinfo=UTC), MilestoneState.submitted)  # first: on time
    _submit(m[3], datetime(2026, 10, 20, tzinfo=UTC), MilestoneState.changes_requested)
    m[4].state = MilestoneState.cancelled  # not counted at all
    m[5].state = MilestoneState.approved  # decided without a submission row: its decision counts
    m[5].decided_at = datetime(2026, 10, 10, tzinfo=UTC)
    suspended = sibling_grant(base, "HL-S", (1_000,), (date(2026, 10, 1),))
    suspended.grant.state = GrantState.suspended  # still running: its late milestone is overdue
    completed = sibling_grant(base, "HL-C", (1_000,), (date(2026, 10, 1),))
    _submit(completed.milestones[0], datetime(2026, 10, 5, tzinfo=UTC), MilestoneState.approved)
    completed.grant.state = GrantState.completed
    terminated = sibling_grant(base, "HL-T", (1_000,), (date(2026, 10, 1),))
    terminated.grant.state = GrantState.terminated  # a late open milestone of a closed grant
    db.session.commit()
    other = make_grant(code="OT", first_due=date(2026, 5, 1))  # due 1 May, 1 Nov (today), 2027
    later = make_grant(code="ZZ", first_due=date(2027, 5, 1))
    make_program("NOGRANT")
    _flag_overdue()
    db.session.commit()
    return {"HL": base, "OT": other, "ZZ": later}


def _flag_overdue() -> None:
    """As the scan does (no grace): open milestones due before today are overdue since the
    day after; the scan leaves grants that are not active alone, which are flagged here as
    they would have been before they stopped."""
    late = and_(Milestone.state.in_(AWAITING_EVIDENCE), Milestone.due_date < TODAY)
    db.session.execute(
        update(Milestone).where(late).values(overdue_since=add_days(Milestone.due_date, 1))
    )


def test_due_on_time_and_overdue_per_programme(app: Flask) -> None:
    _world()
    rows = {row.program_code: row for row in portfolio_health.health_by_programme(TODAY)}
    assert list(rows) == ["HL", "OT", "ZZ"]  # by code; a programme without grants is left out
    hl = rows["HL"]
    # due: A's five (not the cancelled one), S, C and T's; on time: A0, A3, A5
    assert (hl.due, hl.on_time) == (8, 3)
    # overdue: A2 and A3 (changes requested), S (suspended); not C (done) nor T (terminated)
    assert hl.overdue == 3
    assert hl.rate == Fraction(3, 8)
    assert hl.program("en") == "Test programme" and hl.program("ja") == "テスト助成"
    ot = rows["OT"]
    assert (ot.due, ot.on_time, ot.overdue) == (1, 0, 1)  # due today is not due yet
    zz = rows["ZZ"]
    assert (zz.due, zz.on_time, zz.overdue, zz.rate) == (0, 0, 0, None)


def test_the_tokyo_day_decides_on_time(app: Flask) -> None:
    world = make_grant(code="TZ", tranches=(1_000, 1_000), first_due=date(2026, 9, 30))
    first, second = world.milestones
    second.due_date = date(2026, 9, 30)
    _submit(first, LAST_MINUTE, MilestoneState.submitted)
    _submit(second, ONE_MINUTE_LATE, MilestoneState.submitted)
    db.session.commit()
    [row] = portfolio_health.health_by_programme(TODAY)
    assert (row.due, row.on_time, row.overdue) == (2, 1, 0)
    [before] = portfolio_health.health_by_programme(date(2026, 9, 30))
    assert (before.due, before.on_time) == (0, 0)  # due today: not counted yet


def test_filter_by_programme(app: Flask) -> None:
    worlds = _world()
    only = portfolio_health.health_by_programme(TODAY, worlds["OT"].program.id)
    assert [row.program_code for row in only] == ["OT"]
    assert portfolio_health.health_by_programme(TODAY, 999_999) == []


def test_one_query_whatever_the_number_of_grants(app: Flask) -> None:
    base = make_grant(code="MANY", first_due=date(2026, 6, 1))
    db.session.expire_all()
    with count_queries() as small:
        portfolio_health.health_by_programme(TODAY)
    for n in range(60):
        world = sibling_grant(
            base,
            f"MANY-{n:03d}",
            (1_000, 1_000),
            (date(2026, 7, 1), date(2027, 7, 1)),
            commit=False,
        )
        if n % 3 == 0:
            db.session.flush()
            _submit(world.milestones[0], datetime(2026, 6, 1, tzinfo=UTC), MilestoneState.submitted)
    _flag_overdue()
    db.session.commit()
    db.session.expire_all()
    with count_queries() as large:
        [row] = portfolio_health.health_by_programme(TODAY)
    selects = [  # the figures' own (the kept figures' mark aside)
        [q for q in run if q.lstrip().upper().startswith("SELECT") and _MARK not in q]
        for run in (small, large)
    ]
    assert len(selects[0]) == len(selects[1]) == 1
    assert len(small) == len(large)
    assert (row.due, row.on_time, row.overdue) == (61, 20, 41)


def _late_submission_of_ot(worlds: dict[str, GrantWorld]) -> None:
    """OT's overdue milestone (due 1 May) delivered late: no longer overdue, still not on time."""
    milestone = worlds["OT"].milestones[0]
    _submit(milestone, datetime(2026, 11, 1, tzinfo=UTC), MilestoneState.submitted)
    milestone.overdue_since = None  # as the evidence service does
    db.session.commit()


def _late_submission_by_hand(worlds: dict[str, GrantWorld]) -> None:
    """The same, in SQL typed by hand (a repair in the database): around the stamps, so
    the data generation stands still, and a kept figure shows whether it was reused."""
    milestone = worlds["OT"].milestones[0]
    db.session.execute(
        text(
            "INSERT INTO evidence_submission (milestone_id, round, narrative, measured, "
            "submitted_at, changed_in) VALUES (:id, 1, 'Results.', '[]', :at, 0)"
        ),
        {"id": milestone.id, "at": datetime(2026, 11, 1)},
    )
    db.session.execute(
        text(
            "UPDATE milestone SET round = 1, state = 'submitted', overdue_since = NULL "
            "WHERE id = :id"
        ),
        {"id": milestone.id},
    )
    db.session.commit()


def _ot(today: date = TODAY) -> tuple[int, int, int]:
    rows = {row.program_code: row for row in portfolio_health.health_by_programme(today)}
    return rows["OT"].due, rows["OT"].on_time, rows["OT"].overdue


def test_cached_figures_are_reused_while_the_audit_log_stands_still(
    app: Flask, kept_figures: None
) -> None:
    worlds = _world()
    audit.record(SYSTEM, "test.mark", worlds["OT"].grant)
    db.session.commit()
    assert _ot() == (1, 0, 1)
    _late_submission_by_hand(worlds)  # the data generation stands still
    with count_queries() as statements:
        assert _ot() == (1, 0, 1)  # the kept figures
    assert [q for q in statements if "SELECT" in q] == [ANY]  # the mark only


def test_an_audited_change_refreshes_the_figures(app: Flask, kept_figures: None) -> None:
    worlds = _world()
    audit.record(SYSTEM, "test.mark", worlds["OT"].grant)
    db.session.commit()
    assert _ot() == (1, 0, 1)
    _late_submission_of_ot(worlds)
    audit.record(SYSTEM, "test.mark", worlds["OT"].grant)  # what every service does
    db.session.commit()
    assert _ot() == (1, 0, 0)


def test_sign_ins_and_scans_do_not_refresh_the_figures(app: Flask, kept_figures: None) -> None:
    worlds = _world()
    audit.record(SYSTEM, "test.mark", worlds["OT"].grant)
    db.session.commit()
    assert _ot() == (1, 0, 1)
    _late_submission_by_hand(worlds)  # so that a recomputation shows
    audit.record(worlds["OT"].applicant, "user.login", worlds["OT"].applicant)
    alerts_scan.scan(SYSTEM, TODAY, current_app.config)
    assert _ot() == (1, 0, 1)


def test_a_new_day_refreshes_the_figures(app: Flask, kept_figures: None) -> None:
    worlds = _world()
    audit.record(SYSTEM, "test.mark", worlds["OT"].grant)
    db.session.commit()
    assert _ot() == (1, 0, 1)
    # 1 Nov is due now too, and overdue once the scan of that day flags it
    assert _ot(date(2026, 11, 2)) == (2, 0, 1)
    assert _ot() == (1, 0, 1)


def test_without_any_audit_event_the_figures_are_always_computed(
    app: Flask, kept_figures: None
) -> None:
    worlds = _world()
    db.session.execute(delete(AuditEvent))  # the factories award through the services
    db.session.commit()
    assert _ot() == (1, 0, 1)
    _late_submission_of_ot(worlds)
    assert _ot() == (1, 0, 0)
