"""What-if: a draft rule set compared with the versions in force, application by application."""

from __future__ import annotations

import pytest
from flask import Flask

from grants.core.errors import NotAllowed, NotFound
from grants.core.identity import Role
from grants.rules import Change, RuleSetInvalid, amed_certified_vc
from grants.rulesets import service as rulesets
from grants.whatif import service as whatif
from tests.support.factories import make_user
from tests.support.rulesets import rule
from tests.support.whatif import TODAY, make_whatif_world


def _without_relaxation() -> dict:
    document = amed_certified_vc()
    rule(document, "lead_vc_min")["relaxations"] = []
    return document


def test_removing_the_relaxation_newly_blocks_the_non_clinical_application(app: Flask) -> None:
    w = make_whatif_world()
    report = whatif.what_if_document(w.officer, "amed-wi", _without_relaxation(), TODAY)
    by_id = {(row.kind, row.subject_id): row for row in report.rows}
    relaxed = by_id[("application", w.relaxed.id)]
    assert relaxed.before is not None and relaxed.before.ok
    assert not relaxed.after.ok
    assert relaxed.change is Change.NEWLY_BLOCKED
    assert [r.rule_id for r in relaxed.after.blocking] == ["lead_vc_min"]
    assert by_id[("application", w.short.id)].change is Change.UNCHANGED
    assert report.summary[Change.NEWLY_BLOCKED] == 1
    assert report.changed == [relaxed]


def test_lowering_the_minimum_for_every_stage_newly_admits(app: Flask) -> None:
    w = make_whatif_world()
    document = amed_certified_vc()
    rule(document, "lead_vc_min")["params"]["amount"] = 100_000_000
    report = whatif.what_if_document(w.officer, "AMED-WI", document, TODAY)
    short = next(r for r in report.rows if r.subject_id == w.short.id and r.kind == "application")
    assert short.change is Change.NEWLY_ELIGIBLE
    assert report.summary[Change.NEWLY_ELIGIBLE] == 1


def test_active_grants_are_compared_on_their_next_tranche(app: Flask) -> None:
    w = make_whatif_world()
    document = amed_certified_vc()
    document["rules"] = [r for r in document["rules"] if r["type"] != "review_quorum"]
    report = whatif.what_if_document(w.officer, "AMED-WI", document, TODAY)
    grant_row = next(r for r in report.rows if r.kind == "grant")
    assert grant_row.subject_id == w.world.grant.id
    assert "review_quorum" in {r.rule_id for r in grant_row.before.blocking}
    assert "review_quorum" not in {r.rule_id for r in grant_row.after.rows}
    assert grant_row.change is not Change.UNCHANGED


def test_a_stored_draft_is_compared_with_the_version_in_force(app: Flask) -> None:
    w = make_whatif_world()
    draft = rulesets.create_draft(w.officer, w.world.program.id, "草案", _without_relaxation())
    report = whatif.what_if_ruleset(w.officer, draft.id, TODAY)
    assert report.in_force is not None and report.in_force.id == w.world.ruleset.id
    assert report.summary[Change.NEWLY_BLOCKED] == 1


def test_drafts_and_awarded_applications_are_handled(app: Flask) -> None:
    """A draft application is evaluated as of today; the awarded one is shown by its grant."""
    w = make_whatif_world()
    w.relaxed.state = "draft"
    w.relaxed.submitted_on = None
    from grants.extensions import db

    db.session.commit()
    report = whatif.what_if_document(w.officer, "AMED-WI", amed_certified_vc(), TODAY)
    kinds = sorted((r.kind, r.subject_id) for r in report.rows)
    assert ("application", w.world.grant.application_id) not in kinds
    assert ("application", w.relaxed.id) in kinds


def test_unknown_programme_and_invalid_draft(app: Flask) -> None:
    w = make_whatif_world()
    with pytest.raises(NotFound):
        whatif.what_if_document(w.officer, "NOPE", amed_certified_vc(), TODAY)
    with pytest.raises(RuleSetInvalid):
        whatif.what_if_document(w.officer, "AMED-WI", {"rules": [{"type": "bogus"}]}, TODAY)


@pytest.mark.parametrize("role", [Role.applicant, Role.reviewer, Role.admin])
def test_only_officers_run_a_what_if(app: Flask, role: Role) -> None:
    make_whatif_world()
    with pytest.raises(NotAllowed):
        whatif.what_if_document(make_user(role), "AMED-WI", amed_certified_vc(), TODAY)
