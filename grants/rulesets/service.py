"""Rule set versions: drafts, rule edits, publishing, the version in force."""

from __future__ import annotations

import copy
from datetime import date
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, event, func, select

from grants.core import audit
from grants.core.actors import Actor
from grants.core.calendar import Day
from grants.core.db import use_case
from grants.core.errors import Conflict, NotFound, RuleViolation
from grants.core.i18n import translate
from grants.core.models import utcnow
from grants.core.permissions import Action, Subject, require
from grants.core.problems import N_
from grants.extensions import db
from grants.programs.models import Program
from grants.rules import CompiledRuleSet, RuleSetInvalid, compile_ruleset, validate_ruleset
from grants.rules.presets import amed_certified_vc, milestone_programme
from grants.rules.schema import duplicate_id
from grants.rulesets.models import RuleSet, RuleSetStatus
from grants.rulesets.queries import latest_published, superseding

TITLE_MAX = 200
PRESETS = {"amed_certified_vc": amed_certified_vc, "milestone_programme": milestone_programme}


def preset_document(name: str) -> dict[str, Any]:
    if name not in PRESETS:
        raise RuleViolation(N_("Unknown preset."), {"preset": [N_("Choose a preset.")]})
    return PRESETS[name]()


@use_case
def create_draft(
    actor: Actor,
    program_id: int,
    title: str,
    document: dict[str, Any],
    based_on_id: int | None = None,
) -> RuleSet:
    """A new editable draft; `document` is validated (RuleSetInvalid names the fields)."""
    require(Action.edit_ruleset, Subject(role=actor.role))
    if db.session.get(Program, program_id) is None:
        raise NotFound(N_("Not found."))
    title = _checked_title(title)
    ruleset = RuleSet(
        program_id=program_id,
        title=title,
        status=RuleSetStatus.draft,
        document=validate_ruleset(document),
        created_by_id=actor.id,
        based_on_id=based_on_id,
    )
    db.session.add(ruleset)
    after = {"title": ruleset.title, "based_on_id": based_on_id}
    audit.record(actor, "ruleset.create_draft", ruleset, after=after)
    db.session.commit()
    return ruleset


def copy_to_draft(actor: Actor, ruleset_id: int, locale: str) -> RuleSet:
    """A draft with the same rules, based on the published version the source is (or the
    source draft was based on), so that publishing it can tell whether it is still current.
    Its title says what it was copied from, in `locale`."""
    require(Action.edit_ruleset, Subject(role=actor.role))
    source = get(ruleset_id)
    title = translate(N_("Draft based on %(title)s", title=source.title), locale)[:TITLE_MAX]
    base = source.id if source.status == RuleSetStatus.published else source.based_on_id
    return create_draft(actor, source.program_id, title, copy.deepcopy(source.document), base)


@use_case
def replace_document(actor: Actor, ruleset_id: int, document: dict[str, Any]) -> RuleSet:
    """Replace a draft's whole document (JSON import or settings edit)."""
    require(Action.edit_ruleset, Subject(role=actor.role))
    ruleset = _draft(ruleset_id)
    normalised = validate_ruleset(document)
    before = {"rules": [r["id"] for r in ruleset.document["rules"]]}
    ruleset.document = normalised
    ruleset.updated_at = utcnow()
    after = {"rules": [r["id"] for r in normalised["rules"]]}
    audit.record(actor, "ruleset.replace_document", ruleset, before, after)
    db.session.commit()
    return ruleset


@use_case
def save_rule(actor: Actor, ruleset_id: int, rule: dict[str, Any], old_id: str | None) -> RuleSet:
    """Add a rule (old_id None) or replace the rule `old_id` of a draft, in place."""
    require(Action.edit_ruleset, Subject(role=actor.role))
    ruleset = _draft(ruleset_id)
    rules = list(ruleset.document["rules"])
    if old_id is None:
        index = len(rules)
        rules.append(rule)
    else:
        index = _rule_index(rules, old_id)
        rules[index] = rule
    _refuse_duplicate_id(rules, index)
    normalised = validate_ruleset({**ruleset.document, "rules": rules})
    before = None if old_id is None else ruleset.document["rules"][index]
    ruleset.document = normalised
    ruleset.updated_at = utcnow()
    audit.record(actor, "ruleset.save_rule", ruleset, before, normalised["rules"][index])
    db.session.commit()
    return ruleset


@use_case
def delete_rule(actor: Actor, ruleset_id: int, rule_id: str) -> RuleSet:
    require(Action.edit_ruleset, Subject(role=actor.role))
    ruleset = _draft(ruleset_id)
    rules = list(ruleset.document["rules"])
    removed = rules.pop(_rule_index(rules, rule_id))
    ruleset.document = validate_ruleset({**ruleset.document, "rules": rules})
    ruleset.updated_at = utcnow()
    audit.record(actor, "ruleset.delete_rule", ruleset, before=removed)
    db.session.commit()
    return ruleset


@use_case
def delete_draft(actor: Actor, ruleset_id: int) -> None:
    require(Action.edit_ruleset, Subject(role=actor.role))
    ruleset = _draft(ruleset_id)
    audit.record(actor, "ruleset.delete_draft", ruleset, before={"title": ruleset.title})
    db.session.delete(ruleset)
    db.session.commit()


@use_case
def publish(
    actor: Actor, ruleset_id: int, effective_from: date, today: date, title: str | None = None
) -> RuleSet:
    """Freeze a draft as the programme's next version, in force from `effective_from`.

    A draft copied from a version that is no longer the latest would silently undo the
    later version's changes, so it is refused; and each version takes effect after the
    previous one, so that none is shadowed on its own first day."""
    require(Action.publish_ruleset, Subject(role=actor.role))
    ruleset = _draft(ruleset_id)
    _lock_program(ruleset.program_id)
    latest = latest_published(ruleset.program_id)
    _check_base(ruleset, latest)
    _check_effective_date(effective_from, today, latest)
    version = _next_version(ruleset.program_id)
    ruleset.title = _checked_title(title) if title else published_title(ruleset, version)
    ruleset.version = version
    ruleset.status = RuleSetStatus.published
    ruleset.effective_from = effective_from
    ruleset.published_by_id = actor.id
    ruleset.published_at = utcnow()
    after = {
        "version": ruleset.version,
        "effective_from": effective_from.isoformat(),
        "title": ruleset.title,
    }
    audit.record(actor, "ruleset.publish", ruleset, {"status": "draft"}, after)
    db.session.commit()
    return ruleset


def suggested_title(draft: RuleSet) -> str:
    """The title `draft` would be published under as the programme's next version."""
    return published_title(draft, _next_version(draft.program_id))


def published_title(draft: RuleSet, version: int) -> str:
    """The title a draft keeps once published: a copy's title only said what it was copied
    from ("Draft based on ..."), so it becomes "CODE vN"; a title someone chose is kept."""
    if draft.based_on_id is None:
        return draft.title
    return f"{draft.program.code} v{version}"


def _check_base(draft: RuleSet, latest: RuleSet | None) -> None:
    later = superseding(draft, latest)
    if later is None or draft.based_on is None:
        return
    message = N_(
        "This draft was copied from version %(base)d, but version %(latest)d has been "
        "published since: publishing it would undo version %(latest)d's changes. Copy "
        "version %(latest)d to a new draft and make the changes there.",
        base=draft.based_on.version,
        latest=later.version,
    )
    raise Conflict(message, {"based_on": [message]})


def _check_effective_date(effective_from: date, today: date, latest: RuleSet | None) -> None:
    """Not before today, and after the latest version's date when that is today or later
    (on its own date a later version would shadow it)."""
    previous = latest.effective_from if latest is not None else None
    if latest is not None and previous is not None and today <= previous >= effective_from:
        message = N_(
            "The effective date must be after %(day)s, the effective date of version %(version)d.",
            day=Day(previous),
            version=latest.version,
        )
    elif effective_from < today:
        message = N_("The effective date cannot be before %(day)s.", day=Day(today))
    else:
        return
    raise RuleViolation(message, {"effective_from": [message]})


def in_force(program_id: int, on: date) -> RuleSet | None:
    """The published version in force on `on`: latest effective date, then highest version."""
    query = (
        select(RuleSet)
        .where(
            RuleSet.program_id == program_id,
            RuleSet.status == RuleSetStatus.published,
            RuleSet.effective_from <= on,
        )
        .order_by(RuleSet.effective_from.desc(), RuleSet.version.desc())
        .limit(1)
    )
    return db.session.scalar(query)


def compiled(ruleset: RuleSet) -> CompiledRuleSet:
    """The compiled rules; published versions never change, so they are compiled once."""
    if ruleset.status == RuleSetStatus.published and ruleset.published_at is not None:
        return _compiled_published(ruleset.id, ruleset.published_at.isoformat())
    return compile_ruleset(ruleset.document)


@lru_cache(maxsize=256)
def _compiled_published(ruleset_id: int, published_at: str) -> CompiledRuleSet:
    """Keyed by publication time too, so a reused id (another database) is never confused."""
    return compile_ruleset(get(ruleset_id).document)


def get(ruleset_id: int) -> RuleSet:
    ruleset = db.session.get(RuleSet, ruleset_id)
    if ruleset is None:
        raise NotFound(N_("Not found."))
    return ruleset


def editable(ruleset_id: int) -> RuleSet:
    """The draft an editing page shows (NotFound; Conflict for a published version, before
    any form is read). The use cases re-read it locked (_draft)."""
    return _refuse_published(get(ruleset_id))


def _draft(ruleset_id: int) -> RuleSet:
    """The draft, row-locked and re-read: a concurrent publish cannot slip in between."""
    query = (
        select(RuleSet)
        .where(RuleSet.id == ruleset_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    ruleset = db.session.scalar(query)
    if ruleset is None:
        raise NotFound(N_("Not found."))
    return _refuse_published(ruleset)


def _refuse_published(ruleset: RuleSet) -> RuleSet:
    if ruleset.status != RuleSetStatus.draft:
        raise Conflict(N_("A published rule set can never be changed. Copy it to a new draft."))
    return ruleset


def _checked_title(title: str) -> str:
    title = title.strip()
    if not title:
        raise RuleViolation(N_("A title is required."), {"title": [N_("A title is required.")]})
    if len(title) > TITLE_MAX:
        message = N_("At most %(count)d characters.", count=TITLE_MAX)
        raise RuleViolation(message, {"title": [message]})
    return title


def _rule_index(rules: list[dict[str, Any]], rule_id: str) -> int:
    for index, rule in enumerate(rules):
        if rule.get("id") == rule_id:
            return index
    raise NotFound(N_("Not found."))


def _refuse_duplicate_id(rules: list[Any], index: int) -> None:
    """Name the edited rule (the schema would name the later of the two) when its id is taken."""
    rule_id = rules[index].get("id") if isinstance(rules[index], dict) else None
    others = {
        rule.get("id") for i, rule in enumerate(rules) if i != index and isinstance(rule, dict)
    }
    if rule_id in others:
        message = duplicate_id(rule_id)  # a Problem, as the schema's own: the edge translates
        raise RuleSetInvalid(
            N_("The rule set is invalid."), {"rules": {str(index): {"id": [message]}}}
        )


def _lock_program(program_id: int) -> None:
    """Serialise publishing per programme (row lock on PostgreSQL; SQLite locks on BEGIN)."""
    db.session.execute(select(Program.id).where(Program.id == program_id).with_for_update())


def _next_version(program_id: int) -> int:
    current = db.session.scalar(
        select(func.max(RuleSet.version)).where(RuleSet.program_id == program_id)
    )
    return (current or 0) + 1


def _stored_status(connection: Connection, target: RuleSet) -> RuleSetStatus | None:
    """The status in the database, not in memory: the object may be expired or stale."""
    return connection.scalar(select(RuleSet.status).where(RuleSet.id == target.id))


@event.listens_for(RuleSet, "before_update")
def _published_is_frozen(_mapper: Any, connection: Connection, target: RuleSet) -> None:
    """Last line of defence: no ORM code path may change a published version."""
    if _stored_status(connection, target) == RuleSetStatus.published:
        raise Conflict("A published rule set can never be changed.")


@event.listens_for(RuleSet, "before_delete")
def _published_is_kept(_mapper: Any, connection: Connection, target: RuleSet) -> None:
    if _stored_status(connection, target) == RuleSetStatus.published:
        raise Conflict("A published rule set can never be deleted.")
