"""The result of evaluating one phase: a row per rule, JSON round-trippable.

Messages render on first access, so evaluating many applications stays cheap; a trace
loaded from JSON keeps the messages it was stored with.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from grants.rules.messages import render

if TYPE_CHECKING:
    from grants.rules.params import Variant

Label = Mapping[str, str]


class Phase(StrEnum):
    ELIGIBILITY = "eligibility"
    AWARD = "award"
    TRANCHE_GATES = "tranche_gates"


class Severity(StrEnum):
    BLOCK = "block"
    WARN = "warn"


class Outcome(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    WARN = "warn"
    SKIPPED = "skipped"


@dataclass(frozen=True, slots=True)
class AppliedRelaxation:
    index: int
    label: Label | None = None


@dataclass(slots=True)
class TraceRow:
    rule_id: str
    rule_type: str
    severity: Severity
    outcome: Outcome
    compared: dict[str, Any]
    relaxation: AppliedRelaxation | None = None
    label: Label | None = None
    missing: tuple[str, ...] = ()
    _message: dict[str, str] | None = field(default=None, repr=False, compare=False)

    @property
    def message(self) -> dict[str, str]:
        """{"ja": ..., "en": ...} describing what was compared."""
        if self._message is None:
            self._message = render(self)
        return self._message

    def to_dict(self) -> dict[str, Any]:
        relaxation = self.relaxation
        return {
            "rule_id": self.rule_id,
            "rule_type": self.rule_type,
            "severity": str(self.severity),
            "outcome": str(self.outcome),
            "compared": dict(self.compared),
            "relaxation": None
            if relaxation is None
            else {"index": relaxation.index, "label": relaxation.label},
            "label": self.label,
            "missing": list(self.missing),
            "message": self.message,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TraceRow:
        relaxation = data.get("relaxation")
        return cls(
            rule_id=data["rule_id"],
            rule_type=data["rule_type"],
            severity=Severity(data["severity"]),
            outcome=Outcome(data["outcome"]),
            compared=dict(data["compared"]),
            relaxation=None
            if relaxation is None
            else AppliedRelaxation(relaxation["index"], relaxation.get("label")),
            label=data.get("label"),
            missing=tuple(data.get("missing", ())),
            _message=data.get("message"),
        )


@dataclass(frozen=True, slots=True)
class RuleInfo:
    """What a trace row repeats about its rule."""

    id: str
    type: str
    severity: Severity
    label: Label | None


_first = itemgetter(0)
_new_trace = object.__new__
# Enum members, looked up once: reading Outcome.FAIL costs an attribute lookup on the class.
_FAIL, _WARN, _SKIPPED = Outcome.FAIL, Outcome.WARN, Outcome.SKIPPED
_OUTCOMES = {True: Outcome.PASS, False: _FAIL}


class Trace:
    """Rows for one phase. Built by the engine from raw checker results, which become
    TraceRows only when first read: deciding `ok` for many applications stays cheap.

    A raw result is (passed, raw, variant) as a checker returns it (see params.py), where
    passed is True, False, Outcome.WARN (a failed warn rule), Outcome.SKIPPED or None
    (a missing fact, which fails).
    """

    __slots__ = ("phase", "_rows", "_rules", "_results", "_ok")

    def __init__(self, phase: Phase, rows: list[TraceRow]) -> None:
        self.phase = phase
        self._rows: list[TraceRow] | None = rows
        self._rules: tuple[RuleInfo, ...] = ()
        self._results: list[tuple[Any, ...]] = []
        self._ok = all(row.outcome is not _FAIL for row in rows)

    @property
    def rows(self) -> list[TraceRow]:
        if self._rows is None:
            self._rows = list(map(_row, self._rules, self._results))
        return self._rows

    @property
    def ok(self) -> bool:
        """No rule blocks (warnings and skipped rules do not)."""
        return self._ok

    @property
    def blocking(self) -> list[TraceRow]:
        return [row for row in self.rows if row.outcome is _FAIL]

    @property
    def warnings(self) -> list[TraceRow]:
        return [row for row in self.rows if row.outcome is _WARN]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Trace):
            return NotImplemented
        return self.phase == other.phase and self.rows == other.rows

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Trace(phase={self.phase!r}, rows={self.rows!r})"

    def to_dict(self) -> dict[str, Any]:
        return {"phase": str(self.phase), "ok": self.ok, "rows": [r.to_dict() for r in self.rows]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Trace:
        return cls(Phase(data["phase"]), [TraceRow.from_dict(row) for row in data["rows"]])


def trace_from_results(
    phase: Phase, rules: tuple[RuleInfo, ...], results: list[tuple[Any, ...]]
) -> Trace:
    """A Trace whose rows are built from the checkers' raw results when first read."""
    trace = _new_trace(Trace)
    trace.phase = phase
    trace._rows = None
    trace._rules = rules
    trace._results = results
    trace._ok = all(map(_first, results))
    return trace


def _row(rule: RuleInfo, result: tuple[Any, Any, Variant | None]) -> TraceRow:
    passed, raw, variant = result
    relaxation = None if variant is None else variant.relaxation
    compared: dict[str, Any] = {}
    missing: tuple[str, ...] = ()
    if passed is None:
        outcome, missing = _FAIL, raw
    elif passed is _SKIPPED:
        outcome = passed
    else:
        outcome = _OUTCOMES.get(passed, passed)
        compared = variant.compared(raw)  # type: ignore[union-attr]
    return TraceRow(
        rule.id, rule.type, rule.severity, outcome, compared, relaxation, rule.label, missing
    )
