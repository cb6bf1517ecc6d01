"""The funding rules engine: RuleSet documents, compiled once, evaluated per phase into Traces."""

from grants.rules.engine import CompiledRuleSet, Schedule, award_amount, compile_ruleset, evaluate
from grants.rules.facts import FACTS, MODALITIES, ORG_KINDS, STAGES, THEMES, Kind, VcCertification
from grants.rules.presets import amed_certified_vc, milestone_programme
from grants.rules.schema import RuleSetInvalid, validate_ruleset
from grants.rules.trace import AppliedRelaxation, Outcome, Phase, Severity, Trace, TraceRow
from grants.rules.whatif import Change, compare_traces, summarise

__all__ = [
    "FACTS",
    "MODALITIES",
    "ORG_KINDS",
    "STAGES",
    "THEMES",
    "AppliedRelaxation",
    "Change",
    "CompiledRuleSet",
    "Kind",
    "Outcome",
    "Phase",
    "RuleSetInvalid",
    "Schedule",
    "Severity",
    "Trace",
    "TraceRow",
    "VcCertification",
    "amed_certified_vc",
    "award_amount",
    "compare_traces",
    "compile_ruleset",
    "evaluate",
    "milestone_programme",
    "summarise",
    "validate_ruleset",
]
