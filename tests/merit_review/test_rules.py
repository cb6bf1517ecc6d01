"""Merit review's pure rules, on worked examples: weighted scores, aggregation,
normalisation, disagreement, the ranking's order and the funding line."""

from __future__ import annotations

from datetime import date
from fractions import Fraction

import pytest

from grants.core.states import Label
from grants.merit_review.rules import (
    Aggregation,
    Commitment,
    Normalisation,
    ScoreEntry,
    Settings,
    Sheet,
    Standing,
    aggregate,
    aggregates,
    departure,
    funding_line,
    pools_outlook,
    rank_normalised,
    ranked,
    score_problems,
    shown,
    weighted_score,
)
from grants.rules.rubric import Criterion, Stage
from grants.rules.tranches import by_fiscal_year, reduced_tranches

STAGE = Stage(
    low=1,
    high=5,
    weight_total=100,
    comment_required=True,
    criteria=tuple(
        Criterion(cid, Label(cid, cid), Label("", ""), weight)
        for cid, weight in (("fit", 30), ("science", 30), ("plan", 40))
    ),
)


def _scores(fit: int, science: int, plan: int) -> dict[str, int]:
    return {"fit": fit, "science": science, "plan": plan}


def _sheet(application: int, reviewer: int, *values: int) -> Sheet:
    scores = _scores(*values)
    return Sheet(application, reviewer, scores, weighted_score(scores, STAGE))


# --- one reviewer's weighted score ----------------------------------------------------------


def test_a_weighted_score_is_the_weights_times_the_scores_over_the_total() -> None:
    # (30 x 4 + 30 x 3 + 40 x 5) / 100 = 410 / 100
    assert weighted_score(_scores(4, 3, 5), STAGE) == Fraction(41, 10)
    assert weighted_score(_scores(1, 1, 1), STAGE) == 1
    assert weighted_score(_scores(5, 5, 5), STAGE) == 5


def test_scores_are_shown_rounded_half_up() -> None:
    assert shown(Fraction(41, 10)) == "4.10"
    assert shown(Fraction(7, 2)) == "3.50"
    assert shown(Fraction(1, 3)) == "0.33"
    assert shown(Fraction(2, 3)) == "0.67"
    assert shown(Fraction(1, 8)) == "0.13"  # half up, not to even
    assert shown(Fraction(1, 3), 4) == "0.3333"


# --- aggregation ----------------------------------------------------------------------------


def test_the_mean_and_the_median() -> None:
    values = [Fraction(3), Fraction(4), Fraction(41, 10)]
    assert aggregate(values, Aggregation.mean) == Fraction(111, 30)
    assert aggregate(values, Aggregation.median) == 4
    # an even count: the mean of the two middle values
    assert aggregate([*values, Fraction(5)], Aggregation.median) == Fraction(81, 20)
    with pytest.raises(ValueError):
        aggregate([], Aggregation.mean)


def test_rank_normalisation_makes_a_harsh_and_a_lenient_reviewer_weigh_alike() -> None:
    harsh = [_sheet(1, 10, 2, 2, 2), _sheet(2, 10, 1, 1, 1), _sheet(3, 10, 3, 3, 3)]
    lenient = [_sheet(1, 20, 4, 4, 4), _sheet(2, 20, 3, 3, 3), _sheet(3, 20, 5, 5, 5)]
    found = rank_normalised(harsh + lenient, 1, 5)
    # percentiles 1/2, 0 and 1 of each reviewer's three, onto the 1-5 scale: 3, 1, 5
    for application, expected in ((1, 3), (2, 1), (3, 5)):
        assert found[(application, 10)] == found[(application, 20)] == expected


def test_rank_normalisation_shares_ranks_between_ties_and_centres_a_single_score() -> None:
    sheets = [_sheet(1, 10, 3, 3, 3), _sheet(2, 10, 3, 3, 3), _sheet(3, 10, 5, 5, 5)]
    found = rank_normalised([*sheets, _sheet(4, 20, 1, 1, 1)], 1, 5)
    # two tied at the bottom: (0 + 1/2) / 2 = 1/4 each, onto the scale: 1 + 4/4 = 2
    assert found[(1, 10)] == found[(2, 10)] == 2 and found[(3, 10)] == 5
    assert found[(4, 20)] == 3  # a reviewer's only score sits mid-scale


def test_aggregates_flag_a_disagreement_at_the_threshold() -> None:
    sheets = [_sheet(1, 10, 5, 5, 5), _sheet(1, 20, 4, 3, 3), _sheet(2, 10, 4, 4, 4)]
    found = aggregates(sheets, STAGE, Settings(disagreement=Fraction(17, 10)))
    # reviewer 20's (120 + 90 + 120) / 100 = 3.3; spread 5 - 3.3 = 1.7: flagged (>=)
    assert found[1].score == Fraction(83, 20) and found[1].spread == Fraction(17, 10)
    assert found[1].disagreement and found[1].reviewers == 2
    assert found[1].criterion_means == {"fit": Fraction(9, 2), "science": 4, "plan": 4}
    assert not found[2].disagreement  # one reviewer never disagrees
    calmer = aggregates(sheets, STAGE, Settings(disagreement=Fraction(9, 5)))
    assert not calmer[1].disagreement


def test_the_median_setting_and_normalisation_change_the_application_score() -> None:
    sheets = [_sheet(1, r, *v) for r, v in ((10, (5, 5, 5)), (20, (1, 1, 1)), (30, (2, 2, 2)))]
    assert aggregates(sheets, STAGE, Settings())[1].score == Fraction(8, 3)
    assert aggregates(sheets, STAGE, Settings(aggregation=Aggregation.median))[1].score == 2
    ranked_by = Settings(normalisation=Normalisation.rank)
    assert aggregates(sheets, STAGE, ranked_by)[1].score == 3  # each reviewer's only score


# --- entered scores ---------------------------------------------------------------------------


def test_score_problems_name_each_field() -> None:
    entries = [
        ScoreEntry("fit", 6, "理由"),
        ScoreEntry("science", None, "理由"),
        ScoreEntry("plan", 3, "  "),
    ]
    assert score_problems(entries, STAGE) == {
        "scores.fit.score": ["Give a score from 1 to 5."],
        "scores.science.score": ["Give a score."],
        "scores.plan.comment": ["Give a comment with the score."],
    }
    assert score_problems([ScoreEntry(c, 3, "ok") for c in ("fit", "science", "plan")], STAGE) == {}


def test_score_problems_refuse_unknown_and_repeated_criteria() -> None:
    entries = [ScoreEntry(c, 3, "ok") for c in ("fit", "science", "plan", "fit", "other")]
    assert score_problems(entries, STAGE)["scores"] == ["Score each criterion of the rubric once."]


def test_a_comment_is_optional_when_the_rubric_says_so() -> None:
    lenient = Stage(1, 5, 100, False, STAGE.criteria)
    entries = [ScoreEntry(c, 3, "") for c in ("fit", "science", "plan")]
    assert score_problems(entries, lenient) == {}
    assert "scores.fit.comment" in score_problems(
        [ScoreEntry("fit", 3, "\x07"), *entries[1:]], lenient
    )


# --- the ranking ----------------------------------------------------------------------------


def test_the_ranking_order_and_its_tie_break() -> None:
    day = date(2026, 5, 1)
    standings = [
        Standing(1, day, Fraction(4)),
        Standing(2, date(2026, 4, 1), Fraction(4)),  # same score, earlier submission
        Standing(3, day, Fraction(4)),  # same score and day, higher number
        Standing(4, day, Fraction(3), hearing=Fraction(2)),  # heard: above the others
        Standing(5, day, Fraction(5), hearing=Fraction(2)),  # same hearing, better written
        Standing(6, day, None),  # not scored: not ranked
        Standing(7, day, Fraction(9, 2)),
    ]
    assert [s.application_id for s in ranked(standings)] == [5, 4, 7, 2, 1, 3]


# --- the funding line -------------------------------------------------------------------------


def test_the_line_falls_before_the_first_application_that_does_not_fit() -> None:
    order = [
        Commitment(1, {2026: 100, 2027: 150}),
        Commitment(2, {2026: 100, 2027: 150}),
        Commitment(3, {2027: 10}),  # FY2027 would need 310 of its 300
        Commitment(4, {2026: 100}),  # would fit on its own, but the line is a line
    ]
    available = {2026: 500, 2027: 300}
    assert funding_line(order, available) == 2
    assert funding_line(order[:2], available) == 2
    assert funding_line(order, {2026: 500, 2027: 1000}) == 4
    assert funding_line([Commitment(9, {2030: 1})], available) == 0  # no pool that year


def test_the_line_counts_each_fiscal_year_on_its_own() -> None:
    order = [Commitment(1, {2026: 300}), Commitment(2, {2027: 300}), Commitment(3, {2026: 1})]
    assert funding_line(order, {2026: 300, 2027: 300}) == 2
    assert funding_line(order, {2026: 301, 2027: 300}) == 3


def test_the_pools_outlook_shows_each_year_above_the_line() -> None:
    funded = [Commitment(1, {2026: 100, 2027: 150}), Commitment(2, {2027: 200})]
    found = {p.fiscal_year: p for p in pools_outlook(funded, {2026: 500, 2027: 300, 2028: 9})}
    assert (found[2026].funded, found[2026].remaining) == (100, 400)
    assert (found[2027].remaining, found[2027].over) == (-50, True)
    assert found[2028].funded == 0


def test_commitments_fall_in_the_fiscal_year_of_their_due_date() -> None:
    """A tranche due on 31 March belongs to the year that ends then; one due on 1 April to
    the next: the same plan straddles the boundary by one day."""
    dues = [date(2027, 3, 31), date(2027, 4, 1), date(2028, 3, 31)]
    assert by_fiscal_year(dues, [100, 200, 300]) == {2026: 100, 2027: 500}
    assert by_fiscal_year(dues, [100, 0, 0]) == {2026: 100}  # nothing for a zero tranche
    assert reduced_tranches([100, 200, 300], 250) == [100, 150, 0]


def test_a_departure_is_below_the_line_or_passes_over_undecided_ones_above() -> None:
    undecided = [11, 12, 13, 14]
    assert not departure(11, undecided, 2, 1).departs
    passing = departure(12, undecided, 2, 3)
    assert passing.departs and passing.passed_over == (11,) and not passing.below_line
    below = departure(13, undecided, 2, 5)
    assert below.below_line and below.passed_over == (11, 12)
    unranked = departure(99, undecided, 2, None)
    assert unranked.below_line and unranked.passed_over == tuple(undecided)
