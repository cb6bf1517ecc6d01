"""The funding rules engine: RuleSet documents, compiled once, evaluated per phase into Traces."""

from grants.domain.rules.engine import (
    CompiledRuleSet,
    Schedule,
    award_amount,
    compile_ruleset,
    evaluate,
)
from grants.domain.rules.facts import (
    FACTS,
    MODALITIES,
    ORG_KINDS,
    STAGES,
    THEMES,
    Kind,
    VcCertification,
)
from grants.domain.rules.presets import amed_certified_vc, milestone_programme
from grants.domain.rules.schema import RuleSetInvalid, validate_ruleset
from grants.domain.rules.trace import (
    AppliedRelaxation,
    Outcome,
    Phase,
    Severity,
    Trace,
    TraceRow,
)
from grants.domain.rules.whatif import Change, compare_traces, summarise

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
