"""What-if: a draft rule set against every open application and active grant of its programme.

Applications are compared on eligibility (the version in force on their submission date,
or today for drafts, against the draft). Active grants are compared on the tranche gates of
their next open milestone (their pinned version against the draft), so an officer sees
which releases a change would block before publishing it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from grants.applications.facts import application_facts, certifications_by_vc
from grants.applications.models import Application, CoInvestment
from grants.awards.facts import tranche_facts
from grants.awards.models import Grant, Milestone
from grants.core.actors import Actor, SystemActor
from grants.core.errors import NotFound
from grants.core.permissions import Action, Subject, require
from grants.core.problems import N_
from grants.core.progress import Progress
from grants.core.states import ApplicationState, GrantState, MilestoneState
from grants.extensions import db
from grants.programs.models import Program
from grants.rules import (
    Change,
    CompiledRuleSet,
    Phase,
    Trace,
    compare_traces,
    compile_ruleset,
    evaluate,
)
from grants.rules.settlement import settlement_rules
from grants.rulesets import service as rulesets
from grants.rulesets.models import RuleSet
from grants.settlement.queries import pending_reports, settle_report

# Applications still to be decided; awarded ones are represented by their grants.
OPEN_APPLICATION_STATES = (
    ApplicationState.draft,
    ApplicationState.submitted,
    ApplicationState.screened_eligible,
    ApplicationState.screened_ineligible,
    ApplicationState.under_review,
)
OPEN_MILESTONE_STATES = (
    MilestoneState.planned,
    MilestoneState.submitted,
    MilestoneState.changes_requested,
    MilestoneState.approved,
)


@dataclass(frozen=True)
class WhatIfRow:
    kind: str  # "application" or "grant"
    subject_id: int
    title: str
    organization: str
    state: str
    before: Trace | None
    after: Trace
    change: Change


@dataclass(frozen=True)
class SettlementRow:
    """A results report not settled yet: its final amount by the grant's pinned rules and by
    the draft's settlement section (subsidy rate, indirect caps, categories)."""

    report_id: int
    title: str  # the grant number and the period
    organization: str
    before: int
    after: int

    @property
    def changed(self) -> bool:
        return self.before != self.after


@dataclass(frozen=True)
class WhatIfResult:
    """What a what-if page shows: every row and the version in force they were compared
    with. JSON round-trippable, so that a background task can keep it."""

    in_force_version: int | None
    rows: list[WhatIfRow]
    settlements: list[SettlementRow] = field(default_factory=list)

    @property
    def summary(self) -> dict[Change, int]:
        counts = dict.fromkeys(Change, 0)
        for row in self.rows:
            counts[row.change] += 1
        return counts

    @property
    def changed(self) -> list[WhatIfRow]:
        return [row for row in self.rows if row.change is not Change.UNCHANGED]

    def to_dict(self) -> dict[str, Any]:
        return {
            "in_force_version": self.in_force_version,
            "summary": {str(change): count for change, count in self.summary.items()},
            "rows": [_row_dict(row) for row in self.rows],
            "settlements": [asdict(row) for row in self.settlements],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WhatIfResult:
        settlements = [SettlementRow(**row) for row in data.get("settlements", [])]
        rows = [_row_from_dict(row) for row in data["rows"]]
        return cls(data["in_force_version"], rows, settlements)


@dataclass(frozen=True)
class WhatIfReport:
    program: Program
    in_force: RuleSet | None
    rows: list[WhatIfRow]
    settlements: list[SettlementRow] = field(default_factory=list)

    @property
    def result(self) -> WhatIfResult:
        version = self.in_force.version if self.in_force else None
        return WhatIfResult(version, self.rows, self.settlements)

    @property
    def summary(self) -> dict[Change, int]:
        return self.result.summary

    @property
    def changed(self) -> list[WhatIfRow]:
        return self.result.changed


def what_if_ruleset(
    actor: Actor, ruleset_id: int, today: date, progress: Progress | None = None
) -> WhatIfReport:
    """The what-if of a stored draft (any stored version works; drafts are the point).

    `progress` hears (evaluated, total) after each application and grant."""
    _require(actor)
    ruleset = rulesets.get(ruleset_id)
    return _report(ruleset.program, rulesets.compiled(ruleset), today, progress)


def subject_count(actor: Actor, ruleset_id: int) -> int:
    """How many applications and grants the what-if of this rule set evaluates."""
    _require(actor)
    program_id = rulesets.get(ruleset_id).program_id
    applications = select(func.count(Application.id)).where(*_open_application(program_id))
    grants = select(func.count(Grant.id)).where(*_active_grant(program_id))
    return (db.session.scalar(applications) or 0) + (db.session.scalar(grants) or 0)


def _open_application(program_id: int) -> tuple[Any, ...]:
    return Application.program_id == program_id, Application.state.in_(OPEN_APPLICATION_STATES)


def _active_grant(program_id: int) -> tuple[Any, ...]:
    return Grant.program_id == program_id, Grant.state == GrantState.active


def what_if_document(
    actor: Actor, program_code: str, document: dict[str, Any], today: date
) -> WhatIfReport:
    """The what-if of a draft document not stored yet (command line); RuleSetInvalid if bad."""
    _require(actor)
    program = db.session.scalar(select(Program).where(Program.code == program_code.upper()))
    if program is None:
        raise NotFound(N_("No programme has the code %(code)s.", code=program_code))
    return _report(program, compile_ruleset(document), today)


def _require(actor: Actor) -> None:
    # The command line runs it as the system: read-only, so no officer account is needed.
    if not isinstance(actor, SystemActor):
        require(Action.run_what_if, Subject(role=actor.role))


def _report(
    program: Program, draft: CompiledRuleSet, today: date, progress: Progress | None = None
) -> WhatIfReport:
    current = rulesets.in_force(program.id, today)
    applications = _open_applications(program.id)
    grants = _active_grants(program.id)
    tick = _counter(progress, len(applications) + len(grants))
    rows = [
        *_application_rows(program.id, applications, draft, today, tick),
        *_grant_rows(grants, draft, today, tick),
    ]
    return WhatIfReport(program, current, rows, _settlement_rows(program.id, draft))


def _settlement_rows(program_id: int, draft: CompiledRuleSet) -> list[SettlementRow]:
    """The programme's reports waiting for inspection or confirmation, settled both ways."""
    rules = settlement_rules(draft.document)
    rows = []
    for report, period in pending_reports(program_id):
        before = settle_report(report, period).final_amount
        rows.append(
            SettlementRow(
                report.id,
                f"{report.grant.number} · {report.period}",
                report.grant.organization.name,
                before,
                settle_report(report, period, rules).final_amount,
            )
        )
    return rows


def _counter(progress: Progress | None, total: int) -> Callable[[], None]:
    """A function to call once per subject evaluated; tells `progress` the count so far."""
    done = 0
    if progress is not None:
        progress(done, total)

    def tick() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, total)

    return tick


def _open_applications(program_id: int) -> list[Application]:
    return list(
        db.session.scalars(
            select(Application)
            .where(*_open_application(program_id))
            .options(
                selectinload(Application.organization),
                selectinload(Application.ruleset),
                selectinload(Application.plan),
                selectinload(Application.co_investments).selectinload(CoInvestment.vc),
            )
            .order_by(Application.id)
        )
    )


def _active_grants(program_id: int) -> list[Grant]:
    return list(
        db.session.scalars(
            select(Grant)
            .where(*_active_grant(program_id))
            .options(
                selectinload(Grant.organization),
                selectinload(Grant.ruleset),
                selectinload(Grant.milestones),
            )
            .order_by(Grant.id)
        )
    )


def _application_rows(
    program_id: int,
    applications: list[Application],
    draft: CompiledRuleSet,
    today: date,
    tick: Callable[[], None],
) -> list[WhatIfRow]:
    certs = certifications_by_vc(
        ci.vc_organization_id for app in applications for ci in app.co_investments
    )
    versions = _VersionCache(program_id)
    rows = []
    for application in applications:
        on = application.submitted_on or today
        facts = application_facts(application, on, certs)
        current = versions.for_application(application, on)
        before = evaluate(current, Phase.ELIGIBILITY, facts) if current else None
        after = evaluate(draft, Phase.ELIGIBILITY, facts)
        rows.append(
            WhatIfRow(
                "application",
                application.id,
                application.title,
                application.organization.name,
                str(application.state),
                before,
                after,
                compare_traces(before, after),
            )
        )
        tick()
    return rows


def _grant_rows(
    grants: list[Grant], draft: CompiledRuleSet, today: date, tick: Callable[[], None]
) -> list[WhatIfRow]:
    rows = []
    for grant in grants:
        milestone = _next_open(grant.milestones)
        if milestone is not None:
            facts = tranche_facts(milestone, today)
            before = evaluate(rulesets.compiled(grant.ruleset), Phase.TRANCHE_GATES, facts)
            after = evaluate(draft, Phase.TRANCHE_GATES, facts)
            rows.append(
                WhatIfRow(
                    "grant",
                    grant.id,
                    f"{grant.number} · {milestone.title}",
                    grant.organization.name,
                    str(grant.state),
                    before,
                    after,
                    compare_traces(before, after),
                )
            )
        tick()
    return rows


def _row_dict(row: WhatIfRow) -> dict[str, Any]:
    return {
        "kind": row.kind,
        "subject_id": row.subject_id,
        "title": row.title,
        "organization": row.organization,
        "state": row.state,
        "change": str(row.change),
        "before": row.before.to_dict() if row.before else None,
        "after": row.after.to_dict(),
    }


def _row_from_dict(data: Mapping[str, Any]) -> WhatIfRow:
    before = data["before"]
    return WhatIfRow(
        data["kind"],
        data["subject_id"],
        data["title"],
        data["organization"],
        data["state"],
        None if before is None else Trace.from_dict(before),
        Trace.from_dict(data["after"]),
        Change(data["change"]),
    )


def _next_open(milestones: Iterable[Milestone]) -> Milestone | None:
    return next((m for m in milestones if m.state in OPEN_MILESTONE_STATES), None)


class _VersionCache:
    """The compiled version in force per date, looked up once per distinct date."""

    def __init__(self, program_id: int) -> None:
        self.program_id = program_id
        self._by_date: dict[date, CompiledRuleSet | None] = {}

    def for_application(self, application: Application, on: date) -> CompiledRuleSet | None:
        if application.ruleset is not None:
            return rulesets.compiled(application.ruleset)
        if on not in self._by_date:
            version = rulesets.in_force(self.program_id, on)
            self._by_date[on] = rulesets.compiled(version) if version else None
        return self._by_date[on]
