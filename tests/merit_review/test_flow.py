"""The merit review from assignment to award, through the use cases."""

from __future__ import annotations

from fractions import Fraction

import pytest
from flask import Flask

from grants.awards import service as awards
from grants.core.errors import RuleViolation
from grants.core.states import ApplicationState
from grants.extensions import db
from grants.merit_review.models import RankingDeparture
from grants.merit_review.ranking.queries import ranking
from tests.support.applications import TODAY
from tests.support.merit import merit_world, scored


def test_scores_rank_the_applications_and_awards_follow_the_ranking(app: Flask) -> None:
    world = merit_world(applications=3)
    first, second, third = world.applications
    one, two, three = world.reviewers
    scored(world, first, one, (3, 3, 3))
    scored(world, first, two, (4, 4, 4))
    scored(world, second, one, (5, 5, 5))
    scored(world, third, two, (2, 2, 2))
    found = ranking(world.officer, world.program.id, TODAY)
    assert [row.application_id for row in found.ranked] == [second, first, third]
    assert found.row(first).written.score == Fraction(7, 2)
    assert found.line == 3
    with pytest.raises(RuleViolation) as refused:
        awards.award(world.officer, first, TODAY)
    assert "departure_reason" in refused.value.fields
    grant = awards.award(world.officer, second, TODAY)
    assert grant.application.state == ApplicationState.awarded
    awards.award(world.officer, third, TODAY, departure_reason="戦略的に重要な領域のため")
    departure = db.session.query(RankingDeparture).one()
    assert departure.application_id == third and departure.passed_over == [first]
