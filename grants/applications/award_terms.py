"""What awarding an application would give under a rule set: the amount by the award rules
(rounded down, capped) and the refusals of the rules that block it.

The award use case (awards.service) decides with it; the merit review's ranking counts the
same amounts against the budget pools before anything is awarded (merit_review).
"""

from __future__ import annotations

from datetime import date

from grants.accounts.certified_vcs.models import VcCertification
from grants.applications.facts import application_facts, certifications_by_vc
from grants.applications.models import Application
from grants.core.problems import N_, Problem
from grants.rules import Trace, TraceRow, award_amount
from grants.rules.checks import UPPER_BOUNDS
from grants.rulesets import service as rulesets
from grants.rulesets.models import RuleSet


def computed(
    application: Application,
    ruleset: RuleSet,
    today: date,
    certs: dict[int, list[VcCertification]] | None = None,
) -> tuple[int, Trace]:
    """The award amount and its trace; `certs`: the investors' certifications, when read
    for many applications at once (else read for this one)."""
    if certs is None:
        certs = certifications_by_vc(ci.vc_organization_id for ci in application.co_investments)
    facts = application_facts(application, today, certs)
    return award_amount(rulesets.compiled(ruleset), facts)


class RuleRefusal(str):
    """A failing award rule's message: English as a str, and said again in the reader's
    language where it is shown (the trace row carries both; its rule id when it has none)."""

    row: TraceRow

    def __new__(cls, row: TraceRow) -> RuleRefusal:
        refusal = super().__new__(cls, row.message.get("en", row.rule_id))
        refusal.row = row
        return refusal

    def __getnewargs__(self) -> tuple[TraceRow]:  # type: ignore[override]
        return (self.row,)

    def localised(self, locale: str) -> str:
        return self.row.message.get(locale, self.row.rule_id)


def refusals(trace: Trace, amount: int) -> list[Problem | RuleRefusal]:
    """Why the award rules refuse the application (empty when they allow it)."""
    reasons: list[Problem | RuleRefusal] = [
        RuleRefusal(row) for row in trace.blocking if not _is_cap(row)
    ]
    if not reasons and amount <= 0:
        reasons.append(N_("The award amount comes to zero."))
    return reasons


def _is_cap(row: TraceRow) -> bool:
    """A failed upper bound on the requested subsidy only lowers the amount."""
    return row.rule_type in UPPER_BOUNDS and row.compared.get("fact") == "requested_subsidy"
