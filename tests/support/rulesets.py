"""Programmes and rule set drafts for tests of the rule editor."""

from __future__ import annotations

import itertools
from datetime import date
from html.parser import HTMLParser
from typing import Any

from grants.accounts.models import User
from grants.core.identity import Role
from grants.extensions import db
from grants.programs.models import Program
from grants.rulesets import service as rulesets
from grants.rulesets.models import RuleSet
from tests.support.factories import make_user

TODAY = date(2026, 5, 1)
_codes = itertools.count(1)


def make_program(code: str | None = None) -> Program:
    program = Program(
        code=code or f"RS-{next(_codes)}",
        name_ja="ルール試験プログラム",
        name_en="Rules test programme",
        application_opens=date(2026, 4, 1),
        application_closes=date(2027, 3, 31),
        end_date=date(2031, 9, 30),
        themes=["rare_disease", "amr"],
        modalities=["drug"],
    )
    db.session.add(program)
    db.session.commit()
    return program


def make_officer() -> User:
    return make_user(Role.officer)


def make_draft(
    program: Program, officer: User, preset: str = "amed_certified_vc", title: str = "草案"
) -> RuleSet:
    return rulesets.create_draft(officer, program.id, title, rulesets.preset_document(preset))


def publish_new(
    program: Program, officer: User, effective_from: date, today: date = TODAY
) -> RuleSet:
    """A fresh draft from the AMED preset, published from `effective_from`."""
    draft = make_draft(program, officer)
    return rulesets.publish(officer, draft.id, effective_from, today)


def rule(document: dict[str, Any], rule_id: str) -> dict[str, Any]:
    return next(r for r in document["rules"] if r["id"] == rule_id)


def min_amount_rule(rule_id: str = "eligible_cost_min", amount: int = 50_000_000) -> dict[str, Any]:
    return {
        "id": rule_id,
        "phase": "eligibility",
        "type": "min_amount",
        "severity": "block",
        "params": {"fact": "eligible_cost", "amount": amount},
        "label": {"ja": "補助対象経費の下限", "en": "Minimum eligible cost"},
    }


class _FormReader(HTMLParser):
    """The values a browser would send for the first form with method=post and a given action."""

    def __init__(self, action: str) -> None:
        super().__init__()
        self.action, self.inside, self.select = action, False, None
        self.values: dict[str, list[str]] = {}
        self.first_option: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {key: value or "" for key, value in attrs}
        if tag == "form":
            self.inside = a.get("method") == "post" and a.get("action", "").startswith(self.action)
        elif not self.inside:
            return
        elif tag == "input" and a.get("type") not in ("submit", "file"):
            if a.get("type") != "checkbox" or "checked" in a:
                self.values.setdefault(a["name"], []).append(a.get("value", ""))
        elif tag == "select":
            self.select = a["name"]
        elif tag == "option" and self.select:
            self.first_option.setdefault(self.select, a.get("value", ""))
            if "selected" in a:
                self.values.setdefault(self.select, []).append(a.get("value", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select" and self.select:
            if self.select not in self.values:
                self.values[self.select] = [self.first_option.get(self.select, "")]
            self.select = None


def form_values(page: str, action: str) -> dict[str, list[str]]:
    reader = _FormReader(action)
    reader.feed(page)
    return reader.values
