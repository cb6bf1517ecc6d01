"""The officer's decision page on a screened application: what it may decide now, and what
awarding it today would give."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from grants.applications import queries as application_queries
from grants.applications.models import Application
from grants.awards.service import AwardPreview, preview_award
from grants.core.actors import Actor
from grants.core.permissions import Action, Subject, decide
from grants.core.problems import Problem
from grants.core.states import ApplicationState, can_transition
from grants.merit_review.queries import rubric_for
from grants.merit_review.ranking.queries import RankedApplication, award_departure, ranking_of
from grants.merit_review.rules import Departure
from grants.merit_review.service import departure_problem, passed_over_ranks
from grants.rules import Trace


@dataclass(frozen=True)
class DecisionView:
    application: Application
    trace: Trace | None  # the eligibility trace stored at submission
    may_screen: bool
    may_award: bool
    may_reject: bool
    award_preview: AwardPreview | None  # what awarding today gives, when it may be awarded
    standing: RankedApplication | None  # its row in the merit review's ranking
    departure: Departure | None  # how awarding it today departs from the ranking, if at all
    departure_text: Problem | None  # ... in words: what the reason must answer

    @property
    def decides(self) -> bool:
        return self.may_screen or self.may_award or self.may_reject


def _standing(application: Application, today: date) -> RankedApplication | None:
    """Its row in the ranking, when it is reviewed on merit."""
    if rubric_for(application) is None:
        return None
    return ranking_of(application.program_id, today).row(application.id)


def decision_view(actor: Actor, application_id: int, today: date) -> DecisionView:
    application = application_queries.get_application(actor, application_id)

    def may(action: Action, target: ApplicationState) -> bool:
        allowed = decide(action, Subject(role=actor.role)).allowed
        return allowed and can_transition(ApplicationState(application.state), target)

    may_award = may(Action.award_application, ApplicationState.awarded)
    departure = award_departure(application, today) if may_award else None
    departs = departure is not None and departure.departs
    return DecisionView(
        application=application,
        trace=application_queries.stored_trace(application),
        may_screen=may(Action.screen_application, ApplicationState.screened_eligible),
        may_award=may_award,
        may_reject=may(Action.reject_application, ApplicationState.rejected),
        award_preview=preview_award(application, today) if may_award else None,
        standing=_standing(application, today),
        departure=departure,
        departure_text=departure_problem(
            departure, passed_over_ranks(departure, application.program_id, today)
        )
        if departure is not None and departs
        else None,
    )
