"""The RuleSet document schema. Errors name the field path, e.g.
{"rules": {"2": {"type": ["Unknown rule type 'foo'."]}}}.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from marshmallow import ValidationError, fields, post_load, validate, validates_schema

from grants.core.errors import RuleViolation
from grants.core.money import parse_ratio
from grants.core.problems import N_, Problem, problem_of
from grants.core.text import control_problem
from grants.rules.checks import RULE_TYPES
from grants.rules.facts import COUNT_MAX, ORG_KINDS, normalise_value
from grants.rules.params import Param, ParamKind
from grants.rules.rubric import RubricSchema
from grants.rules.schema_fields import (
    Condition,
    Count,
    Dict,
    DocumentSchema,
    FactName,
    IsoDate,
    List,
    Nested,
    Ratio,
    Raw,
    String,
    Yen,
)
from grants.rules.settlement import FundType, PaymentMode, PeriodKind, default_section
from grants.rules.trace import Phase, Severity

DEFAULT_MAX_EXTENSION_DAYS = 180
# The longest offset a schedule or an amendment counts in days (ten years): beyond it the
# scan's date arithmetic would leave the calendar.
DAYS_MAX = 3650
_INVALID = N_("The rule set is invalid.")


class RuleSetInvalid(RuleViolation):
    """The document breaks the schema; `fields` holds the messages by field path."""

    code = "ruleset_invalid"


class _ParamsSchema(DocumentSchema):
    """Base of the per-rule-type parameter schemas: checks value(s) against the rule's fact."""

    @validates_schema
    def _values_fit_fact(self, data: dict[str, Any], **kwargs: Any) -> None:
        errors: dict[str, Any] = {}
        if "value" in data:
            errors |= _value_errors(data["fact"], "value", [data["value"]], single=True)
        if "values" in data:
            errors |= _value_errors(data["fact"], "values", data["values"], single=False)
        if errors:
            raise ValidationError(errors)

    @post_load
    def _normalise_values(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        if "value" in data:
            data["value"] = normalise_value(data["fact"], data["value"])
        if "values" in data:
            data["values"] = [normalise_value(data["fact"], item) for item in data["values"]]
        return data


def _value_errors(fact: str, key: str, values: list[Any], single: bool) -> dict[str, Any]:
    errors: dict[int, list[str]] = {}
    for index, value in enumerate(values):
        try:
            normalise_value(fact, value)
        except ValueError as error:
            errors[index] = [problem_of(error)]
    if not errors:
        return {}
    return {key: errors[0] if single else errors}


def _param_field(param: Param) -> fields.Field:
    required = {"required": True} if param.default is None else {"load_default": param.default}
    kind = param.kind
    if kind is ParamKind.FACT:
        return FactName(kinds=param.fact_kinds, **required)
    if kind is ParamKind.CHOICE:
        one_of = validate.OneOf(param.choices, error=N_("Must be one of: %(choices)s."))
        return String(validate=one_of, **required)
    if kind is ParamKind.COUNT:
        return Count(minimum=param.minimum, maximum=COUNT_MAX, **required)
    if kind is ParamKind.VALUES:
        at_least_one = validate.Length(min=1, error=N_("Give at least one value."))
        return List(Raw(), validate=at_least_one, **required)
    simple = {ParamKind.AMOUNT: Yen, ParamKind.RATIO: Ratio, ParamKind.DATE: IsoDate}
    return simple.get(kind, Raw)(**required)


PARAM_SCHEMAS: dict[str, _ParamsSchema] = {
    name: _ParamsSchema.from_dict(
        {key: _param_field(param) for key, param in rule_type.params.items()},
        name=f"{name}_params",
    )()
    for name, rule_type in RULE_TYPES.items()
}


def _label_text(text: str) -> None:
    if not text:
        raise ValidationError(N_("Give the label."))
    if problem := control_problem(text):
        raise ValidationError(problem)


class LabelSchema(DocumentSchema):
    ja = String(required=True, validate=_label_text)
    en = String(required=True, validate=_label_text)


class RelaxationSchema(DocumentSchema):
    when = Condition(required=True)
    params = Dict(keys=String(), required=True)
    label = Nested(LabelSchema, load_default=None)


class RuleSchema(DocumentSchema):
    id = String(
        required=True,
        validate=validate.Regexp(
            r"^[a-z][a-z0-9_]{0,63}$",
            error=N_("Use lowercase letters, digits and underscores, starting with a letter."),
        ),
    )
    phase = String(
        required=True,
        validate=validate.OneOf(list(Phase), error=N_("Unknown phase '%(input)s'.")),
    )
    type = String(
        required=True,
        validate=validate.OneOf(list(RULE_TYPES), error=N_("Unknown rule type '%(input)s'.")),
    )
    severity = String(
        load_default=Severity.BLOCK.value,
        validate=validate.OneOf(list(Severity), error=N_("Unknown severity '%(input)s'.")),
    )
    params = Dict(keys=String(), load_default=dict)
    applies_when = Condition(load_default=dict)
    relaxations = List(Nested(RelaxationSchema), load_default=list)
    label = Nested(LabelSchema, load_default=None)

    @validates_schema(pass_original=True, skip_on_field_errors=False)
    def _params_fit_type(self, data: dict[str, Any], original: Any, **kwargs: Any) -> None:
        schema = PARAM_SCHEMAS.get(data.get("type", ""))
        base = original.get("params", {}) if isinstance(original, Mapping) else None
        if schema is None or not isinstance(base, Mapping):
            return
        errors = schema.validate(base)
        if errors:
            raise ValidationError({"params": errors})
        relaxation_errors = {
            index: {"params": errors}
            for index, params in enumerate(_relaxation_params(original))
            if params is not None and (errors := schema.validate({**base, **params}))
        }
        if relaxation_errors:
            raise ValidationError({"relaxations": relaxation_errors})

    @post_load
    def _normalise_params(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        schema = PARAM_SCHEMAS[data["type"]]
        base = data["params"]
        data["params"] = schema.load(base)
        for relaxation in data["relaxations"]:
            merged = schema.load({**base, **relaxation["params"]})
            relaxation["params"] = {key: merged[key] for key in relaxation["params"]}
        return data


def _relaxation_params(original: Mapping[str, Any]) -> list[Mapping[str, Any] | None]:
    relaxations = original.get("relaxations", [])
    if not isinstance(relaxations, list):
        return []
    return [
        item["params"]
        if isinstance(item, Mapping) and isinstance(item.get("params"), Mapping)
        else None
        for item in relaxations
    ]


def _distinct(days: list[int]) -> None:
    if len(set(days)) != len(days):
        raise ValidationError(N_("Give each number of days once."))


def _days_list() -> fields.Field:
    return List(Count(maximum=DAYS_MAX), validate=_distinct)


class ScheduleSchema(DocumentSchema):
    """Overrides of the installation's alert offsets: an absent key stays absent and means
    the configured default (the scan completes the section; see alerts.scan.service)."""

    due_soon_days = _days_list()
    grace_days = Count(maximum=DAYS_MAX)
    escalation_days = _days_list()
    review_waiting_days = Count(maximum=DAYS_MAX)
    tranche_waiting_days = Count(maximum=DAYS_MAX)


def _every_org_kind(caps: dict[str, Any]) -> None:
    if missing := [kind for kind in ORG_KINDS if kind not in caps]:
        raise ValidationError(N_("Give a cap for: %(kinds)s.", kinds=", ".join(missing)))


def _one_of(choices: type[StrEnum]) -> validate.OneOf:
    return validate.OneOf(list(choices), error=N_("Must be one of: %(choices)s."))


class AmendmentsSchema(DocumentSchema):
    max_extension_days = Count(maximum=DAYS_MAX, load_default=DEFAULT_MAX_EXTENSION_DAYS)


def _share(text: str) -> None:
    """A rate or cap from 0 to 1 (100%)."""
    if parse_ratio(text) > 1:
        raise ValidationError(N_("Give a share of at most 100%."))


class CategorySchema(DocumentSchema):
    code = String(
        required=True,
        validate=validate.Regexp(
            r"^[a-z][a-z0-9_]{0,39}$",
            error=N_("Use lowercase letters, digits and underscores, starting with a letter."),
        ),
    )
    ja = String(required=True, validate=_label_text)
    en = String(required=True, validate=_label_text)


def _categories(items: list[dict[str, Any]]) -> None:
    if not items:
        raise ValidationError(N_("Give at least one cost category."))
    codes = [item["code"] for item in items]
    if len(set(codes)) != len(codes):
        raise ValidationError(N_("Give each category code once."))


_DEFAULTS = default_section()


class SettlementSchema(DocumentSchema):
    """How a period's results report becomes its final amount (grants.rules.settlement)."""

    subsidy_rate = Ratio(load_default=_DEFAULTS["subsidy_rate"], validate=_share)
    indirect_caps = Dict(
        keys=String(validate=validate.OneOf(ORG_KINDS, error=N_("Unknown organisation type."))),
        values=Ratio(validate=_share),
        load_default=lambda: default_section()["indirect_caps"],
        validate=_every_org_kind,
    )
    categories = List(
        Nested(CategorySchema),
        load_default=lambda: default_section()["categories"],
        validate=_categories,
    )
    period = String(load_default=_DEFAULTS["period"], validate=_one_of(PeriodKind))
    payment = String(load_default=_DEFAULTS["payment"], validate=_one_of(PaymentMode))
    fund = String(load_default=_DEFAULTS["fund"], validate=_one_of(FundType))
    report_due_days = Count(minimum=1, maximum=DAYS_MAX, load_default=_DEFAULTS["report_due_days"])
    return_due_days = Count(minimum=1, maximum=DAYS_MAX, load_default=_DEFAULTS["return_due_days"])


class RuleSetSchema(DocumentSchema):
    rules = List(Nested(RuleSchema), required=True)
    schedule = Nested(ScheduleSchema, required=True)
    amendments = Nested(AmendmentsSchema, required=True)
    settlement = Nested(SettlementSchema, required=True)
    rubric = Nested(RubricSchema, allow_none=True)  # merit review (rules.rubric); optional

    @validates_schema(pass_original=True, skip_on_field_errors=False)
    def _unique_ids(self, data: dict[str, Any], original: Any, **kwargs: Any) -> None:
        rules = original.get("rules") if isinstance(original, Mapping) else None
        seen: set[str] = set()
        errors: dict[int, Any] = {}
        for index, rule in enumerate(rules if isinstance(rules, list) else []):
            rule_id = rule.get("id") if isinstance(rule, Mapping) else None
            if not isinstance(rule_id, str):
                continue
            if rule_id in seen:
                errors[index] = {"id": [duplicate_id(rule_id)]}
            seen.add(rule_id)
        if errors:
            raise ValidationError({"rules": errors})


_RULESET_SCHEMA = RuleSetSchema()


def duplicate_id(rule_id: str) -> Problem:
    return N_("Duplicate rule id '%(id)s'.", id=rule_id)


def validate_ruleset(document: Any) -> dict[str, Any]:
    """The normalised (defaults filled in, JSON-safe) document; raises RuleSetInvalid.

    A document without a "settlement" section gets the default one (rules.settlement).
    The "schedule" section keeps only the keys the document sets: the others are the
    installation's configured defaults, which the pure domain does not know.
    """
    if not isinstance(document, Mapping):
        raise RuleSetInvalid(_INVALID, {"_schema": [N_("Expected an object.")]})
    try:
        return _RULESET_SCHEMA.load(
            {"schedule": {}, "amendments": {}, "settlement": {}, **document}
        )
    except ValidationError as error:
        raise RuleSetInvalid(_INVALID, _json_keys(error.messages)) from None


def _json_keys(messages: Any) -> Any:
    """List indices become strings, as the messages read once stored as JSON."""
    if isinstance(messages, dict):
        return {str(key): _json_keys(value) for key, value in messages.items()}
    return messages
