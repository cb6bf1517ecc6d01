"""Reading rule sets: the versions a reader sees, and what an officer may do with one now."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from grants.core.actors import Actor
from grants.core.errors import NotFound
from grants.core.permissions import Action, Subject, decide
from grants.core.problems import N_
from grants.extensions import db
from grants.rulesets.models import RuleSet, RuleSetStatus


@dataclass(frozen=True)
class RuleSetActions:
    """What the officer may do with a rule set now (a page reads them as `may.edit`)."""

    edit: bool  # its rules and settings, or delete it
    publish: bool
    run_what_if: bool
    # The version published since a copied draft's own: publishing the draft would undo it.
    superseded_by: RuleSet | None


def ruleset_actions(actor: Actor, ruleset: RuleSet) -> RuleSetActions:
    """Only a draft changes; the permission table says who edits, publishes, runs a what-if."""
    draft = ruleset.status == RuleSetStatus.draft
    role = Subject(role=actor.role)
    return RuleSetActions(
        edit=draft and decide(Action.edit_ruleset, role).allowed,
        publish=draft and decide(Action.publish_ruleset, role).allowed,
        run_what_if=draft and decide(Action.run_what_if, role).allowed,
        superseded_by=superseding(ruleset, latest_published(ruleset.program_id)) if draft else None,
    )


def superseding(draft: RuleSet, latest: RuleSet | None) -> RuleSet | None:
    """`latest` when it was published after the version `draft` was copied from."""
    if draft.based_on is None or latest is None or draft.based_on_id == latest.id:
        return None
    return latest


def latest_published(program_id: int) -> RuleSet | None:
    """The programme's published version with the highest number."""
    query = (
        select(RuleSet)
        .where(RuleSet.program_id == program_id, RuleSet.status == RuleSetStatus.published)
        .order_by(RuleSet.version.desc())
        .limit(1)
    )
    return db.session.scalar(query)


def visible_rulesets(actor: Actor, program_id: int) -> list[RuleSet]:
    """The programme's versions; its drafts too for those who edit rules."""
    query = select(RuleSet).where(RuleSet.program_id == program_id)
    if not _sees_drafts(actor):
        query = query.where(RuleSet.status == RuleSetStatus.published)
    return list(db.session.scalars(query.order_by(RuleSet.id)))


def visible_ruleset(actor: Actor, ruleset_id: int) -> RuleSet:
    """The version, or a draft for those who edit rules; NotFound otherwise."""
    ruleset = db.session.get(RuleSet, ruleset_id)
    if ruleset is None or (ruleset.status != RuleSetStatus.published and not _sees_drafts(actor)):
        raise NotFound(N_("Not found."))
    return ruleset


def _sees_drafts(actor: Actor) -> bool:
    return decide(Action.edit_ruleset, Subject(role=actor.role)).allowed
