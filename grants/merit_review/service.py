"""A programme's merit review settings, and the ranking's say in an award.

The assignment of reviewers is `merit_review.panels`, their scores `merit_review.scores`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from typing import Any

from sqlalchemy import select

from grants.applications.models import Application
from grants.core import audit
from grants.core.actors import Actor
from grants.core.db import use_case
from grants.core.errors import NotFound, RuleViolation
from grants.core.money import parse_ratio
from grants.core.permissions import Action, Subject, require
from grants.core.problems import N_, Problem
from grants.core.text import control_problem
from grants.extensions import db
from grants.merit_review.models import RankingDeparture
from grants.merit_review.ranking.queries import award_departure, ranking_of
from grants.merit_review.rules import Aggregation, Departure, Normalisation, shown
from grants.programs.models import Program

PANEL_MAX = 20
REVIEW_DAYS_MAX = 365
DISAGREEMENT_MAX = 100
REASON_MAX = 2000


@dataclass(frozen=True)
class SettingsData:
    panel_size: int | None
    review_days: int | None
    aggregation: str
    normalisation: str
    disagreement: str


@use_case
def set_settings(actor: Actor, program_id: int, data: SettingsData) -> Program:
    """The programme's panel size, days to score, aggregation, normalisation and the spread
    that flags a disagreement (field errors by these names)."""
    require(Action.manage_programs, Subject(role=actor.role))
    program = db.session.scalar(select(Program).where(Program.id == program_id).with_for_update())
    if program is None:
        raise NotFound(N_("Not found."))
    spread = _checked(data)
    before = settings_snapshot(program)
    program.merit_panel_size = int(data.panel_size or 0)
    program.merit_review_days = int(data.review_days or 0)
    program.merit_aggregation = data.aggregation
    program.merit_normalisation = data.normalisation
    program.merit_disagreement = _ratio_text(spread)
    audit.record(actor, "program.merit_settings", program, before, settings_snapshot(program))
    db.session.commit()
    return program


def _checked(data: SettingsData) -> Fraction:
    errors: dict[str, list[Problem]] = {}
    if data.panel_size is None or not 1 <= data.panel_size <= PANEL_MAX:
        errors["panel_size"] = [_whole(1, PANEL_MAX)]
    if data.review_days is None or not 1 <= data.review_days <= REVIEW_DAYS_MAX:
        errors["review_days"] = [_whole(1, REVIEW_DAYS_MAX)]
    if data.aggregation not in set(Aggregation):
        errors["aggregation"] = [N_("Choose one from the list.")]
    if data.normalisation not in set(Normalisation):
        errors["normalisation"] = [N_("Choose one from the list.")]
    spread = Fraction(0)
    try:
        spread = parse_ratio(data.disagreement)
    except ValueError as error:
        errors["disagreement"] = [error.args[0]]
    else:
        if not 0 < spread <= DISAGREEMENT_MAX:
            errors["disagreement"] = [
                N_("Give a spread above 0 and at most %(n)d.", n=DISAGREEMENT_MAX)
            ]
    if errors:
        raise RuleViolation(N_("The merit review settings could not be saved."), errors)
    return spread


def _whole(low: int, high: int) -> Problem:
    return N_("Enter a whole number from %(min)s to %(max)s.", min=low, max=high)


def _ratio_text(value: Fraction) -> str:
    """A spread as stored: a decimal when it has one (1.5), else the fraction (4/3)."""
    if value.denominator == 1:
        return str(value.numerator)
    decimal = shown(value, 6).rstrip("0")
    return decimal if Fraction(decimal) == value else f"{value.numerator}/{value.denominator}"


def settings_snapshot(program: Program) -> dict[str, Any]:
    return {
        "panel_size": program.merit_panel_size,
        "review_days": program.merit_review_days,
        "aggregation": program.merit_aggregation,
        "normalisation": program.merit_normalisation,
        "disagreement": program.merit_disagreement,
    }


# --- the ranking's say in an award --------------------------------------------------------------


def follow_ranking(
    actor: Actor, application: Application, today: date, reason: str | None
) -> dict[str, Any] | None:
    """For the award use case, in its transaction: None when the application is not under
    merit review; else what its audit row records of the ranking. An award below the
    funding line, of an unranked application, or passing over undecided applications ranked
    above it needs a written `reason` (RuleViolation on `departure_reason` without one); the
    reason is then recorded (RankingDeparture) with the departure."""
    found = award_departure(application, today)
    if found is None:
        return None
    if not found.departs:
        return {"rank": found.rank, "follows_ranking": True}
    reason = (reason or "").strip()
    if problem := _reason_problem(reason, found, application.program_id, today):
        raise RuleViolation(problem, {"departure_reason": [problem]})
    departure = RankingDeparture(
        application_id=application.id,
        rank=found.rank,
        below_line=found.below_line,
        passed_over=list(found.passed_over),
        reason=reason,
        decided_by_id=actor.id,
    )
    db.session.add(departure)
    return {
        "rank": found.rank,
        "follows_ranking": False,
        "below_line": found.below_line,
        "passed_over": list(found.passed_over),
        "departure_reason": reason,
    }


def _reason_problem(reason: str, found: Departure, program_id: int, today: date) -> Problem | None:
    if len(reason) > REASON_MAX:
        return N_("At most %(n)d characters.", n=REASON_MAX)
    if problem := control_problem(reason, multiline=True):
        return problem
    if reason:
        return None
    return departure_problem(found, passed_over_ranks(found, program_id, today))


def passed_over_ranks(found: Departure, program_id: int, today: date) -> list[int]:
    """The ranks of the undecided applications an award passes over."""
    ranking = ranking_of(program_id, today)
    rows = [ranking.row(application_id) for application_id in found.passed_over]
    return [row.rank for row in rows if row is not None and row.rank is not None]


def departure_problem(found: Departure, ranks: list[int]) -> Problem:
    """What the officer is asked for, in words: where the award departs from the ranking."""
    listed = ", ".join(map(str, ranks))
    if found.rank is None:
        return N_(
            "This application has no submitted score, so it is not ranked: give the reason "
            "for awarding it before the ranked applications."
        )
    if found.below_line and found.passed_over:
        return N_(
            "This application (rank %(rank)d) is below the funding line and passes over "
            "undecided applications ranked above it (%(ranks)s): give the reason.",
            rank=found.rank,
            ranks=listed,
        )
    if found.below_line:
        return N_(
            "This application (rank %(rank)d) is below the funding line: give the reason.",
            rank=found.rank,
        )
    return N_(
        "Awarding this application (rank %(rank)d) passes over undecided applications ranked "
        "above it (%(ranks)s): give the reason.",
        rank=found.rank,
        ranks=listed,
    )
