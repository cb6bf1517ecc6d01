"""The ranked list of a programme's call, its funding line against the budget pools, and
what-ifs on it (merit_review.rules defines every figure).

The ranking is computed from a handful of statements whatever the number of applications
(the applications with their plans and investors, every submitted score, the shortlist,
the recorded departures, the pools, the rule set in force and the investors'
certifications), and kept per process while the tables it reads stand still (their latest
stamps, core.audit_marks.kept_while): the page, the API, the export and the award use case
share it, and writes elsewhere (a milestone's evidence, a scan) leave it kept.

Each undecided application's commitments are what its award would commit today: the
amount by the award rules of the rule set in force (applications.award_terms), its
planned tranches cut from the last backwards to match, by the fiscal year of their due
dates (rules.tranches). One the award rules refuse cannot be awarded: it commits nothing
and is left out of the line.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, NamedTuple

from sqlalchemy import func, select
from sqlalchemy.orm import defer, joinedload, subqueryload

from grants.accounts.certified_vcs.models import VcCertification
from grants.accounts.models import ConflictDeclaration, Organization, User
from grants.applications.award_terms import computed, refusals
from grants.applications.facts import certifications_by_vc
from grants.applications.models import Application, CoInvestment
from grants.core import audit_marks
from grants.core.actors import Actor
from grants.core.conflicts import conflict_reasons
from grants.core.errors import NotFound, RuleViolation
from grants.core.money import Amount
from grants.core.permissions import Action, Subject, require
from grants.core.problems import N_, Problem
from grants.core.states import ApplicationState
from grants.extensions import db
from grants.merit_review.models import (
    HearingShortlist,
    MeritAssignment,
    MeritScore,
    RankingDeparture,
)
from grants.merit_review.queries import IN_REVIEW, application_parties, candidates, settings_of
from grants.merit_review.rules import (
    Aggregate,
    Commitment,
    Departure,
    PoolOutlook,
    Settings,
    Sheet,
    StageName,
    Standing,
    aggregates,
    departure,
    funding_line,
    pools_outlook,
    ranked,
    weighted_score,
)
from grants.programs.models import BudgetPool, Program
from grants.rules.rubric import Rubric, Stage, rubric_of
from grants.rules.tranches import by_fiscal_year, reduced_tranches
from grants.rulesets import service as rulesets
from grants.rulesets.models import RuleSet

# The application states shown in the ranking: in review, or decided after it.
SHOWN = (*IN_REVIEW, ApplicationState.awarded, ApplicationState.rejected)


@dataclass(frozen=True)
class RankedApplication:
    application_id: int
    title: str
    organization: str
    organization_en: str | None
    state: ApplicationState
    submitted_on: date
    ruleset_id: int | None
    ruleset_version: int | None
    requested_subsidy: int
    written: Aggregate | None
    hearing: Aggregate | None
    shortlisted: bool
    rank: int | None  # None: no submitted score yet
    departed: bool  # awarded out of the ranking's order, with a recorded reason
    planned: tuple[tuple[date, int], ...]  # (due date, tranche) of the milestone plan
    award_amount: int | None = None  # undecided: what the award rules give today
    refusals: tuple[Problem, ...] = ()  # undecided: why the award rules refuse it
    commitment: Commitment | None = None  # undecided and awardable
    above_line: bool = False

    @property
    def undecided(self) -> bool:
        return self.state in IN_REVIEW

    @property
    def disagreement(self) -> bool:
        return any(a is not None and a.disagreement for a in (self.written, self.hearing))

    def organization_name(self, locale: str) -> str:
        return (
            self.organization_en if locale == "en" and self.organization_en else self.organization
        )


@dataclass(frozen=True)
class Distribution:
    """How often each score was given per criterion, in one rubric's written stage."""

    stage: Stage
    ruleset_version: int | None
    counts: Mapping[str, Mapping[int, int]]  # criterion id -> score -> sheets
    sheets: int


@dataclass(frozen=True)
class Ranking:
    program_id: int
    today: date
    settings: Settings
    rows: tuple[RankedApplication, ...]  # ranked in order, then those not ranked yet
    undecided: tuple[int, ...]  # the undecided, awardable ranked applications in order
    line: int | None  # how many of `undecided` are above the line; None: no rule set in force
    available: Mapping[int, int]  # each fiscal year's pool still available
    pools: tuple[PoolOutlook, ...]  # the pools against the applications above the line
    distribution: Distribution | None
    rubric_versions: int  # distinct rule set versions the ranked applications were scored under
    rubric: Rubric | None  # the rubric of the latest of them
    _by_id: Mapping[int, RankedApplication] = field(default_factory=dict, repr=False)

    def row(self, application_id: int) -> RankedApplication | None:
        return self._by_id.get(application_id)

    @property
    def ranked(self) -> tuple[RankedApplication, ...]:
        return tuple(row for row in self.rows if row.rank is not None)

    @property
    def line_after(self) -> int | None:
        """The application id the line falls after (None: before every undecided one)."""
        if self.line is None or self.line == 0 or not self.undecided:
            return None
        return self.undecided[self.line - 1]


def ranking(actor: Actor, program_id: int, today: date) -> Ranking:
    """The programme's ranking as of `today` (officers)."""
    require(Action.view_ranking, Subject(role=actor.role))
    return ranking_of(program_id, today)


def ranking_of(program_id: int, today: date) -> Ranking:
    """The ranking without a permission check (the award use case reads it)."""
    program = db.session.get(Program, program_id)
    if program is None:
        raise NotFound(N_("Not found."))
    compute = lambda: _ranking(program, today)  # noqa: E731
    return audit_marks.kept_while("merit_ranking", program_id, (today, _mark()), compute)


# What the ranking reads: a write to any other table leaves the kept ranking as it is.
_STAMPED = (
    Application,
    MeritAssignment,
    MeritScore,
    HearingShortlist,
    RankingDeparture,
    BudgetPool,
    RuleSet,
    Program,
    ConflictDeclaration,
    User,
    Organization,
    CoInvestment,
    VcCertification,
)


def _mark() -> tuple[Any, ...]:
    """The data the ranking reads, as it stands: each table's latest stamp (core.changes;
    one index probe each), and the number of assignments (a deleted one leaves no stamp)."""
    latest = [select(func.max(model.changed_in)).scalar_subquery() for model in _STAMPED]
    count = select(func.count()).select_from(MeritAssignment).scalar_subquery()
    return tuple(db.session.execute(select(*latest, count)).one())


def _ranking(program: Program, today: date) -> Ranking:
    settings = settings_of(program)
    applications = _applications(program.id)
    sheets = _without_conflicts(_sheets(program.id), applications)
    shortlisted = _shortlisted(program.id)
    departed = _departed(program.id)
    rubrics = {a.ruleset_id: rubric_of(a.ruleset.document) for a in applications if a.ruleset}
    written, hearing = _aggregates(applications, rubrics, sheets, settings)
    standings = [
        Standing(a.id, a.submitted_on or today, _score(written, a.id), _score(hearing, a.id))
        for a in applications
    ]
    order = ranked(standings)
    ranks = {standing.application_id: index for index, standing in enumerate(order, start=1)}
    rows = {
        a.id: _row(a, written.get(a.id), hearing.get(a.id), a.id in shortlisted, ranks, departed)
        for a in applications
    }
    in_force = rulesets.in_force(program.id, today)
    ordered = [rows[s.application_id] for s in order]
    ordered += sorted(
        (row for row in rows.values() if row.rank is None), key=lambda r: r.application_id
    )
    available = _available(program.id)
    if in_force is None:
        return _built(program.id, today, settings, ordered, (), None, available, rubrics, sheets)
    ordered = _with_awards(ordered, {a.id: a for a in applications}, in_force, today)
    undecided = [row for row in ordered if row.undecided and row.commitment is not None]
    line = funding_line([row.commitment for row in undecided], available)  # type: ignore[misc]
    above = {row.application_id for row in undecided[:line]}
    ordered = [replace(row, above_line=row.application_id in above) for row in ordered]
    return _built(
        program.id,
        today,
        settings,
        ordered,
        tuple(row.application_id for row in undecided),
        line,
        available,
        rubrics,
        sheets,
    )


def _score(found: Mapping[int, Aggregate], application_id: int) -> Any:
    aggregate = found.get(application_id)
    return aggregate.score if aggregate else None


def _built(
    program_id: int,
    today: date,
    settings: Settings,
    rows: list[RankedApplication],
    undecided: tuple[int, ...],
    line: int | None,
    available: dict[int, int],
    rubrics: Mapping[int | None, Rubric | None],
    sheets: Sequence[_Scored],
) -> Ranking:
    version_of = {row.application_id: row.ruleset_id for row in rows}
    funded = [
        row.commitment
        for row in rows
        if row.commitment is not None and row.application_id in undecided[: line or 0]
    ]
    scored_versions = {row.ruleset_id for row in rows if row.rank is not None}
    latest = max(
        (row for row in rows if row.rank is not None),
        key=lambda row: row.ruleset_version or 0,
        default=None,
    )
    rubric = rubrics.get(latest.ruleset_id) if latest else None
    return Ranking(
        program_id=program_id,
        today=today,
        settings=settings,
        rows=tuple(rows),
        undecided=undecided,
        line=line,
        available=available,
        pools=tuple(pools_outlook(funded, available)) if line is not None else (),
        distribution=(
            _distribution(latest, rubric, sheets, version_of) if latest and rubric else None
        ),
        rubric_versions=len(scored_versions),
        rubric=rubric,
        _by_id={row.application_id: row for row in rows},
    )


# --- reading -------------------------------------------------------------------------------


def _applications(program_id: int) -> list[Application]:
    reviewed = select(MeritAssignment.application_id)
    query = (
        select(Application)
        .where(
            Application.program_id == program_id,
            Application.state.in_(SHOWN),
            Application.id.in_(reviewed),
        )
        .options(
            defer(Application.eligibility_trace),  # large, and not read here
            joinedload(Application.organization),
            joinedload(Application.ruleset),
            subqueryload(Application.plan),
            subqueryload(Application.co_investments).joinedload(CoInvestment.vc),
        )
        .order_by(Application.id)
    )
    return list(db.session.scalars(query).unique())


class _Scored(NamedTuple):
    application_id: int
    reviewer_id: int
    stage: str
    criterion_id: str
    score: int


def _sheets(program_id: int) -> list[_Scored]:
    query = (
        select(
            MeritAssignment.application_id,
            MeritAssignment.reviewer_id,
            MeritAssignment.stage,
            MeritScore.criterion_id,
            MeritScore.score,
        )
        .join(MeritScore, MeritScore.assignment_id == MeritAssignment.id)
        .join(Application, Application.id == MeritAssignment.application_id)
        .where(Application.program_id == program_id, MeritAssignment.submitted_at.is_not(None))
    )
    return [_Scored(*row) for row in db.session.execute(query)]


def _without_conflicts(scored: list[_Scored], applications: list[Application]) -> list[_Scored]:
    """The scores of reviewers without a conflict of interest with the application now (one
    who declared a conflict after submitting no longer counts)."""
    reviewer_ids = {item.reviewer_id for item in scored}
    users = db.session.scalars(select(User).where(User.id.in_(reviewer_ids))) if scored else []
    people = {candidate.user_id: candidate for candidate in candidates(users)}
    parties = {a.id: application_parties(a) for a in applications}
    clear: dict[tuple[int, int], bool] = {}
    kept = []
    for item in scored:
        key = (item.application_id, item.reviewer_id)
        if key not in clear:
            found = parties.get(item.application_id)
            clear[key] = found is not None and not conflict_reasons(people[item.reviewer_id], found)
        if clear[key]:
            kept.append(item)
    return kept


def _shortlisted(program_id: int) -> set[int]:
    query = select(HearingShortlist.application_id).where(HearingShortlist.program_id == program_id)
    return set(db.session.scalars(query))


def _departed(program_id: int) -> set[int]:
    query = (
        select(RankingDeparture.application_id)
        .join(Application, Application.id == RankingDeparture.application_id)
        .where(Application.program_id == program_id)
    )
    return set(db.session.scalars(query))


def _available(program_id: int) -> dict[int, int]:
    query = select(BudgetPool).where(BudgetPool.program_id == program_id)
    return {pool.fiscal_year: pool.available for pool in db.session.scalars(query)}


def _aggregates(
    applications: Sequence[Application],
    rubrics: Mapping[int | None, Rubric | None],
    scored: Sequence[_Scored],
    settings: Settings,
) -> tuple[dict[int, Aggregate], dict[int, Aggregate]]:
    """Per stage, the applications' aggregates; sheets group by rule set version, each
    scored on its own rubric (a reviewer's rank normalisation within that version)."""
    version_of = {a.id: a.ruleset_id for a in applications}
    grouped: dict[tuple[str, int | None], list[Sheet]] = defaultdict(list)
    for (application_id, reviewer_id, stage), scores in _by_sheet(scored).items():
        ruleset_id = version_of.get(application_id)
        rubric = rubrics.get(ruleset_id)
        criteria = rubric.stage(stage) if rubric else None
        if criteria is None or set(scores) != set(criteria.weights):
            continue  # not this rubric's criteria: left out rather than misread
        sheet = Sheet(application_id, reviewer_id, scores, weighted_score(scores, criteria))
        grouped[(stage, ruleset_id)].append(sheet)
    found: dict[str, dict[int, Aggregate]] = {StageName.written: {}, StageName.hearing: {}}
    for (stage, ruleset_id), sheets in grouped.items():
        rubric = rubrics[ruleset_id]
        assert rubric is not None
        criteria = rubric.stage(stage)
        assert criteria is not None
        found[stage].update(aggregates(sheets, criteria, settings))
    return found[StageName.written], found[StageName.hearing]


def _by_sheet(scored: Sequence[_Scored]) -> dict[tuple[int, int, str], dict[str, int]]:
    sheets: dict[tuple[int, int, str], dict[str, int]] = defaultdict(dict)
    for item in scored:
        sheets[(item.application_id, item.reviewer_id, item.stage)][item.criterion_id] = item.score
    return sheets


def _row(
    application: Application,
    written: Aggregate | None,
    hearing: Aggregate | None,
    shortlisted: bool,
    ranks: Mapping[int, int],
    departed: set[int],
) -> RankedApplication:
    ruleset = application.ruleset
    return RankedApplication(
        application_id=application.id,
        title=application.title,
        organization=application.organization.name,
        organization_en=application.organization.name_en,
        state=ApplicationState(application.state),
        submitted_on=application.submitted_on or date.min,
        ruleset_id=application.ruleset_id,
        ruleset_version=ruleset.version if ruleset else None,
        requested_subsidy=application.requested_subsidy,
        written=written,
        hearing=hearing,
        shortlisted=shortlisted,
        rank=ranks.get(application.id),
        departed=application.id in departed,
        planned=tuple((m.due_date, m.tranche_amount) for m in application.plan),
    )


def _with_awards(
    rows: list[RankedApplication],
    applications: Mapping[int, Application],
    ruleset: RuleSet,
    today: date,
) -> list[RankedApplication]:
    """The undecided ranked rows with what their award would give and commit today."""
    pending = [row for row in rows if row.undecided and row.rank is not None]
    vc_ids = {
        ci.vc_organization_id
        for row in pending
        for ci in applications[row.application_id].co_investments
    }
    certs = certifications_by_vc(vc_ids)
    awarded: dict[int, RankedApplication] = {}
    for row in pending:
        amount, trace = computed(applications[row.application_id], ruleset, today, certs)
        refused = tuple(refusals(trace, amount))
        commitment = None if refused else commitment_of(row, amount)
        awarded[row.application_id] = replace(
            row,
            award_amount=sum(commitment.by_year.values()) if commitment else amount,
            refusals=refused,
            commitment=commitment,
        )
    return [awarded.get(row.application_id, row) for row in rows]


def commitment_of(row: RankedApplication, amount: int) -> Commitment:
    """What awarding `amount` to the application commits per fiscal year."""
    dues = [due for due, _tranche in row.planned]
    tranches = reduced_tranches([tranche for _due, tranche in row.planned], amount)
    return Commitment(row.application_id, by_fiscal_year(dues, tranches))


def _distribution(
    latest: RankedApplication,
    rubric: Rubric,
    scored: Sequence[_Scored],
    version_of: Mapping[int, int | None],
) -> Distribution:
    """The written scores given under the latest rubric version, per criterion and value."""
    stage = rubric.written
    values = range(stage.low, stage.high + 1)
    counts: dict[str, dict[int, int]] = {c.id: dict.fromkeys(values, 0) for c in stage.criteria}
    sheets = set()
    for item in scored:
        if (
            item.stage != StageName.written
            or version_of.get(item.application_id) != latest.ruleset_id
        ):
            continue
        if item.score in counts.get(item.criterion_id, {}):
            counts[item.criterion_id][item.score] += 1
            sheets.add((item.application_id, item.reviewer_id))
    return Distribution(stage, latest.ruleset_version, counts, len(sheets))


# --- decisions against the ranking ------------------------------------------------------------


def award_departure(application: Application, today: date) -> Departure | None:
    """How awarding the application today departs from its programme's ranking; None when
    it is not under merit review (its rule set has no rubric)."""
    if application.ruleset is None or rubric_of(application.ruleset.document) is None:
        return None
    found = ranking_of(application.program_id, today)
    row = found.row(application.id)
    return departure(application.id, found.undecided, found.line or 0, row.rank if row else None)


# --- what-if --------------------------------------------------------------------------------


@dataclass(frozen=True)
class WhatIf:
    """The pools if the line fell after `line` undecided applications, at these amounts."""

    line: int
    natural_line: int  # where the line falls at these amounts
    amounts: Mapping[int, int]  # the amounts tried, by application id
    pools: tuple[PoolOutlook, ...]

    @property
    def over(self) -> bool:
        return any(pool.over for pool in self.pools)


def what_if(found: Ranking, line: int | None, amounts: Mapping[int, int]) -> WhatIf:
    """The ranking's pools with another line or other award amounts; writes nothing.

    RuleViolation (fields `line`, `amounts.<application id>`) for a line outside the list,
    or an amount for an application that is not undecided or above what its award gives."""
    if found.line is None:
        raise RuleViolation(N_("No published rule set of this programme is in force today."))
    errors: dict[str, list[Problem]] = {}
    if line is not None and not 0 <= line <= len(found.undecided):
        errors["line"] = [
            N_("Give a number from 0 to %(n)d.", n=len(found.undecided)),
        ]
    commitments = []
    for application_id in found.undecided:
        row = found.row(application_id)
        assert row is not None and row.commitment is not None and row.award_amount is not None
        amount = amounts.get(application_id)
        if amount is None:
            commitments.append(row.commitment)
        elif not 1 <= amount <= row.award_amount:
            errors[f"amounts.{application_id}"] = [
                N_(
                    "Give an amount from 1 to %(most)s yen, what the award rules give.",
                    most=Amount(row.award_amount),
                )
            ]
        else:
            commitments.append(commitment_of(row, amount))
    unknown = set(amounts) - set(found.undecided)
    for application_id in sorted(unknown):
        errors[f"amounts.{application_id}"] = [
            N_("Only an undecided application above or below the line takes an amount.")
        ]
    if errors:
        raise RuleViolation(N_("The what-if could not be computed."), errors)
    natural = funding_line(commitments, found.available)
    chosen = natural if line is None else line
    pools = pools_outlook(commitments[:chosen], found.available)
    return WhatIf(chosen, natural, dict(amounts), tuple(pools))
