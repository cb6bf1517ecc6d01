"""The officer's rule-set editor: versions, the rule forms, settings, JSON, publishing."""

from __future__ import annotations

import copy
import io
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html import unescape
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from grants.accounts.models import User
from grants.core.calendar import tokyo_today
from grants.core.identity import Locale, Role
from grants.core.models import AuditEvent
from grants.extensions import db
from grants.programs.models import Program
from grants.rules import validate_ruleset
from grants.rules.checks import RULE_TYPES
from grants.rulesets import service as rulesets
from grants.rulesets.models import RuleSet, RuleSetStatus
from tests.support.factories import make_user
from tests.support.rulesets import (
    TODAY,
    form_values,
    make_draft,
    make_program,
    rule,
)
from tests.support.web import login, post_form

NOT_A_CHOICE = "Not a valid choice"  # WTForms' own message; the officer reads English


@dataclass
class World:
    officer: User
    program: Program
    draft: RuleSet
    published: RuleSet


@pytest.fixture
def world(app: Flask) -> World:
    # English, so that the assertions below read the messages as written in the code.
    officer, program = make_user(Role.officer, locale=Locale.en), make_program("AMED-RS")
    published = make_draft(program, officer, title="第1版")
    published = rulesets.publish(officer, published.id, TODAY, TODAY)
    draft = make_draft(program, officer)
    return World(officer, program, draft, published)


@pytest.fixture
def officer_client(client: FlaskClient, world: World) -> FlaskClient:
    login(client, world.officer.email)
    return client


def _page(response: TestResponse) -> str:
    return unescape(response.get_data(as_text=True))


def _all_errors(page: str) -> list[str]:
    return re.findall(r'class="errors" id="([^"]+)">(.*?)</ul>', page, re.S) + re.findall(
        r'id="form-errors">(.*?)</div>', page, re.S
    )


def _field_errors(page: str, field_id: str) -> str:
    match = re.search(
        rf'<ul class="errors" id="{re.escape(field_id)}-error">(.*?)</ul>', page, re.S
    )
    return match.group(1) if match else ""


def _document(ruleset_id: int) -> dict[str, Any]:
    db.session.expire_all()
    return db.session.get(RuleSet, ruleset_id).document


def _events() -> int:
    return db.session.query(AuditEvent).count()


def _urls(app: Flask, world: World, ruleset_id: int) -> list[tuple[str, str]]:
    values = {"program_id": world.program.id, "ruleset_id": ruleset_id, "rule_id": "lead_vc_min"}
    urls = []
    for url_rule in app.url_map.iter_rules():
        if url_rule.endpoint.startswith(("rulesets.", "ruleset_settings.")):
            path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m.group(1)]), url_rule.rule)
            if url_rule.endpoint == "rulesets.new_rule":
                path += "?type=min_amount"
            urls += [(m, path) for m in sorted(url_rule.methods or ()) if m in ("GET", "POST")]
    return urls


# ---- access ---------------------------------------------------------------------------------


def test_the_routes_are_enumerated(app: Flask, world: World) -> None:
    endpoints = {
        r.endpoint
        for r in app.url_map.iter_rules()
        if r.endpoint.startswith(("rulesets.", "ruleset_settings."))
    }
    assert len(_urls(app, world, world.draft.id)) == 15
    assert {
        "rulesets.index",
        "rulesets.show",
        "rulesets.new_rule",
        "rulesets.edit_rule",
        "ruleset_settings.settings",
    } <= endpoints


@pytest.mark.parametrize("role", [Role.applicant, Role.reviewer, Role.admin])
def test_every_route_is_forbidden_to_other_roles(
    app: Flask, client: FlaskClient, world: World, role: Role
) -> None:
    login(client, make_user(role).email)
    before, events = copy.deepcopy(world.draft.document), _events()
    for method, path in _urls(app, world, world.draft.id):
        if method == "GET":
            response = client.get(path)
        else:
            response = post_form(client, path, {"rule_id": "x", "effective_from": "2099-01-01"})
        assert response.status_code == 403, (role, method, path)
    assert db.session.query(RuleSet).count() == 2 and _events() == events
    assert _document(world.draft.id) == before


def test_anonymous_is_sent_to_sign_in(app: Flask, client: FlaskClient, world: World) -> None:
    for method, path in _urls(app, world, world.draft.id):
        if method == "GET":
            response = client.get(path)
            assert response.status_code == 302 and "/login" in response.headers["Location"]


# ---- pages ----------------------------------------------------------------------------------


def test_the_versions_page(officer_client: FlaskClient, world: World) -> None:
    response = officer_client.get(f"/officer/programs/{world.program.id}/rulesets")
    page = _page(response)
    assert response.status_code == 200
    assert "第1版" in page and "草案" in page and "AMED-RS" in page
    today = tokyo_today(datetime.now(UTC))
    assert page.count("badge-in-force") == (1 if today >= TODAY else 0)
    later = make_draft(world.program, world.officer, title="第2版")
    rulesets.publish(world.officer, later.id, today + timedelta(days=30), today)
    page = _page(officer_client.get(f"/officer/programs/{world.program.id}/rulesets"))
    rows = re.findall(r"<tr>(.*?)</tr>", page, re.S)
    assert [("第2版" in row, "badge-in-force" in row) for row in rows[1:3]] == [
        (True, False),
        (False, today >= TODAY),
    ]
    assert f"/officer/rulesets/{world.published.id}/export" in page
    assert f"/officer/rulesets/{world.draft.id}/copy" in page
    assert officer_client.get("/officer/programs/999999/rulesets").status_code == 404


def test_a_draft_page_reads_in_words(officer_client: FlaskClient, world: World) -> None:
    world.officer.locale = Locale.ja
    db.session.commit()
    page = _page(officer_client.get(f"/officer/rulesets/{world.draft.id}"))
    assert "リードVCの出資額の下限" in page and "10億円" in page and "1億円" in page
    assert "リードVC出資額" in page  # the fact label, not its name
    assert "1/3" in page and "2031年9月30日" in page
    assert "開発段階" in page  # the relaxation's condition in words
    assert f"/officer/rulesets/{world.draft.id}/rules/lead_vc_min" in page
    assert f"/officer/rulesets/{world.draft.id}/publish" in page
    assert f"/officer/rulesets/{world.draft.id}/settings" in page
    assert "whatif" not in page


def test_a_published_page_has_no_edit_controls(officer_client: FlaskClient, world: World) -> None:
    page = _page(officer_client.get(f"/officer/rulesets/{world.published.id}"))
    base = f"/officer/rulesets/{world.published.id}"
    for control in ("/rules/", "/publish", "/settings", "/delete"):
        assert base + control not in page
    assert f"{base}/copy" in page
    assert 'id="frozen-note"' in page


def test_every_rule_form_opens(officer_client: FlaskClient, world: World) -> None:
    for rule_type in RULE_TYPES:
        response = officer_client.get(
            f"/officer/rulesets/{world.draft.id}/rules/new?type={rule_type}"
        )
        assert response.status_code == 200, rule_type
    assert (
        officer_client.get(f"/officer/rulesets/{world.draft.id}/rules/new?type=x").status_code
        == 404
    )
    assert officer_client.get(f"/officer/rulesets/{world.draft.id}/rules/nope").status_code == 404


@pytest.mark.parametrize("preset", sorted(rulesets.PRESETS))
def test_every_preset_rule_survives_its_form_unchanged(
    officer_client: FlaskClient, world: World, preset: str
) -> None:
    draft = make_draft(world.program, world.officer, preset)
    before = copy.deepcopy(draft.document)
    for stored in before["rules"]:
        path = f"/officer/rulesets/{draft.id}/rules/{stored['id']}"
        page = _page(officer_client.get(path))
        response = post_form(officer_client, path, form_values(page, path))
        assert response.status_code == 302, (stored["id"], _page(response)[-3000:])
    assert _document(draft.id) == before


# ---- the rule form --------------------------------------------------------------------------


NO_RELAXATION = {
    "relaxations-0-when-0-fact": "",
    "relaxations-0-when-0-value": "",
    "relaxations-0-label_ja": "",
    "relaxations-0-label_en": "",
}


def _min_amount_form(**changes: str) -> dict[str, str]:
    data = {
        "rule_id": "cost_floor",
        "label_ja": "補助対象経費の下限",
        "label_en": "Minimum eligible cost",
        "phase": "eligibility",
        "severity": "warn",
        "param_fact": "eligible_cost",
        "param_amount": "50,000,000",
        "applies_when-0-fact": "modality",
        "applies_when-0-op": "eq",
        "applies_when-0-value": "drug",
        "relaxations-0-when-0-fact": "stage",
        "relaxations-0-when-0-op": "in",
        "relaxations-0-when-0-value": "non_clinical,discovery",
        "relaxations-0-amount": "10,000,000",
        "relaxations-0-label_ja": "非臨床は1千万円",
        "relaxations-0-label_en": "¥10M for non-clinical",
    }
    return data | changes


def test_an_officer_adds_a_min_amount_rule_with_a_relaxation(
    officer_client: FlaskClient, world: World
) -> None:
    path = f"/officer/rulesets/{world.draft.id}/rules/new?type=min_amount"
    response = post_form(officer_client, path, _min_amount_form())
    assert response.status_code == 302, _all_errors(_page(response))
    assert response.headers["Location"].endswith(
        f"/officer/rulesets/{world.draft.id}#rule-cost_floor"
    )
    assert _document(world.draft.id)["rules"][-1] == {
        "id": "cost_floor",
        "phase": "eligibility",
        "type": "min_amount",
        "severity": "warn",
        "params": {"fact": "eligible_cost", "amount": 50_000_000},
        "applies_when": {"modality": "drug"},
        "relaxations": [
            {
                "when": {"stage": {"in": ["non_clinical", "discovery"]}},
                "params": {"amount": 10_000_000},
                "label": {"ja": "非臨床は1千万円", "en": "¥10M for non-clinical"},
            }
        ],
        "label": {"ja": "補助対象経費の下限", "en": "Minimum eligible cost"},
    }


def test_an_officer_edits_a_rule_in_place(officer_client: FlaskClient, world: World) -> None:
    path = f"/officer/rulesets/{world.draft.id}/rules/lead_vc_min"
    data = form_values(_page(officer_client.get(path)), path)
    data |= {"param_amount": ["500,000,000"], "relaxations-1-when-0-fact": ["listed"]}
    data |= {"relaxations-1-when-0-value": ["false"], "relaxations-1-amount": ["1"]}
    assert post_form(officer_client, path, data).status_code == 302
    document = _document(world.draft.id)
    edited = rule(document, "lead_vc_min")
    assert document["rules"][4] == edited and edited["params"]["amount"] == 500_000_000
    assert [r["when"] for r in edited["relaxations"]] == [
        {"stage": {"in": ["non_clinical", "discovery"]}},
        {"listed": False},
    ]
    assert edited["relaxations"][1] == {
        "when": {"listed": False},
        "params": {"amount": 1},
        "label": None,
    }


@pytest.mark.parametrize(
    ("rule_type", "changes", "field", "message"),
    [
        ("min_ratio", {"param_ratio": "1/0"}, "param_ratio", "Ratio '1/0' divides by zero."),
        ("min_ratio", {"param_ratio": "abc"}, "param_ratio", "Not a ratio: 'abc'"),
        ("min_amount", {"param_amount": "-5"}, "param_amount", "whole number of yen"),
        ("min_amount", {"param_amount": "1.5"}, "param_amount", "whole number of yen"),
        ("min_amount", {"param_fact": "nope"}, "param_fact", NOT_A_CHOICE),
        ("min_amount", {"param_fact": "stage"}, "param_fact", NOT_A_CHOICE),
        (
            "min_amount",
            {"applies_when-0-fact": "nope"},
            "applies_when-0-fact",
            NOT_A_CHOICE,
        ),
        (
            "min_amount",
            {"relaxations-0-when-0-value": "non_clinical,moon"},
            "relaxations-0-when-0-value",
            "'moon' is not a stage",
        ),
        ("min_amount", {"relaxations-0-amount": "-1"}, "relaxations-0-amount", "whole number"),
        ("min_amount", {"rule_id": "lead_vc_min"}, "rule_id", "Duplicate rule id 'lead_vc_min'."),
        ("min_amount", {"rule_id": "Bad Id"}, "rule_id", "Use lowercase letters"),
        ("min_amount", {"label_en": ""}, "label_en", "required"),
        ("min_amount", {"relaxations-0-label_en": ""}, "relaxations-0-label_en", "both languages"),
        ("min_amount", {"relaxations-0-amount": ""}, "relaxations-0-amount", "replacement"),
        ("min_amount", {"relaxations-0-when-0-fact": ""}, "relaxations-0-when-0-fact", "Choose a"),
        (
            "min_amount",
            {"relaxations-0-when-0-fact": "", "relaxations-0-when-0-value": ""},
            "relaxations-0-when-0-fact",
            "applies",
        ),
        ("min_amount", {"applies_when-0-value": ""}, "applies_when-0-value", "Enter a value"),
        ("review_quorum", {"param_min": "0"}, "param_min", "from 1 to 10000"),
        ("date_before", {"param_date": "2031-02-30"}, "param_date", "Not a valid date"),
    ],
)
def test_bad_input_is_shown_beside_its_field_and_changes_nothing(
    officer_client: FlaskClient,
    world: World,
    rule_type: str,
    changes: dict[str, str],
    field: str,
    message: str,
) -> None:
    before, events = copy.deepcopy(world.draft.document), _events()
    data = _min_amount_form() | {
        "param_numerator": "vc_committed_total",
        "param_denominator": "eligible_cost",
        "param_ratio": "1/3",
        "param_min": "2",
        "param_date": "2031-09-30",
        "param_fact": "project_end" if rule_type == "date_before" else "eligible_cost",
        "relaxations-0-ratio": "",
        "relaxations-0-min": "",
        "relaxations-0-date": "",
    }
    if rule_type != "min_amount":
        data |= NO_RELAXATION
    path = f"/officer/rulesets/{world.draft.id}/rules/new?type={rule_type}"
    response = post_form(officer_client, path, data | changes)
    page = _page(response)
    assert response.status_code == 422, _all_errors(page)
    assert message in _field_errors(page, field), _all_errors(page)
    assert _document(world.draft.id) == before and _events() == events


def test_a_value_rule_offers_the_chosen_facts_values(
    officer_client: FlaskClient, world: World
) -> None:
    path = f"/officer/rulesets/{world.draft.id}/rules/new?type=one_of"
    page = _page(officer_client.get(path + "&fact=stage"))
    assert 'value="non_clinical"' in page and 'type="checkbox"' in page
    data = {"rule_id": "theme_ok", "param_fact": "theme", "refresh": "1"}
    response = post_form(officer_client, path, data)
    assert response.status_code == 200 and 'value="rare_disease"' in _page(response)
    data = _min_amount_form(rule_id="theme_ok", severity="block") | {"param_fact": "theme"}
    data |= NO_RELAXATION | {"param_values": ["amr", "rare_disease"]}
    response = post_form(officer_client, path, data)
    assert response.status_code == 302, _all_errors(_page(response))
    added = rule(_document(world.draft.id), "theme_ok")
    assert added["params"] == {"fact": "theme", "values": ["amr", "rare_disease"]}
    assert added["relaxations"] == []


def test_an_equals_rule_on_a_true_false_fact(officer_client: FlaskClient, world: World) -> None:
    path = f"/officer/rulesets/{world.draft.id}/rules/new?type=equals"
    data = _min_amount_form(rule_id="not_listed", param_fact="listed") | {"param_value": "false"}
    data |= NO_RELAXATION | {"applies_when-0-fact": "", "applies_when-0-value": ""}
    response = post_form(officer_client, path, data)
    assert response.status_code == 302, _all_errors(_page(response))
    added = rule(_document(world.draft.id), "not_listed")
    assert added["params"] == {"fact": "listed", "value": False} and added["applies_when"] == {}


def test_rules_are_deleted_from_a_draft(officer_client: FlaskClient, world: World) -> None:
    path = f"/officer/rulesets/{world.draft.id}/rules/lead_vc_min/delete"
    assert post_form(officer_client, path, {}).status_code == 302
    assert "lead_vc_min" not in [r["id"] for r in _document(world.draft.id)["rules"]]
    assert post_form(officer_client, path, {}).status_code == 404


# ---- settings -------------------------------------------------------------------------------


def _settings(**changes: str) -> dict[str, str]:
    data = {
        "due_soon_days": "60, 30, 7",
        "grace_days": "3",
        "escalation_days": "7",
        "review_waiting_days": "10",
        "tranche_waiting_days": "20",
        "max_extension_days": "90",
    }
    return data | changes


def _input_value(page: str, name: str) -> str | None:
    tag = re.search(rf'<input [^>]*name="{re.escape(name)}"[^>]*>', page)
    value = re.search(r'value="([^"]*)"', tag.group(0)) if tag else None
    return value.group(1) if value else None


@pytest.fixture
def configured(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """Installation defaults unlike the domain's old constants, so that they are told apart."""
    for key, value in {
        "ALERT_DUE_SOON_DAYS": (45, 10),
        "ALERT_GRACE_DAYS": 2,
        "ALERT_ESCALATION_DAYS": (21,),
        "ALERT_REVIEW_WAITING_DAYS": 11,
        "ALERT_TRANCHE_WAITING_DAYS": 12,
    }.items():
        monkeypatch.setitem(app.config, key, value)


def test_settings_are_saved(officer_client: FlaskClient, world: World) -> None:
    path = f"/officer/rulesets/{world.draft.id}/settings"
    assert post_form(officer_client, path, _settings()).status_code == 302
    document = _document(world.draft.id)
    assert document["schedule"] == {
        "due_soon_days": [60, 30, 7],
        "grace_days": 3,
        "escalation_days": [7],
        "review_waiting_days": 10,
        "tranche_waiting_days": 20,
    }
    assert document["amendments"] == {"max_extension_days": 90}
    page = _page(officer_client.get(path))
    assert _input_value(page, "due_soon_days") == "60, 30, 7"
    assert _input_value(page, "grace_days") == "3"


def test_blank_settings_follow_the_configured_defaults(
    officer_client: FlaskClient, world: World, configured: None
) -> None:
    path = f"/officer/rulesets/{world.draft.id}/settings"
    page = _page(officer_client.get(path))
    assert world.draft.document["schedule"] == {}  # the preset sets no offsets
    assert _input_value(page, "due_soon_days") in (None, "")
    assert _input_value(page, "grace_days") in (None, "")
    assert "Leave blank for the default: 45, 10." in page
    assert "Leave blank for the default: 21." in page
    assert "Leave blank for the default: 12." in page
    assert post_form(officer_client, path, _settings()).status_code == 302
    # Blanking a field removes its override; the others stay.
    blanks = _settings(due_soon_days="", grace_days="", tranche_waiting_days=" ")
    assert post_form(officer_client, path, blanks).status_code == 302
    schedule = _document(world.draft.id)["schedule"]
    assert schedule == {"escalation_days": [7], "review_waiting_days": 10}
    every = dict.fromkeys(("escalation_days", "review_waiting_days"), "")
    assert post_form(officer_client, path, blanks | every).status_code == 302
    assert _document(world.draft.id)["schedule"] == {}


def test_a_dash_sets_no_reminders_at_all(officer_client: FlaskClient, world: World) -> None:
    path = f"/officer/rulesets/{world.draft.id}/settings"
    assert post_form(officer_client, path, _settings(escalation_days="-")).status_code == 302
    assert _document(world.draft.id)["schedule"]["escalation_days"] == []
    assert _input_value(_page(officer_client.get(path)), "escalation_days") == "-"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"due_soon_days": "30, x"}, "due_soon_days", "whole numbers"),
        ({"due_soon_days": "30, -7"}, "due_soon_days", "whole numbers"),
        ({"escalation_days": "14, ٣"}, "escalation_days", "whole numbers"),
        ({"escalation_days": ", ,"}, "escalation_days", "whole numbers"),
        ({"grace_days": "-1"}, "grace_days", "from 0 to 3650"),
        ({"review_waiting_days": "two"}, "review_waiting_days", "integer"),
        ({"max_extension_days": "1.5"}, "max_extension_days", "integer"),
        ({"max_extension_days": ""}, "max_extension_days", "required"),
    ],
)
def test_bad_settings_are_refused(
    officer_client: FlaskClient, world: World, changes: dict[str, str], field: str, message: str
) -> None:
    before = copy.deepcopy(world.draft.document)
    path = f"/officer/rulesets/{world.draft.id}/settings"
    response = post_form(officer_client, path, _settings(**changes))
    assert response.status_code == 422
    assert message in _field_errors(_page(response), field)
    assert _document(world.draft.id) == before


def test_the_version_page_marks_the_defaults(
    officer_client: FlaskClient, world: World, configured: None
) -> None:
    page = _page(officer_client.get(f"/officer/rulesets/{world.draft.id}"))
    shown = {
        "due_soon_days": "45, 10 (default)",
        "grace_days": "2 (default)",
        "escalation_days": "21 (default)",
        "review_waiting_days": "11 (default)",
        "tranche_waiting_days": "12 (default)",
    }
    for key, text in shown.items():
        assert _setting(page, key) == text
    path = f"/officer/rulesets/{world.draft.id}/settings"
    blanks = dict.fromkeys(("grace_days", "escalation_days", "tranche_waiting_days"), "")
    assert post_form(officer_client, path, _settings(**blanks)).status_code == 302
    page = _page(officer_client.get(f"/officer/rulesets/{world.draft.id}"))
    assert _setting(page, "due_soon_days") == "60, 30, 7"
    assert _setting(page, "grace_days") == "2 (default)"
    assert _setting(page, "review_waiting_days") == "10"


def _setting(page: str, key: str) -> str:
    match = re.search(rf'<dd id="setting-{key}">(.*?)</dd>', page, re.S)
    assert match, key
    return re.sub(r"<[^>]+>", "", match.group(1)).strip()


# ---- drafts, JSON ---------------------------------------------------------------------------


def test_a_draft_from_a_preset_and_a_copy(officer_client: FlaskClient, world: World) -> None:
    path = f"/officer/programs/{world.program.id}/rulesets/new"
    response = post_form(officer_client, path, {"preset": "milestone_programme"})
    assert response.status_code == 302
    made = db.session.query(RuleSet).order_by(RuleSet.id.desc()).first()
    assert made.document == validate_ruleset(rulesets.preset_document("milestone_programme"))
    assert made.status == RuleSetStatus.draft and made.title
    bad = post_form(officer_client, path, {"preset": "nope"})
    assert bad.status_code == 422 and NOT_A_CHOICE in _field_errors(_page(bad), "preset")
    response = post_form(officer_client, f"/officer/rulesets/{world.published.id}/copy", {})
    copied = db.session.query(RuleSet).order_by(RuleSet.id.desc()).first()
    assert response.headers["Location"].endswith(f"/officer/rulesets/{copied.id}")
    assert copied.document == world.published.document and copied.status == RuleSetStatus.draft
    assert copied.title == f"Draft based on {world.published.title}"  # the officer's language
    assert db.session.query(RuleSet).count() == 4


def test_a_draft_is_deleted(officer_client: FlaskClient, world: World) -> None:
    draft_id, program_id = world.draft.id, world.program.id
    response = post_form(officer_client, f"/officer/rulesets/{draft_id}/delete", {})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/officer/programs/{program_id}/rulesets")
    db.session.expire_all()
    assert db.session.get(RuleSet, draft_id) is None


def _import(client: FlaskClient, program_id: int, body: bytes, name: str = "規則.json") -> Any:
    path = f"/officer/programs/{program_id}/rulesets/import"
    return post_form(client, path, {"file": (io.BytesIO(body), name)})


def test_export_round_trips_through_import(officer_client: FlaskClient, world: World) -> None:
    response = officer_client.get(f"/officer/rulesets/{world.published.id}/export")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment") and "AMED-RS-v1.json" in disposition
    body = response.get_data()
    text = body.decode("utf-8")
    assert "リードVCの出資額の下限" in text and '\n  "rules": [' in text
    assert json.loads(text) == world.published.document
    imported = _import(officer_client, world.program.id, body)
    assert imported.status_code == 302
    made = db.session.query(RuleSet).order_by(RuleSet.id.desc()).first()
    assert made.document == world.published.document and made.title == "規則"
    assert made.status == RuleSetStatus.draft


@pytest.mark.parametrize(
    ("body", "name", "message"),
    [
        (b'{"rules": [', "x.json", "not valid JSON"),
        (b"\xff\xfe\x00", "x.json", "UTF-8"),
        (b"{}", "x.txt", ".json"),
        (b"[1, 2]", "x.json", "<li>Expected an object.</li>"),
        (b"[" * 100_000, "x.json", "nested too deeply"),
    ],
)
def test_a_broken_file_is_refused(
    officer_client: FlaskClient, world: World, body: bytes, name: str, message: str
) -> None:
    response = _import(officer_client, world.program.id, body, name)
    assert response.status_code == 422
    assert message in _field_errors(_page(response), "file")
    assert db.session.query(RuleSet).count() == 2


def test_schema_errors_of_an_import_are_listed_by_field(
    officer_client: FlaskClient, world: World
) -> None:
    document = rulesets.preset_document("amed_certified_vc")
    document["rules"][3]["params"]["ratio"] = "1/0"
    document["rules"][4]["params"]["amount"] = -1
    document["rules"][1]["type"] = "nope"
    response = _import(officer_client, world.program.id, json.dumps(document).encode())
    errors = _field_errors(_page(response), "file")
    assert response.status_code == 422
    assert "Rules › 3 › Parameters › Ratio: Ratio '1/0' divides by zero." in errors
    assert "Rules › 4 › Parameters › Amount: Must be a whole number of yen, 0 or more." in errors
    assert "Rules › 1 › Rule type: Unknown rule type 'nope'." in errors
    assert db.session.query(RuleSet).count() == 2


# ---- publishing and immutability ------------------------------------------------------------


def test_publishing_a_draft(officer_client: FlaskClient, world: World) -> None:
    path = f"/officer/rulesets/{world.draft.id}/publish"
    today = tokyo_today(datetime.now(UTC))
    early = post_form(officer_client, path, {"effective_from": str(today - timedelta(days=1))})
    assert early.status_code == 422
    assert "cannot be before" in _field_errors(_page(early), "effective_from")
    assert db.session.get(RuleSet, world.draft.id).status == RuleSetStatus.draft
    response = post_form(officer_client, path, {"effective_from": today.isoformat()})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/officer/rulesets/{world.draft.id}")
    db.session.expire_all()
    published = db.session.get(RuleSet, world.draft.id)
    assert (published.status, published.version, published.effective_from) == (
        RuleSetStatus.published,
        2,
        today,
    )
    page = _page(officer_client.get(response.headers["Location"]))
    assert "2" in page and f"/officer/rulesets/{world.draft.id}/settings" not in page


def test_a_publish_refusal_is_summarised_at_the_top_of_the_long_page(
    officer_client: FlaskClient, world: World
) -> None:
    path = f"/officer/rulesets/{world.draft.id}/publish"
    today = tokyo_today(datetime.now(UTC))
    page = _page(
        post_form(officer_client, path, {"effective_from": str(today - timedelta(days=1))})
    )
    summary = page.split('id="error-summary"')[1].split("</div>")[0]
    assert '<a href="#effective_from">' in summary and "cannot be before" in summary
    assert page.index('id="error-summary"') < page.index("<h1")  # above everything
    assert page.index('id="error-summary"') < page.index('id="publish"')


def test_a_copy_is_published_under_the_versions_name_with_the_day_in_words(
    officer_client: FlaskClient, world: World
) -> None:
    draft = rulesets.copy_to_draft(world.officer, world.published.id, "ja")
    page = _page(officer_client.get(f"/officer/rulesets/{draft.id}"))
    assert "Copied from version 1." in page and 'id="stale-draft"' not in page
    assert form_values(page, f"/officer/rulesets/{draft.id}/publish")["title"] == ["AMED-RS v2"]
    later = tokyo_today(datetime.now(UTC)) + timedelta(days=8)
    response = post_form(
        officer_client,
        f"/officer/rulesets/{draft.id}/publish",
        {"effective_from": later.isoformat(), "title": "AMED-RS v2"},
    )
    assert response.status_code == 302
    page = _page(officer_client.get(response.headers["Location"]))
    day = f"{later.day} {later.strftime('%b')} {later.year}"
    assert f"Version 2 is published, in force from {day}." in page
    assert later.isoformat() not in page
    assert db.session.get(RuleSet, draft.id).title == "AMED-RS v2"


def test_a_copy_of_a_superseded_version_is_refused_with_both_versions(
    officer_client: FlaskClient, world: World
) -> None:
    first = rulesets.copy_to_draft(world.officer, world.published.id, "ja")
    second = rulesets.copy_to_draft(world.officer, world.published.id, "ja")
    today = tokyo_today(datetime.now(UTC))
    rulesets.publish(world.officer, first.id, today + timedelta(days=1), today)
    path = f"/officer/rulesets/{second.id}"
    page = _page(officer_client.get(path))
    assert "Version 2 has been published since this draft was copied from version 1" in page
    response = post_form(
        officer_client, f"{path}/publish", {"effective_from": str(today + timedelta(days=2))}
    )
    assert response.status_code == 422
    errors = _page(response).split('id="form-errors">')[1].split("</div>")[0]
    assert "This draft was copied from version 1, but version 2 has been published" in errors
    db.session.expire_all()
    assert db.session.get(RuleSet, second.id).status == RuleSetStatus.draft


def test_the_publish_refusal_shows_the_day_in_japanese(client: FlaskClient, world: World) -> None:
    officer = make_user(Role.officer, locale=Locale.ja)
    login(client, officer.email)
    today = tokyo_today(datetime.now(UTC))
    yesterday = today - timedelta(days=1)
    path = f"/officer/rulesets/{world.draft.id}/publish"
    response = post_form(client, path, {"effective_from": yesterday.isoformat()})
    assert response.status_code == 422
    day = f"{today.year}年{today.month}月{today.day}日"
    message = f"適用開始日は{day}より前の日付にはできません。"
    assert message in _field_errors(_page(response), "effective_from")


def test_every_edit_url_of_a_published_version_answers_409(
    app: Flask, officer_client: FlaskClient, world: World
) -> None:
    before, events = copy.deepcopy(world.published.document), _events()
    edits = [
        (m, p)
        for m, p in _urls(app, world, world.published.id)
        if p.startswith("/officer/rulesets/")
        and not p.endswith(("/export", "/copy", f"/{world.published.id}"))
    ]
    assert len(edits) >= 8
    for method, path in edits:
        if method == "GET":
            response = officer_client.get(path)
        else:
            data = _min_amount_form(rule_id="lead_vc_min") | _settings()
            response = post_form(officer_client, path, data | {"effective_from": "2099-01-01"})
        assert response.status_code == 409, (method, path)
    db.session.expire_all()
    stored = db.session.get(RuleSet, world.published.id)
    assert stored.document == before and stored.version == 1 and _events() == events


# ---- what Japanese users type, and messages in Japanese -------------------------------------


@pytest.fixture
def ja_client(client: FlaskClient, world: World) -> FlaskClient:
    login(client, make_user(Role.officer, locale=Locale.ja).email)
    return client


def _min_ratio_form(**changes: str) -> dict[str, str]:
    data = _min_amount_form(rule_id="vc_share", **NO_RELAXATION) | {
        "param_numerator": "vc_committed_total",
        "param_denominator": "eligible_cost",
        "param_ratio": "1/3",
        "relaxations-0-ratio": "",
    }
    return data | changes


@pytest.mark.parametrize(
    ("typed", "amount"),
    [
        ("１，０００", 1000),
        ("10億", 10**9),
        ("1,000万円", 10**7),
        ("¥500,000,000", 500_000_000),
        ("７億円", 7 * 10**8),
        ("7億5,000万", 750_000_000),
    ],
)
def test_the_rule_editor_reads_amounts_as_typed(
    officer_client: FlaskClient, world: World, typed: str, amount: int
) -> None:
    path = f"/officer/rulesets/{world.draft.id}/rules/new?type=min_amount"
    data = _min_amount_form(param_amount=typed, **{"relaxations-0-amount": "1,000万"})
    response = post_form(officer_client, path, data)
    assert response.status_code == 302, _all_errors(_page(response))
    added = rule(_document(world.draft.id), "cost_floor")
    assert added["params"]["amount"] == amount
    assert added["relaxations"][0]["params"] == {"amount": 10_000_000}


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("1000000000000000000000000", "金額が大きすぎます。"),
        ("1,0,0,0", "金額は円単位の整数で入力してください"),
        ("1.5", "円未満の端数があります。"),
    ],
)
def test_the_rule_editor_refuses_what_the_pool_form_refuses(
    ja_client: FlaskClient, world: World, typed: str, message: str
) -> None:
    before = copy.deepcopy(world.draft.document)
    path = f"/officer/rulesets/{world.draft.id}/rules/new?type=min_amount"
    response = post_form(ja_client, path, _min_amount_form(param_amount=typed))
    page = _page(response)
    assert response.status_code == 422
    assert message in _field_errors(page, "param_amount")
    assert _input_value(page, "param_amount") == typed
    assert _document(world.draft.id) == before


@pytest.mark.parametrize(
    ("typed", "stored"), [("２５％", "25%"), ("１／３", "1/3"), (" 0.25 ", "0.25")]
)
def test_ratios_in_full_width_are_stored_in_plain_characters(
    officer_client: FlaskClient, world: World, typed: str, stored: str
) -> None:
    path = f"/officer/rulesets/{world.draft.id}/rules/new?type=min_ratio"
    response = post_form(officer_client, path, _min_ratio_form(param_ratio=typed))
    assert response.status_code == 302, _all_errors(_page(response))
    assert rule(_document(world.draft.id), "vc_share")["params"]["ratio"] == stored


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"param_ratio": "1e3"}, "param_ratio", "比率として読めません: 「1e3」"),
        ({"param_ratio": "２５％x"}, "param_ratio", "比率として読めません: 「２５％x」"),
        ({"param_ratio": "1/0"}, "param_ratio", "比率「1/0」は0で割っています。"),
        ({"param_ratio": "-1/4"}, "param_ratio", "比率「-1/4」が負の値です。"),
        ({"rule_id": "lead_vc_min"}, "rule_id", "ルールの識別子「lead_vc_min」が重複しています。"),
        ({"rule_id": "Bad Id"}, "rule_id", "英小文字・数字・アンダースコア"),
        ({"label_ja": "下限\x00"}, "label_ja", "制御文字（U+0000）"),
        ({"label_en": "Tab\there"}, "label_en", "改行やタブは使えません"),
        (
            {"applies_when-0-value": "moon"},
            "applies_when-0-value",
            "「moon」はmodalityの値ではありません",
        ),
    ],
)
def test_the_rule_editor_explains_in_japanese(
    ja_client: FlaskClient, world: World, changes: dict[str, str], field: str, message: str
) -> None:
    before = copy.deepcopy(world.draft.document)
    path = f"/officer/rulesets/{world.draft.id}/rules/new?type=min_ratio"
    response = post_form(ja_client, path, _min_ratio_form(**changes))
    page = _page(response)
    assert response.status_code == 422
    errors = _field_errors(page, field)
    assert message in errors, _all_errors(page)
    assert not re.search(r"[A-Z][a-z]+ [a-z]+", errors), errors  # no English sentence left
    assert _document(world.draft.id) == before


def test_full_width_settings_are_read_and_duplicates_refused(
    ja_client: FlaskClient, world: World
) -> None:
    path = f"/officer/rulesets/{world.draft.id}/settings"
    typed = _settings(
        due_soon_days="３０、７",
        escalation_days="１４，３０",
        grace_days="３",
        max_extension_days="９０",
    )
    assert post_form(ja_client, path, typed).status_code == 302
    schedule = _document(world.draft.id)["schedule"]
    assert (schedule["due_soon_days"], schedule["escalation_days"]) == ([30, 7], [14, 30])
    assert schedule["grace_days"] == 3
    assert post_form(ja_client, path, _settings(escalation_days="ー")).status_code == 302
    assert _document(world.draft.id)["schedule"]["escalation_days"] == []


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"due_soon_days": "30,7,7"}, "due_soon_days", "同じ日数を重複して入力しないでください。"),
        ({"escalation_days": "3651"}, "escalation_days", "日数は0から3650までで入力してください。"),
        ({"escalation_days": "1" + "0" * 5000}, "escalation_days", "日数は0から3650まで"),
        ({"grace_days": "9223372036854775808"}, "grace_days", "0から3650までの整数を入力"),
        ({"grace_days": "9" * 5000}, "grace_days", "0から3650までの整数を入力"),
        ({"review_waiting_days": "3651"}, "review_waiting_days", "0から3650まで"),
        ({"max_extension_days": "３６５１"}, "max_extension_days", "0から3650まで"),
        ({"due_soon_days": "30, x"}, "due_soon_days", "日数は整数で"),
    ],
)
def test_settings_beyond_ten_years_or_repeated_are_refused_in_japanese(
    ja_client: FlaskClient, world: World, changes: dict[str, str], field: str, message: str
) -> None:
    before = copy.deepcopy(world.draft.document)
    path = f"/officer/rulesets/{world.draft.id}/settings"
    response = post_form(ja_client, path, _settings(**changes))
    page = _page(response)
    assert response.status_code == 422
    assert message in _field_errors(page, field), _all_errors(page)
    assert _input_value(page, field) == next(iter(changes.values()))
    assert _document(world.draft.id) == before


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            b'{"rules": [], "schedule": {"grace_days": 99999999999999999999999}}',
            "マイルストーンのスケジュール › 期限後の猶予期間（日）: "
            "0から3650までの整数で指定してください。",
        ),
        (
            b'{"rules": [], "schedule": {"grace_days": 1' + b"0" * 5000 + b"}}",
            "ファイルに桁数が多すぎて読み取れない数値が含まれています。",
        ),
        (b"[1, 2]", "<li>JSONオブジェクト（{ … }）である必要があります。</li>"),
        (b'{"rules": [], "extra": 1}', "extra: 不明な項目です。"),
        (b'{"schedule": {}}', "ルール: 必須の項目です。"),
        (
            b'{"rules": [], "schedule": {"due_soon_days": [30, 7, 7]}}',
            "同じ日数を重複して入力しないでください。",
        ),
    ],
)
def test_an_imported_file_is_explained_in_japanese(
    ja_client: FlaskClient, world: World, body: bytes, message: str
) -> None:
    response = _import(ja_client, world.program.id, body)
    assert response.status_code == 422
    errors = _field_errors(_page(response), "file")
    assert message in errors
    assert "int_max_str_digits" not in errors and "Exceeds the limit" not in errors
    assert db.session.query(RuleSet).count() == 2


def test_schema_errors_of_an_import_name_the_fields_in_japanese(
    ja_client: FlaskClient, world: World
) -> None:
    document = rulesets.preset_document("amed_certified_vc")
    document["rules"][3]["params"]["ratio"] = "1/0"
    document["rules"][4]["applies_when"] = {"stage": "phase9"}
    response = _import(ja_client, world.program.id, json.dumps(document).encode())
    errors = _field_errors(_page(response), "file")
    assert "ルール › 3 › パラメータ › 比率: 比率「1/0」は0で割っています。" in errors
    assert "ルール › 4 › 適用条件 › 開発段階: 「phase9」はstageの値ではありません" in errors


def test_condition_values_are_read_in_full_width_and_with_slashes(
    officer_client: FlaskClient, world: World
) -> None:
    path = f"/officer/rulesets/{world.draft.id}/rules/new?type=min_amount"
    data = _min_amount_form(**NO_RELAXATION, **{"relaxations-0-amount": ""}) | {
        "applies_when-0-fact": "submitted_on",
        "applies_when-0-op": "gte",
        "applies_when-0-value": "２０２６／０４／０１",
    }
    response = post_form(officer_client, path, data)
    assert response.status_code == 302, _all_errors(_page(response))
    assert rule(_document(world.draft.id), "cost_floor")["applies_when"] == {
        "submitted_on": {"gte": "2026-04-01"}
    }
    data |= {"rule_id": "cost_floor_2", "applies_when-0-fact": "eligible_cost"}
    data |= {"applies_when-0-value": "５億"}
    assert post_form(officer_client, path, data).status_code == 302
    assert rule(_document(world.draft.id), "cost_floor_2")["applies_when"] == {
        "eligible_cost": {"gte": 500_000_000}
    }
    data |= {"rule_id": "cost_floor_3", "applies_when-0-fact": "submitted_on"}
    data |= {"applies_when-0-value": "2026/02/30"}
    response = post_form(officer_client, path, data)
    assert response.status_code == 422
    assert "is not a date" in _field_errors(_page(response), "applies_when-0-value")
