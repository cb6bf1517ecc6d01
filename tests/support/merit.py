"""A call under merit review, built through the real use cases: a programme whose rule set
has a rubric, budget pools, screened applications, reviewers and an officer."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from grants.accounts.models import User
from grants.core.identity import OrgKind, Role
from grants.merit_review.models import MeritAssignment
from grants.merit_review.panels import service as panels
from grants.merit_review.rules import ScoreEntry
from grants.merit_review.scores import service as scores
from grants.programs.models import Program
from grants.rulesets.models import RuleSet
from tests.support.applications import TODAY, ApplicationWorld, make_pools, screened_application
from tests.support.factories import make_org, make_user
from tests.support.grants import make_program

# Weights 30, 30, 40 of 100 on a 1-5 scale: scores 4, 3, 5 weigh (120 + 90 + 200) / 100 = 4.1.
CRITERIA = [
    {"id": "fit", "weight": 30, "name": {"ja": "事業趣旨との整合性", "en": "Fit"}},
    {"id": "science", "weight": 30, "name": {"ja": "科学的意義", "en": "Significance"}},
    {"id": "plan", "weight": 40, "name": {"ja": "計画の妥当性", "en": "Plan"}},
]
RUBRIC: dict[str, Any] = {
    "scale": {"min": 1, "max": 5},
    "weight_total": 100,
    "comment_required": True,
    "criteria": CRITERIA,
}
HEARING: dict[str, Any] = {
    "shortlist": 2,
    "criteria": [{"id": "talk", "weight": 10, "name": {"ja": "説明", "en": "Talk"}}],
    "weight_total": 10,
}
_codes = itertools.count(1)


@dataclass
class MeritWorld:
    program: Program
    ruleset: RuleSet
    officer: User
    reviewers: list[User]
    calls: list[ApplicationWorld] = field(default_factory=list)

    @property
    def applications(self) -> list[int]:
        return [world.application.id for world in self.calls]


def merit_world(
    applications: int = 3,
    reviewers: int = 3,
    rubric: dict[str, Any] | None = None,
    appropriation: int = 10**10,
    years: tuple[int, ...] = (2026, 2027, 2028),
) -> MeritWorld:
    """A milestone programme with `rubric` (RUBRIC by default), pools of `appropriation` per
    year, screened eligible applications (each asks 400,000,000 yen in tranches of 100, 150
    and 150 million due in FY2026, FY2027 and FY2028) and reviewers from a university."""
    program, ruleset = make_program(f"MR-{next(_codes)}", "milestone", rubric=rubric or RUBRIC)
    make_pools(program, years, appropriation)
    calls = [screened_application("milestone", program=program) for _ in range(applications)]
    people = [make_user(Role.reviewer, make_org(OrgKind.university)) for _ in range(reviewers)]
    return MeritWorld(program, ruleset, make_user(Role.officer), people, calls)


def entries(values: Sequence[int], comment: str = "根拠のある評価です。") -> list[ScoreEntry]:
    """Scores of CRITERIA in order, each with a comment."""
    return [
        ScoreEntry(criterion["id"], value, comment)
        for criterion, value in zip(CRITERIA, values, strict=True)
    ]


def assign(world: MeritWorld, application_id: int, reviewer: User) -> MeritAssignment:
    return panels.assign(world.officer, application_id, reviewer.id, "written", TODAY)


def scored(
    world: MeritWorld, application_id: int, reviewer: User, values: Sequence[int]
) -> MeritAssignment:
    """Assign the reviewer and submit their scores of CRITERIA."""
    assignment = assign(world, application_id, reviewer)
    return scores.submit_scores(reviewer, assignment.id, entries(values))
