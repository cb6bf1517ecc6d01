"""Rule set versions: drafts, rule edits, publishing, immutability, the version in force."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from grants.accounts.models import User
from grants.core.errors import Conflict, NotAllowed, NotFound, RuleViolation
from grants.core.identity import Role
from grants.core.models import AuditEvent
from grants.extensions import db
from grants.rules import RuleSetInvalid, validate_ruleset
from grants.rulesets import service as rulesets
from grants.rulesets.models import RuleSet, RuleSetStatus
from tests.support.factories import make_user
from tests.support.i18n import said
from tests.support.rulesets import (
    TODAY,
    make_draft,
    make_officer,
    make_program,
    min_amount_rule,
    publish_new,
    rule,
)


def _actions() -> list[str]:
    return [e.action for e in db.session.query(AuditEvent).order_by(AuditEvent.id)]


def _reloaded(ruleset_id: int) -> RuleSet:
    db.session.expire_all()
    return db.session.get(RuleSet, ruleset_id)


@pytest.mark.parametrize("preset", sorted(rulesets.PRESETS))
def test_a_draft_from_each_preset_validates(app: Flask, preset: str) -> None:
    officer, program = make_officer(), make_program()
    draft = make_draft(program, officer, preset)
    stored = _reloaded(draft.id)
    assert stored.status == RuleSetStatus.draft and stored.version is None
    assert stored.document == validate_ruleset(rulesets.preset_document(preset))
    assert stored.created_by_id == officer.id
    assert _actions()[-1] == "ruleset.create_draft"


def test_create_draft_refuses_bad_input_and_writes_nothing(app: Flask) -> None:
    officer, program = make_officer(), make_program()
    with pytest.raises(RuleViolation) as unknown:
        rulesets.preset_document("nope")
    assert "preset" in unknown.value.fields
    for title in ("  ", "x" * 201):
        with pytest.raises(RuleViolation) as bad_title:
            rulesets.create_draft(
                officer, program.id, title, rulesets.preset_document("amed_certified_vc")
            )
        assert list(bad_title.value.fields) == ["title"]
    document = rulesets.preset_document("amed_certified_vc")
    document["rules"][3]["params"]["ratio"] = "1/0"
    with pytest.raises(RuleSetInvalid) as invalid:
        rulesets.create_draft(officer, program.id, "x", document)
    assert invalid.value.fields == {
        "rules": {"3": {"params": {"ratio": ["Ratio '1/0' divides by zero."]}}}
    }
    with pytest.raises(NotFound):
        rulesets.create_draft(
            officer, program.id + 99, "x", rulesets.preset_document("amed_certified_vc")
        )
    db.session.rollback()
    assert db.session.query(RuleSet).count() == 0


def test_save_rule_adds_then_replaces_in_place(app: Flask) -> None:
    officer, program = make_officer(), make_program()
    draft = make_draft(program, officer)
    count = len(draft.document["rules"])
    rulesets.save_rule(officer, draft.id, min_amount_rule(), None)
    stored = _reloaded(draft.id).document
    assert len(stored["rules"]) == count + 1 and stored["rules"][-1]["id"] == "eligible_cost_min"
    assert stored["rules"][-1]["params"] == {"fact": "eligible_cost", "amount": 50_000_000}

    replacement = min_amount_rule("cost_floor", 70_000_000)
    rulesets.save_rule(officer, draft.id, replacement, "eligible_cost_min")
    stored = _reloaded(draft.id).document
    assert [r["id"] for r in stored["rules"]][-1] == "cost_floor"
    assert len(stored["rules"]) == count + 1
    assert rule(stored, "cost_floor")["params"]["amount"] == 70_000_000
    event = db.session.query(AuditEvent).order_by(AuditEvent.id.desc()).first()
    assert event.action == "ruleset.save_rule"
    assert event.before["id"] == "eligible_cost_min" and event.after["id"] == "cost_floor"


@pytest.mark.parametrize(
    ("old_id", "new_id"), [(None, "lead_vc_min"), ("stage_eligible", "unlisted")]
)
def test_a_duplicate_id_is_named_on_the_edited_rule(
    app: Flask, old_id: str | None, new_id: str
) -> None:
    officer, program = make_officer(), make_program()
    draft = make_draft(program, officer)
    ids = [r["id"] for r in draft.document["rules"]]
    # "unlisted" comes after "stage_eligible": the schema alone would name the other rule.
    index = str(len(ids) if old_id is None else ids.index(old_id))
    before = copy.deepcopy(draft.document)
    with pytest.raises(RuleSetInvalid) as error:
        rulesets.save_rule(officer, draft.id, min_amount_rule(new_id), old_id)
    assert error.value.fields == {"rules": {index: {"id": [f"Duplicate rule id '{new_id}'."]}}}
    db.session.rollback()
    assert _reloaded(draft.id).document == before


def test_save_rule_refuses_an_invalid_rule_and_an_unknown_one(app: Flask) -> None:
    officer, program = make_officer(), make_program()
    draft = make_draft(program, officer)
    before = copy.deepcopy(draft.document)
    bad = min_amount_rule(amount=-1)
    with pytest.raises(RuleSetInvalid) as error:
        rulesets.save_rule(officer, draft.id, bad, None)
    added = str(len(before["rules"]))
    assert error.value.fields == {
        "rules": {added: {"params": {"amount": ["Must be a whole number of yen, 0 or more."]}}}
    }
    with pytest.raises(NotFound):
        rulesets.save_rule(officer, draft.id, min_amount_rule(), "no_such_rule")
    db.session.rollback()
    assert _reloaded(draft.id).document == before


def test_delete_rule_and_delete_draft(app: Flask) -> None:
    officer, program = make_officer(), make_program()
    draft = make_draft(program, officer)
    count = len(draft.document["rules"])
    rulesets.delete_rule(officer, draft.id, "lead_vc_min")
    ids = [r["id"] for r in _reloaded(draft.id).document["rules"]]
    assert "lead_vc_min" not in ids and len(ids) == count - 1
    with pytest.raises(NotFound):
        rulesets.delete_rule(officer, draft.id, "lead_vc_min")
    rulesets.delete_draft(officer, draft.id)
    assert db.session.get(RuleSet, draft.id) is None
    assert _actions()[-2:] == ["ruleset.delete_rule", "ruleset.delete_draft"]


def test_copy_to_draft_keeps_the_document(app: Flask) -> None:
    officer, program = make_officer(), make_program()
    published = publish_new(program, officer, TODAY)
    copied = rulesets.copy_to_draft(officer, published.id, "ja")
    assert copied.status == RuleSetStatus.draft and copied.id != published.id
    assert copied.document == published.document and copied.program_id == program.id
    assert published.title in copied.title


def test_publish_assigns_versions_one_two(app: Flask) -> None:
    officer, program = make_officer(), make_program()
    first = publish_new(program, officer, TODAY)
    second = publish_new(program, officer, TODAY + timedelta(days=30))
    other = publish_new(make_program(), officer, TODAY)
    assert (first.version, second.version, other.version) == (1, 2, 1)
    stored = _reloaded(second.id)
    assert stored.status == RuleSetStatus.published
    assert stored.effective_from == TODAY + timedelta(days=30)
    assert stored.published_by_id == officer.id and stored.published_at is not None
    event = db.session.query(AuditEvent).filter_by(action="ruleset.publish").first()
    assert event.after == {"version": 1, "effective_from": TODAY.isoformat(), "title": "草案"}


@pytest.mark.parametrize(
    ("latest", "effective_from", "message"),
    [
        (None, TODAY - timedelta(days=1), "The effective date cannot be before 1 May 2026."),
        (
            TODAY,
            TODAY - timedelta(days=1),
            "The effective date must be after 1 May 2026, the effective date of version 1.",
        ),
        (
            TODAY,
            TODAY,  # on its own first day, version 2 would shadow version 1
            "The effective date must be after 1 May 2026, the effective date of version 1.",
        ),
        (
            date(2026, 7, 1),
            date(2026, 7, 1),
            "The effective date must be after 1 Jul 2026, the effective date of version 1.",
        ),
        (
            date(2026, 4, 1),  # in force already: only today is the floor
            date(2026, 4, 30),
            "The effective date cannot be before 1 May 2026.",
        ),
    ],
)
def test_publish_refuses_an_early_effective_date(
    app: Flask, latest: date | None, effective_from: date, message: str
) -> None:
    officer, program = make_officer(), make_program()
    if latest is not None:
        publish_new(program, officer, latest, today=min(latest, TODAY))
    draft = make_draft(program, officer)
    with pytest.raises(RuleViolation) as error:
        rulesets.publish(officer, draft.id, effective_from, TODAY)
    assert error.value.fields == {"effective_from": [message]}
    db.session.rollback()
    stored = _reloaded(draft.id)
    assert stored.status == RuleSetStatus.draft and stored.version is None


def test_the_effective_date_refusal_is_in_japanese_with_a_japanese_date(app: Flask) -> None:
    officer, program = make_officer(), make_program()
    publish_new(program, officer, date(2026, 12, 2))
    draft = make_draft(program, officer)
    with pytest.raises(RuleViolation) as error:
        rulesets.publish(officer, draft.id, date(2026, 12, 1), TODAY)
    assert said(error.value.message) == (
        "適用開始日は、バージョン1の適用開始日である2026年12月2日より後の日付にしてください。"
    )
    with pytest.raises(RuleViolation) as error:
        rulesets.publish(officer, draft.id, date(2026, 4, 30), date(2026, 12, 3))
    assert said(error.value.message) == "適用開始日は2026年12月3日より前の日付にはできません。"


def test_a_copy_remembers_the_published_version_it_started_from(app: Flask) -> None:
    officer, program = make_officer(), make_program()
    v1 = publish_new(program, officer, TODAY)
    copied = rulesets.copy_to_draft(officer, v1.id, "ja")
    copy_of_copy = rulesets.copy_to_draft(officer, copied.id, "ja")
    fresh = make_draft(program, officer)
    assert copied.based_on_id == v1.id and copy_of_copy.based_on_id == v1.id
    assert fresh.based_on_id is None
    event = db.session.query(AuditEvent).filter_by(action="ruleset.create_draft").all()[-2]
    assert event.after["based_on_id"] == v1.id


def test_a_draft_copied_from_a_superseded_version_is_refused(app: Flask) -> None:
    officer, program = make_officer(), make_program()
    v1 = publish_new(program, officer, TODAY)
    first = rulesets.copy_to_draft(officer, v1.id, "ja")
    second = rulesets.copy_to_draft(officer, v1.id, "ja")
    v2 = rulesets.publish(officer, first.id, TODAY + timedelta(days=30), TODAY)
    assert v2.version == 2
    events = len(_actions())
    with pytest.raises(Conflict) as caught:
        rulesets.publish(officer, second.id, TODAY + timedelta(days=60), TODAY)
    assert said(caught.value.message) == (
        "この下書きはバージョン1からコピーしたものですが、その後バージョン2が公開されています。"
        "公開するとバージョン2での変更が失われます。"
        "バージョン2を新しい下書きにコピーして、そこで変更してください。"
    )
    assert caught.value.fields == {"based_on": [caught.value.message]}
    db.session.rollback()
    stored = _reloaded(second.id)
    assert stored.status == RuleSetStatus.draft and stored.version is None
    assert len(_actions()) == events
    again = rulesets.copy_to_draft(officer, v2.id, "ja")  # the way out: copy the latest
    assert rulesets.publish(officer, again.id, TODAY + timedelta(days=60), TODAY).version == 3


def test_a_published_copy_is_named_after_its_version_unless_titled(app: Flask) -> None:
    officer, program = make_officer(), make_program(code="MS-DARPA-1")
    v1 = publish_new(program, officer, TODAY)
    copied = rulesets.copy_to_draft(officer, v1.id, "ja")
    assert copied.title == "草案をもとにした下書き"
    assert rulesets.suggested_title(copied) == "MS-DARPA-1 v2"
    v2 = rulesets.publish(officer, copied.id, TODAY + timedelta(days=1), TODAY)
    assert v2.title == "MS-DARPA-1 v2"
    titled = rulesets.copy_to_draft(officer, v2.id, "ja")
    v3 = rulesets.publish(officer, titled.id, TODAY + timedelta(days=2), TODAY, " 2027年度改定 ")
    assert v3.title == "2027年度改定"
    assert v1.title == "草案"  # a title someone chose is kept
    too_long = rulesets.copy_to_draft(officer, v3.id, "ja")
    with pytest.raises(RuleViolation) as caught:
        rulesets.publish(officer, too_long.id, TODAY + timedelta(days=3), TODAY, "x" * 201)
    assert list(caught.value.fields) == ["title"]


def _service_paths(ruleset_id: int, officer: User) -> list[Callable[[], Any]]:
    document = validate_ruleset(rulesets.preset_document("milestone_programme"))
    return [
        lambda: rulesets.save_rule(officer, ruleset_id, min_amount_rule(), None),
        lambda: rulesets.save_rule(officer, ruleset_id, min_amount_rule(), "lead_vc_min"),
        lambda: rulesets.delete_rule(officer, ruleset_id, "lead_vc_min"),
        lambda: rulesets.replace_document(officer, ruleset_id, document),
        lambda: rulesets.delete_draft(officer, ruleset_id),
        lambda: rulesets.publish(officer, ruleset_id, TODAY + timedelta(days=9), TODAY),
    ]


def test_a_published_version_refuses_every_service_path(app: Flask) -> None:
    officer, program = make_officer(), make_program()
    published = publish_new(program, officer, TODAY)
    before = copy.deepcopy(published.document)
    events = len(_actions())
    for path in _service_paths(published.id, officer):
        with pytest.raises(Conflict):
            path()
        db.session.rollback()
    stored = _reloaded(published.id)
    assert stored.document == before and stored.version == 1
    assert stored.status == RuleSetStatus.published and len(_actions()) == events


@pytest.mark.parametrize(
    "change",
    [
        lambda r: setattr(r, "title", "changed"),
        lambda r: setattr(r, "document", {"rules": []}),
        lambda r: setattr(r, "status", RuleSetStatus.draft),
        lambda r: setattr(r, "effective_from", date(2030, 1, 1)),
        lambda r: db.session.delete(r),
    ],
)
def test_a_direct_orm_change_of_a_published_row_raises(
    app: Flask, change: Callable[[RuleSet], None]
) -> None:
    officer, program = make_officer(), make_program()
    published = publish_new(program, officer, TODAY)
    before = copy.deepcopy(published.document)
    change(published)  # on an expired instance: the in-memory state is not trusted
    with pytest.raises(Conflict):
        db.session.commit()
    db.session.rollback()
    stored = _reloaded(published.id)
    assert stored.title == "草案" and stored.document == before
    assert stored.status == RuleSetStatus.published and stored.effective_from == TODAY


def test_a_stale_copy_of_a_draft_cannot_overwrite_it_once_published(app: Flask) -> None:
    officer, program = make_officer(), make_program()
    draft = make_draft(program, officer)
    draft_id, before = draft.id, copy.deepcopy(draft.document)
    db.session.commit()  # SQLite: let the other session take the write lock
    with Session(db.engine, expire_on_commit=False) as elsewhere:
        stale = elsewhere.get(RuleSet, draft_id)
        elsewhere.commit()
        rulesets.publish(officer, draft_id, TODAY, TODAY)
        stale.document = {**stale.document, "rules": []}
        with pytest.raises(Conflict):
            elsewhere.commit()
    assert _reloaded(draft_id).document == before


def test_in_force_picks_the_version_by_date(app: Flask) -> None:
    officer, program = make_officer(), make_program()
    first = publish_new(program, officer, date(2026, 5, 1))
    second = publish_new(program, officer, date(2026, 7, 1))
    # Published on the same day as version 2 before publishing refused it: the higher wins.
    third = RuleSet(
        program_id=program.id,
        title="v3",
        status=RuleSetStatus.published,
        version=3,
        effective_from=second.effective_from,
        document=second.document,
        published_at=second.published_at,
    )
    db.session.add(third)
    db.session.commit()
    make_draft(program, officer)
    publish_new(make_program(), officer, date(2026, 5, 1))
    assert rulesets.in_force(program.id, date(2026, 4, 30)) is None
    assert rulesets.in_force(program.id, date(2026, 5, 1)).id == first.id
    assert rulesets.in_force(program.id, date(2026, 6, 30)).id == first.id
    assert rulesets.in_force(program.id, date(2026, 7, 1)).id == third.id
    assert rulesets.in_force(program.id, date(2031, 1, 1)).id == third.id


@pytest.mark.parametrize("role", [Role.applicant, Role.reviewer, Role.admin])
def test_other_roles_are_refused_every_use_case(app: Flask, role: Role) -> None:
    officer, program = make_officer(), make_program()
    draft = make_draft(program, officer)
    published = publish_new(program, officer, TODAY)
    before = copy.deepcopy(draft.document)
    user = make_user(role)
    document = rulesets.preset_document("amed_certified_vc")
    attempts: list[Callable[[], Any]] = [
        lambda: rulesets.create_draft(user, program.id, "x", document),
        lambda: rulesets.copy_to_draft(user, published.id, "ja"),
        lambda: rulesets.copy_to_draft(user, 999_999, "ja"),
        *_service_paths(draft.id, user),
    ]
    for attempt in attempts:
        with pytest.raises(NotAllowed):
            attempt()
        db.session.rollback()
    assert db.session.query(RuleSet).count() == 2
    assert _reloaded(draft.id).document == before
    assert _reloaded(draft.id).status == RuleSetStatus.draft
