"""Milestones put into the approved state straight through the models, for release tests.

`approve` adds a submission round and one approving review per assigned reviewer, so
that the review-quorum gate sees real approvals; `invest` adds a verified investment.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from grants.accounts.models import User
from grants.applications.models import Application, CoInvestment
from grants.awards.models import (
    EvidenceSubmission,
    Grant,
    Investment,
    Milestone,
    Review,
    ReviewerAssignment,
)
from grants.core.calendar import fiscal_year
from grants.core.identity import Role
from grants.core.models import utcnow
from grants.core.states import ApplicationState, GrantState, MilestoneState, ReviewDecision
from grants.extensions import db
from grants.programs.models import BudgetPool
from grants.rules import validate_ruleset
from grants.rules.presets import milestone_programme
from grants.rulesets.models import RuleSet, RuleSetStatus
from tests.support.factories import make_user
from tests.support.grants import CRITERIA, GrantWorld


def approve(world: GrantWorld, *milestones: Milestone, approvals: int | None = None) -> None:
    """Approve each milestone with `approvals` approving reviews (default: every reviewer)."""
    reviewers = world.reviewers[: len(world.reviewers) if approvals is None else approvals]
    for milestone in milestones:
        milestone.round += 1
        submission = EvidenceSubmission(
            milestone_id=milestone.id,
            round=milestone.round,
            narrative="Results attached.",
            measured=[{"metric": "IC50", "target": "<= 10", "unit": "nM", "value": "8"}],
        )
        db.session.add(submission)
        db.session.flush()
        db.session.add_all(
            Review(
                milestone_id=milestone.id,
                submission_id=submission.id,
                reviewer_id=reviewer.id,
                decision=ReviewDecision.approve,
                comment="Criteria met.",
            )
            for reviewer in reviewers
        )
        milestone.state = MilestoneState.approved
        milestone.decided_at = utcnow()
    db.session.commit()


def officer(world: GrantWorld | None = None) -> User:
    user = make_user(Role.officer)
    if world is not None and world.officer is None:
        world.officer = user
    return user


def invest(world: GrantWorld, amount: int, paid_on: date = date(2026, 6, 1)) -> Investment:
    """A verified paid-in investment by the grant's lead VC."""
    recorder, verifier = make_user(Role.officer), make_user(Role.officer)
    investment = Investment(
        grant_id=world.grant.id,
        vc_organization_id=world.vc.id,
        amount=amount,
        paid_on=paid_on,
        evidence="振込 0001",
        recorded_by_id=recorder.id,
        verified_by_id=verifier.id,
        verified_at=utcnow(),
    )
    db.session.add(investment)
    db.session.commit()
    return investment


def sibling_grant(
    world: GrantWorld,
    number: str,
    tranches: tuple[int, ...] = (100_000_000,),
    due: tuple[date, ...] | None = None,
    commit: bool = True,
) -> GrantWorld:
    """Another active grant in the same programme, rule set, grantee, VC and reviewers.

    Its milestones are committed in the programme's pools (created when missing).
    """
    dues = due or tuple(date(2026, 9, 30) for _ in tranches)
    application = Application(
        program_id=world.program.id,
        organization_id=world.grantee.id,
        title=f"Project {number}",
        theme="amr",
        modality="drug",
        stage="non_clinical",
        eligible_cost=sum(tranches) * 3 // 2,
        indirect_cost=0,
        requested_subsidy=sum(tranches),
        project_start=date(2026, 4, 1),
        project_end=date(2029, 3, 31),
        state=ApplicationState.awarded,
        submitted_on=date(2026, 5, 1),
        ruleset_id=world.grant.ruleset_id,
    )
    db.session.add(application)
    db.session.add(
        CoInvestment(
            application=application,
            vc_organization_id=world.vc.id,
            committed_amount=sum(tranches),
            is_lead=True,
        )
    )
    grant = Grant(
        number=number,
        application=application,
        program_id=world.program.id,
        organization_id=world.grantee.id,
        ruleset_id=world.grant.ruleset_id,
        award_amount=sum(tranches),
        state=GrantState.active,
    )
    db.session.add(grant)
    milestones = [
        Milestone(
            grant=grant,
            sequence=index,
            title=f"{number} milestone {index}",
            criteria=CRITERIA,
            due_date=day,
            tranche_amount=amount,
            fiscal_year=fiscal_year(day),
            state=MilestoneState.planned,
            round=0,
        )
        for index, (amount, day) in enumerate(zip(tranches, dues, strict=True), start=1)
    ]
    db.session.add_all(milestones)
    db.session.flush()
    db.session.add_all(
        ReviewerAssignment(grant_id=grant.id, reviewer_id=r.id) for r in world.reviewers
    )
    for milestone in milestones:
        _commit_to_pool(world, milestone)
    if commit:
        db.session.commit()
    return replace(world, grant=grant, milestones=milestones)


def _commit_to_pool(world: GrantWorld, milestone: Milestone) -> None:
    pool = (
        db.session.query(BudgetPool)
        .filter_by(program_id=world.program.id, fiscal_year=milestone.fiscal_year)
        .one_or_none()
    )
    if pool is None:
        pool = BudgetPool(
            program_id=world.program.id,
            fiscal_year=milestone.fiscal_year,
            appropriation=10_000_000_000,
            committed=0,
            released=0,
        )
        db.session.add(pool)
    pool.committed += milestone.tranche_amount


def without_budget_gate(world: GrantWorld) -> None:
    """Pin the grant to a version without the within_budget_pool gate (the hard check remains)."""
    document = milestone_programme()
    document["rules"] = [r for r in document["rules"] if r["id"] != "budget_pool"]
    pin_version(world, document, "v2 without pool gate")


def pin_version(world: GrantWorld, document: dict[str, Any], title: str) -> None:
    """Pin the grant to a second published version of its programme with this document."""
    ruleset = RuleSet(
        program_id=world.program.id,
        title=title,
        status=RuleSetStatus.published,
        version=2,
        effective_from=date(2026, 4, 1),
        document=validate_ruleset(document),
        published_at=utcnow(),
    )
    db.session.add(ruleset)
    db.session.flush()
    world.grant.ruleset_id = ruleset.id
    db.session.commit()
    db.session.expire_all()
