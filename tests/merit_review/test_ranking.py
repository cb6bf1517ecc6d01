"""The ranked list of a call and its funding line against each fiscal year's budget pool;
what-ifs on it; the ranking kept while the data stands still."""

from __future__ import annotations

from datetime import date
from fractions import Fraction

import pytest
from flask import Flask

from grants.awards import service as awards
from grants.core.errors import NotAllowed, RuleViolation
from grants.core.states import ApplicationState
from grants.extensions import db
from grants.merit_review import service as merit
from grants.merit_review.ranking.queries import ranking, ranking_of, what_if
from grants.programs import service as programs
from tests.support.applications import TODAY, screened_application
from tests.support.merit import MeritWorld, assign, merit_world, scored

FIRST_DUES = (date(2026, 12, 31), date(2027, 9, 30), date(2028, 9, 30))


def _call(world: MeritWorld, dues: tuple[date, ...], tranches: tuple[int, ...]) -> int:
    """Another screened application of the call, with its own plan."""
    call = screened_application("milestone", program=world.program, dues=dues, tranches=tranches)
    world.calls.append(call)
    return call.application.id


def _ranked(world: MeritWorld) -> list[int]:
    return [row.application_id for row in ranking(world.officer, world.program.id, TODAY).ranked]


def test_the_ranking_lists_scored_applications_then_the_others(app: Flask) -> None:
    world = merit_world(applications=3)
    first, second, third = world.applications
    scored(world, first, world.reviewers[0], (3, 3, 3))
    scored(world, second, world.reviewers[0], (4, 3, 5))
    assign(world, third, world.reviewers[1])  # assigned, not scored yet
    found = ranking(world.officer, world.program.id, TODAY)
    assert [(row.application_id, row.rank) for row in found.rows] == [
        (second, 1),
        (first, 2),
        (third, None),
    ]
    assert found.row(second).written.score == Fraction(41, 10)  # type: ignore[union-attr]
    assert found.undecided == (second, first)  # an unscored one is not in the line
    assert found.row(second).commitment.by_year == {  # type: ignore[union-attr]
        2026: 100_000_000,
        2027: 150_000_000,
        2028: 150_000_000,
    }
    with pytest.raises(NotAllowed):
        ranking(world.reviewers[0], world.program.id, TODAY)


def test_the_programme_settings_change_the_order(app: Flask) -> None:
    world = merit_world(applications=2)
    first, second = world.applications
    one, two, three = world.reviewers
    # first: 5, 1 and 2 (mean 8/3); second: 3 by everyone
    scored(world, first, one, (5, 5, 5))
    scored(world, first, two, (1, 1, 1))
    scored(world, first, three, (2, 2, 2))
    scored(world, second, one, (3, 3, 3))
    scored(world, second, two, (3, 3, 3))
    scored(world, second, three, (3, 3, 3))
    assert _ranked(world) == [second, first]  # 3 against 8/3
    by_rank = merit.SettingsData(3, 21, "mean", "rank", "1.5")
    merit.set_settings(world.officer, world.program.id, by_rank)
    # by each reviewer's rank: first is one's best (5), two's worst (1), three's worst (1)
    found = ranking(world.officer, world.program.id, TODAY)
    assert found.row(first).written.score == Fraction(7, 3)  # type: ignore[union-attr]
    assert found.row(first).disagreement and not found.row(second).disagreement  # type: ignore[union-attr]


def test_the_settings_refuse_bad_values_with_field_messages(app: Flask) -> None:
    world = merit_world(applications=1)
    bad = merit.SettingsData(0, 400, "mode", "zscore", "-1")
    with pytest.raises(RuleViolation) as refused:
        merit.set_settings(world.officer, world.program.id, bad)
    assert set(refused.value.fields) == {
        "panel_size",
        "review_days",
        "aggregation",
        "normalisation",
        "disagreement",
    }
    program = world.program
    db.session.refresh(program)
    assert (program.merit_panel_size, program.merit_aggregation) == (3, "mean")
    saved = merit.set_settings(
        world.officer, program.id, merit.SettingsData(2, 14, "median", "none", "３／２")
    )
    assert (saved.merit_panel_size, saved.merit_disagreement) == (2, "1.5")


def test_the_line_falls_by_the_fiscal_year_of_each_due_date(app: Flask) -> None:
    """The second application's first tranche is due on the last day of FY2026 or on the
    first day of FY2027: with room for one first tranche in FY2026, that day decides
    whether it is above the line."""
    for boundary, line in ((date(2027, 3, 31), 1), (date(2027, 4, 1), 2)):
        world = merit_world(applications=0, years=(2027, 2028))
        programs.set_appropriation(world.officer, world.program.id, 2026, 150_000_000)
        tranches = (100_000_000, 150_000_000, 150_000_000)
        top = _call(world, FIRST_DUES, tranches)
        other = _call(world, (boundary, date(2027, 9, 30), date(2028, 9, 30)), tranches)
        scored(world, top, world.reviewers[0], (5, 5, 5))
        scored(world, other, world.reviewers[0], (4, 4, 4))
        found = ranking(world.officer, world.program.id, TODAY)
        assert found.undecided == (top, other) and found.line == line, boundary
        pools = {pool.fiscal_year: pool for pool in found.pools}
        assert pools[2026].funded == 100_000_000  # the top one's; the other's is in FY2027
        assert not any(pool.over for pool in found.pools)


def test_an_application_the_award_rules_refuse_is_left_out_of_the_line(app: Flask) -> None:
    world = merit_world(applications=1)
    refused = _call(world, FIRST_DUES, (150_000_000, 100_000_000, 150_000_000))  # upfront > 1/4
    scored(world, refused, world.reviewers[0], (5, 5, 5))
    scored(world, world.applications[0], world.reviewers[0], (3, 3, 3))
    found = ranking(world.officer, world.program.id, TODAY)
    row = found.row(refused)
    assert row is not None and row.rank == 1 and row.refusals and row.commitment is None
    assert found.undecided == (world.applications[0],)


def test_a_what_if_tries_another_line_or_lower_amounts_and_writes_nothing(app: Flask) -> None:
    world = merit_world(applications=3, appropriation=300_000_000)
    first, second, third = world.applications
    for application_id, value in ((first, 5), (second, 4), (third, 3)):
        scored(world, application_id, world.reviewers[0], (value, value, value))
    found = ranking(world.officer, world.program.id, TODAY)
    assert found.line == 2  # FY2027 and FY2028 hold two 150M tranches
    longer = what_if(found, 3, {})
    assert longer.over and longer.natural_line == 2
    lower = what_if(found, None, {first: 100_000_000, second: 100_000_000})
    # cut from the last tranche back: 100M + 0 + 0 each; the third now fits
    assert lower.line == lower.natural_line == 3 and not lower.over
    with pytest.raises(RuleViolation) as refused:
        what_if(found, 9, {first: 500_000_000, 10**9: 1})
    assert set(refused.value.fields) == {"line", f"amounts.{first}", f"amounts.{10**9}"}
    assert ranking(world.officer, world.program.id, TODAY).line == 2


def test_no_rule_set_in_force_means_no_amounts_and_no_line(app: Flask) -> None:
    world = merit_world(applications=1)
    scored(world, world.applications[0], world.reviewers[0], (3, 3, 3))
    found = ranking(world.officer, world.program.id, date(2026, 3, 1))  # before v1
    assert found.line is None and found.pools == () and found.ranked
    with pytest.raises(RuleViolation):
        what_if(found, 1, {})


def test_the_kept_ranking_follows_every_decision(app: Flask, kept_figures: None) -> None:
    world = merit_world(applications=2)
    first, second = world.applications
    scored(world, first, world.reviewers[0], (5, 5, 5))
    scored(world, second, world.reviewers[0], (3, 3, 3))
    assert ranking_of(world.program.id, TODAY).undecided == (first, second)
    assert ranking_of(world.program.id, TODAY) is ranking_of(world.program.id, TODAY)
    awards.reject(world.officer, first, "予算外", TODAY)  # writes only the application (and audit)
    found = ranking_of(world.program.id, TODAY)
    assert found.undecided == (second,)
    assert found.row(first).state == ApplicationState.rejected  # type: ignore[union-attr]


def test_applications_screened_but_not_assigned_are_not_in_the_ranking(app: Flask) -> None:
    world = merit_world(applications=2)
    assert ranking(world.officer, world.program.id, TODAY).rows == ()
