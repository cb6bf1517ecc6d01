"""Every string the API takes is storable: NUL and the other control characters are refused
with a field error (tab and line breaks only in multi-line text), on every blueprint."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from grants.accounts.tokens.models import ApiToken
from grants.applications.models import Application
from grants.awards.models import Amendment
from grants.core.http.api import ApiParser
from grants.core.http.schemas import today
from grants.core.identity import Role
from grants.extensions import db
from grants.programs.models import Program
from grants.rules import amed_certified_vc
from grants.rulesets.models import RuleSet
from tests.support.api import ApiClient, api_as, assert_error
from tests.support.applications import ready_application
from tests.support.grants import make_grant
from tests.support.rulesets import make_program as make_ruleset_program
from tests.support.rulesets import rule

PROGRAM = {
    "code": "AMED-VC-7",
    "name_ja": "創薬ベンチャーエコシステム強化事業",
    "name_en": "Drug discovery venture ecosystem programme",
    "application_opens": "2026-04-01",
    "application_closes": "2026-06-30",
    "end_date": "2031-09-30",
    "themes": ["rare_disease"],
    "modalities": ["drug"],
}
CONTROL = ["a\x00b", "\x1b[31mred", "bell\x07", "del\x7f", "form\x0cfeed"]
BREAKS = ["two\nlines", "tab\there", "cr\rlf"]
# Text that shows something else than it holds: refused in every field.
DISGUISED = ["pay\u202eNOGEPA", "a\u2066b\u2069", "Sakura\u200bBio", "\ufeffname", "a\u2060b"]
# Text that arrived broken: a lone surrogate (JSON's "\ud800" escape), bytes that were not
# UTF-8 (read as U+FFFD). Refused everywhere, before the database could choke on it.
BROKEN = ["lone\ud800", "T\udfff", "bad\ufffdbyte"]
# Refused in one line, kept in multi-line text or turned into a line break there.
LINE_ONLY = ["A\u200dB", "A\u200cB", "one\u2028two"]


def _count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def test_every_api_blueprint_checks_its_text(app: Flask) -> None:
    parsers = {
        name: getattr(blueprint, "ARGUMENTS_PARSER", None)
        for name, blueprint in app.blueprints.items()
        if name.startswith("api_") and name != "api_docs"
    }
    assert len(parsers) >= 14
    assert {name for name, parser in parsers.items() if not isinstance(parser, ApiParser)} == set()


@pytest.mark.parametrize("text", CONTROL + BREAKS + DISGUISED + LINE_ONLY + BROKEN)
def test_programme_names_and_codes_are_storable(app: Flask, client: FlaskClient, text: str) -> None:
    api = api_as(client, Role.officer)
    for field in ("name_ja", "name_en", "code"):
        error = assert_error(api.post("/api/v1/programs", json={**PROGRAM, field: text}), 422)
        assert list(error["fields"]) == [field], error
    assert _count(Program) == 0


def test_the_message_says_which_character_in_the_users_language(
    app: Flask, client: FlaskClient
) -> None:
    api = api_as(client, Role.officer)
    sent = {**PROGRAM, "name_en": "\x1b[31m"}
    english = assert_error(
        api.post("/api/v1/programs", json=sent, headers={"Accept-Language": "en"}), 422
    )
    assert english["fields"] == {"name_en": ["The text contains a control character (U+001B)."]}
    japanese = assert_error(
        api.post("/api/v1/programs", json=sent, headers={"Accept-Language": "ja"}), 422
    )
    assert japanese["fields"] == {
        "name_en": ["制御文字（U+001B）が含まれています。取り除いてください。"]
    }


@pytest.mark.parametrize("text", CONTROL + BREAKS + BROKEN)
def test_application_titles_and_plans_name_the_dotted_path(
    app: Flask, client: FlaskClient, text: str
) -> None:
    world = ready_application()
    api = ApiClient(client, world.applicant)
    path = f"/api/v1/applications/{world.application.id}"
    current = api.get(path).get_json()
    edited = {key: current[key] for key in ("program_id", "theme", "modality", "stage")}
    edited |= {key: current[key] for key in ("eligible_cost", "indirect_cost", "requested_subsidy")}
    edited |= {"project_start": current["project_start"], "project_end": current["project_end"]}
    error = assert_error(api.put(path, json=edited | {"title": text}), 422)
    assert list(error["fields"]) == ["title"]
    plan = {
        "milestones": [
            {
                "title": "GLP tox",
                "criteria": [{"metric": "IC50", "target": text, "unit": "nM"}],
                "due_date": str(world.application.plan[0].due_date),
                "tranche_amount": 1,
            }
        ]
    }
    error = assert_error(api.put(f"{path}/plan", json=plan), 422)
    assert list(error["fields"]) == ["milestones.0.criteria.0.target"]
    db.session.expire_all()
    assert db.session.get(Application, world.application.id).title == current["title"]


def test_multi_line_text_keeps_its_lines_but_not_control_characters(
    app: Flask, client: FlaskClient
) -> None:
    world = make_grant(first_due=today() + timedelta(days=60))
    api = ApiClient(client, world.applicant)
    path = f"/api/v1/grants/{world.grant.id}/amendments"
    milestone = world.milestones[0]
    request: dict[str, Any] = {
        "kind": "due_date",
        "milestone_id": milestone.id,
        "new_due_date": (milestone.due_date + timedelta(days=10)).isoformat(),
    }
    for text in CONTROL + DISGUISED + ["one\u2029two"]:
        error = assert_error(api.post(path, json=request | {"reason": text}), 422)
        assert list(error["fields"]) == ["reason"]
    assert _count(Amendment) == 0
    reason = "治験施設の準備。\r\n\t詳細は別紙（担当 👩\u200d🔬）。"  # an emoji's joiner
    created = api.post(path, json=request | {"reason": reason})
    assert created.status_code == 201, created.get_json()
    assert db.session.scalars(select(Amendment.reason)).one() == reason


@pytest.mark.parametrize(
    ("locale", "text", "message"),
    [
        (
            "en",
            "pay\u202eNOGEPA",
            "The text contains a character that reverses the direction of what follows (U+202E).",
        ),
        ("en", "Sakura\u200bBio", "The text contains an invisible character (U+200B)."),
        (
            "ja",
            "Sakura\u200bBio",
            "目に見えない文字（U+200B）が含まれています。取り除いてください。",
        ),
    ],
)
def test_a_disguising_character_is_named_in_the_users_language(
    app: Flask, client: FlaskClient, locale: str, text: str, message: str
) -> None:
    api = api_as(client, Role.officer)
    sent = {**PROGRAM, "name_en": text}
    response = api.post("/api/v1/programs", json=sent, headers={"Accept-Language": locale})
    assert assert_error(response, 422)["fields"] == {"name_en": [message]}


@pytest.mark.parametrize("text", CONTROL + BREAKS + DISGUISED + LINE_ONLY + BROKEN)
def test_token_names_are_storable(app: Flask, client: FlaskClient, text: str) -> None:
    api = api_as(client, Role.officer)
    error = assert_error(api.post("/api/v1/tokens", json={"name": text}), 422)
    assert list(error["fields"]) == ["name"]
    assert _count(ApiToken) == 1  # the test client's own


def test_text_inside_a_rule_set_document_is_storable(app: Flask, client: FlaskClient) -> None:
    program = make_ruleset_program()
    api = api_as(client, Role.officer)
    document = amed_certified_vc()
    rule(document, "lead_vc_min")["label"]["ja"] = "下限\x00"
    path = f"/api/v1/programs/{program.id}/rulesets"
    error = assert_error(api.post(path, json={"title": "第7回", "document": document}), 422)
    assert error["fields"] == {
        "document.rules.4.label.ja": ["制御文字（U+0000）が含まれています。取り除いてください。"]
    }


def test_a_key_inside_a_rule_set_document_is_checked_too(app: Flask, client: FlaskClient) -> None:
    program = make_ruleset_program()
    api = api_as(client, Role.officer)
    document = amed_certified_vc()
    rule(document, "lead_vc_min")["label"]["ja\x00"] = "下限"
    path = f"/api/v1/programs/{program.id}/rulesets"
    error = assert_error(api.post(path, json={"title": "第7回", "document": document}), 422)
    message = error["fields"]["document.rules.4.label.ja\x00"]
    assert message == ["制御文字（U+0000）が含まれています。取り除いてください。"]
    assert db.session.query(RuleSet).filter_by(program_id=program.id).count() == 0
