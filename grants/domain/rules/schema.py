"""The RuleSet document schema. Errors name the field path, e.g.
{"rules": {"2": {"type": ["Unknown rule type 'foo'."]}}}.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from grants.domain.errors import RuleViolation
from grants.domain.rules.checks import RULE_TYPES
from grants.domain.rules.facts import normalise_value
from grants.domain.rules.params import Param, ParamKind
from grants.domain.rules.schema_fields import Condition, Count, FactName, IsoDate, Ratio, Yen
from grants.domain.rules.trace import Phase, Severity

DEFAULT_MAX_EXTENSION_DAYS = 180


class RuleSetInvalid(RuleViolation):
    """The document breaks the schema; `fields` holds the messages by field path."""

    code = "ruleset_invalid"


class _ParamsSchema(Schema):
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
            errors[index] = [str(error)]
    if not errors:
        return {}
    return {key: errors[0] if single else errors}


def _param_field(param: Param) -> fields.Field:
    required = {"required": True} if param.default is None else {"load_default": param.default}
    kind = param.kind
    if kind is ParamKind.FACT:
        return FactName(kinds=param.fact_kinds, **required)
    if kind is ParamKind.CHOICE:
        return fields.String(validate=validate.OneOf(param.choices), **required)
    if kind is ParamKind.COUNT:
        return Count(minimum=param.minimum, **required)
    if kind is ParamKind.VALUES:
        return fields.List(fields.Raw(), validate=validate.Length(min=1), **required)
    simple = {ParamKind.AMOUNT: Yen, ParamKind.RATIO: Ratio, ParamKind.DATE: IsoDate}
    return simple.get(kind, fields.Raw)(**required)


PARAM_SCHEMAS: dict[str, Schema] = {
    name: _ParamsSchema.from_dict(
        {key: _param_field(param) for key, param in rule_type.params.items()},
        name=f"{name}_params",
    )()
    for name, rule_type in RULE_TYPES.items()
}


class LabelSchema(Schema):
    ja = fields.String(required=True, validate=validate.Length(min=1))
    en = fields.String(required=True, validate=validate.Length(min=1))


class RelaxationSchema(Schema):
    when = Condition(required=True)
    params = fields.Dict(keys=fields.String(), required=True)
    label = fields.Nested(LabelSchema, load_default=None)


class RuleSchema(Schema):
    id = fields.String(
        required=True,
        validate=validate.Regexp(
            r"^[a-z][a-z0-9_]{0,63}$",
            error="Use lowercase letters, digits and underscores, starting with a letter.",
        ),
    )
    phase = fields.String(
        required=True, validate=validate.OneOf(list(Phase), error="Unknown phase '{input}'.")
    )
    type = fields.String(
        required=True,
        validate=validate.OneOf(list(RULE_TYPES), error="Unknown rule type '{input}'."),
    )
    severity = fields.String(
        load_default=Severity.BLOCK.value,
        validate=validate.OneOf(list(Severity), error="Unknown severity '{input}'."),
    )
    params = fields.Dict(keys=fields.String(), load_default=dict)
    applies_when = Condition(load_default=dict)
    relaxations = fields.List(fields.Nested(RelaxationSchema), load_default=list)
    label = fields.Nested(LabelSchema, load_default=None)

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


class ScheduleSchema(Schema):
    """Overrides of the installation's alert offsets: an absent key stays absent and means
    the configured default (the scan completes the section; see services.alerts_scan)."""

    due_soon_days = fields.List(Count())
    grace_days = Count()
    escalation_days = fields.List(Count())
    review_waiting_days = Count()
    tranche_waiting_days = Count()


class AmendmentsSchema(Schema):
    max_extension_days = Count(load_default=DEFAULT_MAX_EXTENSION_DAYS)


class RuleSetSchema(Schema):
    rules = fields.List(fields.Nested(RuleSchema), required=True)
    schedule = fields.Nested(ScheduleSchema, required=True)
    amendments = fields.Nested(AmendmentsSchema, required=True)

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
                errors[index] = {"id": [f"Duplicate rule id '{rule_id}'."]}
            seen.add(rule_id)
        if errors:
            raise ValidationError({"rules": errors})


_RULESET_SCHEMA = RuleSetSchema()


def validate_ruleset(document: Any) -> dict[str, Any]:
    """The normalised (defaults filled in, JSON-safe) document; raises RuleSetInvalid.

    The "schedule" section keeps only the keys the document sets: the others are the
    installation's configured defaults, which the pure domain does not know.
    """
    if not isinstance(document, Mapping):
        raise RuleSetInvalid("The rule set is invalid.", {"_schema": ["Expected an object."]})
    try:
        return _RULESET_SCHEMA.load({"schedule": {}, "amendments": {}, **document})
    except ValidationError as error:
        raise RuleSetInvalid("The rule set is invalid.", _json_keys(error.messages)) from None


def _json_keys(messages: Any) -> Any:
    """List indices become strings, as the messages read once stored as JSON."""
    if isinstance(messages, dict):
        return {str(key): _json_keys(value) for key, value in messages.items()}
    return messages
