"""Merit review's pure rules: scores, their aggregation, the ranking and the funding line.

Exact arithmetic throughout (Fractions of whole-number scores and weights; pages round
only what they show). Definitions, for one stage of the rubric (grants.rules.rubric):

- A reviewer's weighted score: sum(weight_i x score_i) / weight_total, on the criteria's
  scale. Weights 30, 30, 40 of 100 and scores 4, 3, 5 give (120 + 90 + 200) / 100 = 41/10.
- Normalisation (a programme setting), per reviewer across every application of the
  programme they scored in the stage: `none` keeps the weighted scores; `rank` replaces
  each by its mid-rank percentile p = (below + (equal - 1) / 2) / (n - 1) among that
  reviewer's n scores (p = 1/2 when n = 1), mapped back onto the scale: low + p x (high -
  low). A harsh and a lenient reviewer who order the applications alike then give the
  same scores; ties share the mean of their ranks.
- The application's score: the mean (or, by the programme's setting, the median: the mean
  of the two middle values for an even count) of its reviewers' (normalised) scores.
- Disagreement: the spread (highest minus lowest) of the reviewers' weighted scores, before
  any normalisation, reaches the programme's threshold.
- The ranking: applications heard at the hearing first, by their hearing score; then the
  others by their written score; ties by the written score (for the heard ones), then the
  earlier submission, then the lower application number. Applications without a submitted
  score are not ranked.
- The funding line: the undecided applications in ranking order, each with what its award
  would commit per fiscal year (rules.tranches); the line falls before the first one whose
  cumulative commitments exceed, in any year, that year's pool still available
  (appropriation - committed - released). Awarded grants are in `committed` already, so the
  line stays put as officers award down the list.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from fractions import Fraction
from typing import Final

from grants.core.problems import N_, Problem
from grants.core.states import Label
from grants.core.text import control_problem
from grants.rules.rubric import Stage

COMMENT_MAX = 4000


class Aggregation(StrEnum):
    mean = "mean"
    median = "median"


class Normalisation(StrEnum):
    none = "none"
    rank = "rank"


class StageName(StrEnum):
    written = "written"
    hearing = "hearing"


LABELS: Final[Mapping[StrEnum, Label]] = {
    Aggregation.mean: Label("平均", "Mean"),
    Aggregation.median: Label("中央値", "Median"),
    Normalisation.none: Label("なし", "None"),
    Normalisation.rank: Label("順位による正規化", "Rank-based"),
    StageName.written: Label("書面審査", "Written review"),
    StageName.hearing: Label("ヒアリング審査", "Hearing"),
}


def label(member: StrEnum, locale: str) -> str:
    return LABELS[member].text(locale)


# --- one reviewer's scores ----------------------------------------------------------------


@dataclass(frozen=True)
class ScoreEntry:
    """A criterion's score and comment as a reviewer gives them (None: left blank)."""

    criterion_id: str
    score: int | None
    comment: str


def score_problems(entries: Sequence[ScoreEntry], stage: Stage) -> dict[str, list[Problem]]:
    """Field errors keyed `scores.<criterion id>.score|comment` (and `scores` for the list):
    every criterion scored once, on the scale, with a comment when the rubric asks for one."""
    errors: dict[str, list[Problem]] = {}
    given = {entry.criterion_id: entry for entry in entries}
    unknown = [entry.criterion_id for entry in entries if entry.criterion_id not in stage.weights]
    if unknown or len(given) != len(entries):
        errors["scores"] = [N_("Score each criterion of the rubric once.")]
    for criterion in stage.criteria:
        entry = given.get(criterion.id)
        where = f"scores.{criterion.id}"
        if entry is None or entry.score is None:
            errors[f"{where}.score"] = [N_("Give a score.")]
        elif not stage.low <= entry.score <= stage.high:
            errors[f"{where}.score"] = [
                N_("Give a score from %(low)d to %(high)d.", low=stage.low, high=stage.high)
            ]
        comment = (entry.comment if entry else "").strip()
        if problem := _comment_problem(comment, stage.comment_required):
            errors[f"{where}.comment"] = [problem]
    return errors


def _comment_problem(comment: str, required: bool) -> Problem | None:
    if required and not comment:
        return N_("Give a comment with the score.")
    if len(comment) > COMMENT_MAX:
        return N_("At most %(n)d characters.", n=COMMENT_MAX)
    return control_problem(comment, multiline=True)


def weighted_score(scores: Mapping[str, int], stage: Stage) -> Fraction:
    """sum(weight x score) / weight_total over the stage's criteria (all of them scored)."""
    total = sum(criterion.weight * scores[criterion.id] for criterion in stage.criteria)
    return Fraction(total, stage.weight_total)


# --- aggregation ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Sheet:
    """One reviewer's submitted scores of one application in one stage."""

    application_id: int
    reviewer_id: int
    scores: Mapping[str, int]
    weighted: Fraction


def rank_normalised(
    sheets: Iterable[Sheet], low: int, high: int
) -> dict[tuple[int, int], Fraction]:
    """(application, reviewer) -> the reviewer's mid-rank percentile of that application
    among every application they scored, mapped onto the scale from `low` to `high`."""
    by_reviewer: dict[int, list[Sheet]] = defaultdict(list)
    for sheet in sheets:
        by_reviewer[sheet.reviewer_id].append(sheet)
    found: dict[tuple[int, int], Fraction] = {}
    for reviewer_id, own in by_reviewer.items():
        values = sorted(sheet.weighted for sheet in own)
        for sheet in own:
            found[(sheet.application_id, reviewer_id)] = low + _percentile(
                values, sheet.weighted
            ) * (high - low)
    return found


def _percentile(ordered: list[Fraction], value: Fraction) -> Fraction:
    count = len(ordered)
    if count == 1:
        return Fraction(1, 2)
    below = sum(1 for other in ordered if other < value)
    equal = sum(1 for other in ordered if other == value)
    return (below + Fraction(equal - 1, 2)) / (count - 1)


def aggregate(values: Sequence[Fraction], method: Aggregation) -> Fraction:
    """The mean, or the median (the mean of the two middle values of an even count)."""
    if not values:
        raise ValueError("nothing to aggregate")
    if method is Aggregation.mean:
        return sum(values, Fraction(0)) / len(values)
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


@dataclass(frozen=True)
class Settings:
    """A programme's merit review settings (its columns, read by the edges as plain values)."""

    panel_size: int = 3
    review_days: int = 21
    aggregation: Aggregation = Aggregation.mean
    normalisation: Normalisation = Normalisation.none
    disagreement: Fraction = Fraction(3, 2)


@dataclass(frozen=True)
class Aggregate:
    """An application's scores in one stage."""

    application_id: int
    score: Fraction  # the mean or median of the reviewers' (normalised) weighted scores
    reviewers: int
    spread: Fraction  # highest minus lowest raw weighted score
    disagreement: bool
    criterion_means: Mapping[str, Fraction]


def aggregates(sheets: Sequence[Sheet], stage: Stage, settings: Settings) -> dict[int, Aggregate]:
    """Every application's aggregate from the stage's submitted sheets."""
    normalised: Mapping[tuple[int, int], Fraction] = {}
    if settings.normalisation is Normalisation.rank:
        normalised = rank_normalised(sheets, stage.low, stage.high)
    by_application: dict[int, list[Sheet]] = defaultdict(list)
    for sheet in sheets:
        by_application[sheet.application_id].append(sheet)
    found = {}
    for application_id, own in by_application.items():
        raw = [sheet.weighted for sheet in own]
        values = [normalised.get((application_id, s.reviewer_id), s.weighted) for s in own]
        spread = max(raw) - min(raw)
        found[application_id] = Aggregate(
            application_id=application_id,
            score=aggregate(values, settings.aggregation),
            reviewers=len(own),
            spread=spread,
            disagreement=len(own) > 1 and spread >= settings.disagreement,
            criterion_means=criterion_means(own, stage),
        )
    return found


def criterion_means(sheets: Sequence[Sheet], stage: Stage) -> dict[str, Fraction]:
    """Each criterion's mean raw score across the sheets (what applicants are told)."""
    return {
        criterion.id: Fraction(sum(s.scores[criterion.id] for s in sheets), len(sheets))
        for criterion in stage.criteria
        if sheets
    }


# --- the ranking --------------------------------------------------------------------------


@dataclass(frozen=True)
class Standing:
    """An application's place in the ranking, as its key reads it."""

    application_id: int
    submitted_on: date
    written: Fraction | None
    hearing: Fraction | None = None

    @property
    def ranked(self) -> bool:
        return self.written is not None or self.hearing is not None


TIE_BREAK = N_(
    "Higher scores rank first. Applications heard at the hearing rank above the others, by "
    "their hearing score; the others follow by their written score. Equal scores are "
    "ordered by the written score, then by the earlier submission date, then by the lower "
    "application number."
)


def ranking_key(standing: Standing) -> tuple[int, Fraction, Fraction, date, int]:
    zero = Fraction(0)
    heard = 0 if standing.hearing is not None else 1
    return (
        heard,
        -(standing.hearing if standing.hearing is not None else zero),
        -(standing.written if standing.written is not None else zero),
        standing.submitted_on,
        standing.application_id,
    )


def ranked(standings: Iterable[Standing]) -> list[Standing]:
    """The ranked applications in order (TIE_BREAK); those without a score are left out."""
    return sorted((s for s in standings if s.ranked), key=ranking_key)


# --- the funding line ----------------------------------------------------------------------


@dataclass(frozen=True)
class Commitment:
    """What awarding an application would commit per fiscal year (yen, tranches > 0)."""

    application_id: int
    by_year: Mapping[int, int]

    @property
    def total(self) -> int:
        return sum(self.by_year.values())


def funding_line(order: Sequence[Commitment], available: Mapping[int, int]) -> int:
    """How many of `order` (undecided, in ranking order) fit above the line: the index of the
    first whose cumulative commitments exceed some year's `available` money (a year with no
    pool has none), else all of them."""
    cumulative: dict[int, int] = defaultdict(int)
    for index, commitment in enumerate(order):
        for year, amount in commitment.by_year.items():
            cumulative[year] += amount
        if any(cumulative[year] > available.get(year, 0) for year in commitment.by_year):
            return index
    return len(order)


@dataclass(frozen=True)
class PoolOutlook:
    """One fiscal year's pool against the commitments of the applications above a line."""

    fiscal_year: int
    available: int
    funded: int

    @property
    def remaining(self) -> int:
        return self.available - self.funded

    @property
    def over(self) -> bool:
        return self.remaining < 0


def pools_outlook(funded: Iterable[Commitment], available: Mapping[int, int]) -> list[PoolOutlook]:
    """Every year a pool or a commitment touches, with what the funded applications take."""
    taken: dict[int, int] = defaultdict(int)
    for commitment in funded:
        for year, amount in commitment.by_year.items():
            taken[year] += amount
    years = sorted(set(available) | set(taken))
    return [PoolOutlook(year, available.get(year, 0), taken[year]) for year in years]


@dataclass(frozen=True)
class Departure:
    """How awarding an application departs from the ranking (nothing when it follows it)."""

    rank: int | None  # None: not ranked (no submitted score)
    below_line: bool = False
    passed_over: tuple[int, ...] = field(default=())  # undecided applications ranked above

    @property
    def departs(self) -> bool:
        return self.rank is None or self.below_line or bool(self.passed_over)


def departure(
    application_id: int, undecided: Sequence[int], line: int, rank: int | None
) -> Departure:
    """How awarding an undecided application departs from the ranking: `undecided` are the
    undecided ranked applications in ranking order, `line` how many of them are above the
    line, `rank` the application's rank in the whole ranking (None when it is not ranked:
    then it passes over every ranked one and is below the line)."""
    if rank is None or application_id not in undecided:
        return Departure(rank, True, tuple(undecided))
    position = undecided.index(application_id)
    return Departure(rank, position >= line, tuple(undecided[:position]))


def shown(value: Fraction, places: int = 2) -> str:
    """A score as pages and files show it: rounded half up to `places` decimals."""
    scale = 10**places
    whole = (value * scale * 2 + 1) // 2  # half up (scores are never negative)
    text = str(whole)
    if places == 0:
        return text
    text = text.rjust(places + 1, "0")
    return f"{text[:-places]}.{text[-places:]}"
