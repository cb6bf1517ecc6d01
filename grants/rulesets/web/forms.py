"""The rule editor's form, built per rule type from its parameter spec, so that an officer
never writes JSON: a rule dict from the form, form data from a rule, and the schema's
field errors put back beside the fields they concern.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import (
    Field,
    FieldList,
    FormField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from grants.core.http.forms import DayField, Form, SubForm, WholeNumberField, YenField
from grants.core.money import parse_yen
from grants.core.problems import problem_of
from grants.core.text import figure
from grants.rules.checks import RULE_TYPES
from grants.rules.facts import COUNT_MAX, FACTS, Kind, fact_label
from grants.rules.params import Param, ParamKind
from grants.rulesets.web.errors import add_error, has_errors
from grants.rulesets.web.text import (
    choice_labels,
    locale,
    operator_labels,
    param_label,
    phase_labels,
    severity_labels,
    value_labels,
)

WHEN_ROWS = 1
RELAXATION_ROWS = 3
CONDITION_KINDS = tuple(kind for kind in Kind if kind is not Kind.VCS)
GATE_TYPES = ("prior_milestones_approved", "review_quorum", "within_budget_pool")
_SPLIT = re.compile(r"[,、\s]+")
_BOOLS = {"true": True, "yes": True, "はい": True, "false": False, "no": False, "いいえ": False}


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class RuleForm(Form):
    rule_id = StringField(
        _l("Identifier"),
        validators=[DataRequired(), Length(max=64)],
        description=_l("Lowercase letters, digits and underscores, e.g. lead_vc_min."),
    )
    label_ja = StringField(_l("Label (Japanese)"), validators=[DataRequired(), Length(max=200)])
    label_en = StringField(_l("Label (English)"), validators=[DataRequired(), Length(max=200)])
    phase = SelectField(_l("Phase"))
    severity = SelectField(_l("Severity"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.phase.choices = list(phase_labels().items())
        self.severity.choices = list(severity_labels().items())


@dataclass(frozen=True)
class Layout:
    """What a rule form holds: the type's fields, and enough rows for the rule being edited."""

    rule_type: str
    value_fact: str | None  # the fact whose values the `value` / `values` parameters take
    relaxable: tuple[str, ...]
    when_rows: int = WHEN_ROWS
    relaxation_rows: int = RELAXATION_ROWS
    relaxation_when_rows: int = WHEN_ROWS

    @property
    def spec(self) -> Mapping[str, Param]:
        return RULE_TYPES[self.rule_type].params


def layout(rule_type: str, stored: Mapping[str, Any] | None, fact: str | None) -> Layout:
    """The layout for `rule_type`; `fact` is the fact picked in the form, if any."""
    spec = RULE_TYPES[rule_type].params
    stored = stored or {}
    relaxations = stored.get("relaxations") or []
    replaced = {key for relaxation in relaxations for key in relaxation["params"]}
    relaxable = tuple(n for n, p in spec.items() if p.kind is not ParamKind.FACT or n in replaced)
    value_fact = None
    if any(p.kind in (ParamKind.VALUE, ParamKind.VALUES) for p in spec.values()):
        names = [name for name, _label in fact_choices(spec["fact"].fact_kinds)]
        wanted = fact or stored.get("params", {}).get("fact")
        value_fact = wanted if wanted in names else names[0]
    when_counts = [len(condition_rows(r["when"])) for r in relaxations]
    return Layout(
        rule_type,
        value_fact,
        relaxable,
        when_rows=max(WHEN_ROWS, len(condition_rows(stored.get("applies_when") or {}))),
        relaxation_rows=max(RELAXATION_ROWS, len(relaxations)) if relaxable else 0,
        relaxation_when_rows=max([WHEN_ROWS, *when_counts]),
    )


def fact_choices(kinds: Iterable[Kind]) -> list[tuple[str, str]]:
    wanted = set(kinds)
    return [(n, fact_label(n, locale())) for n, spec in FACTS.items() if spec.kind in wanted]


def options(pairs: Iterable[tuple[str, str]]) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


def rule_form_class(lay: Layout) -> type[RuleForm]:
    attrs: dict[str, Any] = {
        f"param_{name}": _param_field(name, param, lay.value_fact, optional=False)
        for name, param in lay.spec.items()
    }
    attrs["applies_when"] = FieldList(
        FormField(_condition_form(_("(always)"))), min_entries=lay.when_rows
    )
    if lay.relaxable:
        relaxation: dict[str, Any] = {
            name: _param_field(name, lay.spec[name], lay.value_fact, optional=True)
            for name in lay.relaxable
        }
        relaxation["when"] = FieldList(
            FormField(_condition_form(_("(none)"))), min_entries=lay.relaxation_when_rows
        )
        relaxation["label_ja"] = StringField(_l("Label (Japanese)"), [Optional(), Length(max=200)])
        relaxation["label_en"] = StringField(_l("Label (English)"), [Optional(), Length(max=200)])
        attrs["relaxations"] = FieldList(
            FormField(type("RelaxationForm", (SubForm,), relaxation)),
            min_entries=lay.relaxation_rows,
            max_entries=lay.relaxation_rows,
        )
    return type(f"RuleForm_{lay.rule_type}", (RuleForm,), attrs)


def _condition_form(blank: str) -> type[SubForm]:
    facts = [("", blank), *fact_choices(CONDITION_KINDS)]
    help_text = _l("Separate several values with commas; write amounts without separators.")
    fields = {
        "fact": SelectField(_l("Fact"), choices=options(facts), default=""),
        "op": SelectField(_l("Test"), choices=options(operator_labels().items()), default="eq"),
        "value": StringField(_l("Value(s)"), [Length(max=500)], description=help_text),
    }
    return type("ConditionForm", (SubForm,), fields)


def _param_field(name: str, param: Param, value_fact: str | None, optional: bool) -> Field:
    label = param_label(name)
    required = [Optional()] if optional else [InputRequired()]
    blank = [("", _("(unchanged)"))] if optional else []
    default = "" if optional else param.default
    kind = param.kind
    if kind is ParamKind.FACT:
        return SelectField(
            label, choices=options(blank + fact_choices(param.fact_kinds)), default=default
        )
    if kind is ParamKind.CHOICE:
        named = choice_labels(name)
        choices = [(choice, named.get(choice, choice)) for choice in param.choices]
        return SelectField(label, choices=options(blank + choices), default=default)
    if kind is ParamKind.AMOUNT:
        return YenField(label, required)
    if kind is ParamKind.RATIO:
        return StringField(label, required, description=_l("For example 1/3, 0.25 or 25%."))
    if kind is ParamKind.DATE:
        return DayField(label, required)
    if kind is ParamKind.COUNT:
        return WholeNumberField(label, required, minimum=param.minimum, maximum=COUNT_MAX)
    labels = value_labels(value_fact or "")
    if labels is not None:
        if kind is ParamKind.VALUE:
            return SelectField(
                label, choices=options(blank + list(labels.items())), default=default
            )
        return MultiCheckboxField(label, choices=options(labels.items()))
    if kind is ParamKind.VALUES:
        help_text = _l("Separate several values with commas; write amounts without separators.")
        return StringField(label, required, description=help_text)
    return StringField(label, required)


# ---- form -> rule ---------------------------------------------------------------------------


def form_to_rule(form: RuleForm, lay: Layout) -> tuple[dict[str, Any], list[int]]:
    """The rule the form describes, and which form row each relaxation came from.

    Conversion problems are added to the fields' errors (see `any_errors`).
    """
    rule: dict[str, Any] = {
        "id": (form.rule_id.data or "").strip(),
        "phase": form.phase.data,
        "type": lay.rule_type,
        "severity": form.severity.data,
        "params": _params(form, lay, "param_", lay.spec, optional=False),
        "applies_when": _condition(form.applies_when),
        "label": {
            "ja": (form.label_ja.data or "").strip(),
            "en": (form.label_en.data or "").strip(),
        },
    }
    relaxations, positions = [], []
    for position, entry in enumerate(form.relaxations if lay.relaxable else []):
        relaxation = _relaxation(entry.form, lay)
        if relaxation is not None:
            relaxations.append(relaxation)
            positions.append(position)
    rule["relaxations"] = relaxations
    return rule, positions


def _params(
    form: SubForm | RuleForm, lay: Layout, prefix: str, names: Iterable[str], optional: bool
) -> dict[str, Any]:
    params = {}
    for name in names:
        field = form[f"{prefix}{name}"]
        if optional and field.data in (None, "", []):
            continue
        try:
            params[name] = _param_value(field.data, lay.spec[name], lay.value_fact)
        except ValueError as error:
            add_error(field, problem_of(error))
    return params


def _param_value(data: Any, param: Param, value_fact: str | None) -> Any:
    kind = param.kind
    if kind is ParamKind.AMOUNT:
        return parse_yen(data or "")
    if kind is ParamKind.RATIO:
        return (data or "").strip()
    if kind is ParamKind.DATE:
        return data.isoformat()
    if kind is ParamKind.VALUE:
        return parse_value(value_fact or "", data or "")
    if kind is ParamKind.VALUES:
        items = data if isinstance(data, list) else _SPLIT.split(figure(data or ""))
        values = [parse_value(value_fact or "", item) for item in items if item.strip()]
        if not values:
            raise ValueError(_("Choose at least one value."))
        return values
    return data


def _relaxation(sub: SubForm, lay: Layout) -> dict[str, Any] | None:
    """A relaxation from its form row; None for a row left empty."""
    when = _condition(sub.when)
    params = _params(sub, lay, "", lay.relaxable, optional=True)
    texts = ((sub.label_ja.data or "").strip(), (sub.label_en.data or "").strip())
    touched = any(entry.form.fact.data for entry in sub.when) or any(texts)
    clean = not has_errors(sub)
    if not (touched or params or not clean):
        return None
    if not when and clean:
        add_error(sub.when[0].form.fact, _("Choose when this relaxation applies."))
    if not params and clean:
        add_error(sub[lay.relaxable[0]], _("Give at least one replacement value."))
    for text, field in zip(texts, (sub.label_ja, sub.label_en), strict=True):
        if any(texts) and not text:
            add_error(field, _("Give the label in both languages, or neither."))
    relaxation: dict[str, Any] = {"when": when, "params": params}
    if any(texts):
        relaxation["label"] = {"ja": texts[0], "en": texts[1]}
    return relaxation


def _condition(rows: FieldList) -> dict[str, Any]:
    condition: dict[str, Any] = {}
    for entry in rows:
        row = entry.form
        fact, op, text = row.fact.data, row.op.data, figure(row.value.data or "")
        if not fact:
            if text:
                add_error(row.fact, _("Choose a fact."))
            continue
        if not text:
            add_error(row.value, _("Enter a value."))
            continue
        if op in ("in", "not_in"):
            operand: Any = [parse_value(fact, item) for item in _SPLIT.split(text) if item]
        else:
            operand = parse_value(fact, text)
        test = condition.get(fact)
        if op == "eq" and test is None:
            condition[fact] = operand
        elif op != "eq" and (test is None or (isinstance(test, dict) and op not in test)):
            condition[fact] = {**(test or {}), op: operand}
        else:
            add_error(row.fact, _("This fact is already tested in the same way above."))
    return condition


def parse_value(fact: str, text: str) -> Any:
    """A value of `fact` typed in a form (full width read as plain); anything unreadable is
    left for the schema to name."""
    spec, body = FACTS.get(fact), figure(text)
    if spec is None:
        return body
    if spec.kind is Kind.BOOL:
        return _BOOLS.get(body.lower(), body)
    if spec.kind is Kind.COUNT and body.isascii() and body.isdecimal():
        return int(body)
    if spec.kind is Kind.YEN:
        try:
            return parse_yen(body)
        except ValueError:
            return body
    if spec.kind is Kind.DATE:
        try:
            return datetime.strptime(body, "%Y/%m/%d").date().isoformat()
        except ValueError:  # ISO, or not a date: the schema reads it
            return body
    return body


# ---- rule -> form ---------------------------------------------------------------------------


def rule_to_data(rule: Mapping[str, Any], lay: Layout) -> dict[str, Any]:
    """Initial form data for editing `rule`."""
    label = rule.get("label") or {}
    params = rule.get("params", {})
    data: dict[str, Any] = {
        "rule_id": rule["id"],
        "label_ja": label.get("ja", ""),
        "label_en": label.get("en", ""),
        "phase": rule["phase"],
        "severity": rule["severity"],
        "applies_when": condition_rows(rule.get("applies_when") or {}),
    }
    for name, param in lay.spec.items():
        data[f"param_{name}"] = _field_data(param, params.get(name), lay.value_fact)
    data["relaxations"] = [
        {
            **{
                n: _field_data(lay.spec[n], r["params"].get(n), lay.value_fact)
                for n in lay.relaxable
            },
            "when": condition_rows(r["when"]),
            "label_ja": (r.get("label") or {}).get("ja", ""),
            "label_en": (r.get("label") or {}).get("en", ""),
        }
        for r in rule.get("relaxations") or []
    ]
    return data


def new_rule_data(rule_type: str) -> dict[str, Any]:
    phase = "tranche_gates" if rule_type in GATE_TYPES or "paid_in" in rule_type else "eligibility"
    return {"phase": phase, "severity": "block"}


def condition_rows(condition: Mapping[str, Any]) -> list[dict[str, str]]:
    rows = []
    for fact, test in condition.items():
        for op, operand in test.items() if isinstance(test, dict) else [("eq", test)]:
            rows.append({"fact": fact, "op": op, "value": _value_text(operand)})
    return rows


def _field_data(param: Param, value: Any, value_fact: str | None) -> Any:
    if value is None:
        return None
    kind = param.kind
    if kind is ParamKind.AMOUNT:
        return f"{value:,}"
    if kind is ParamKind.DATE:
        return date.fromisoformat(value)
    if kind is ParamKind.VALUES and value_labels(value_fact or "") is not None:
        return [_plain(item) for item in value]
    if kind in (ParamKind.VALUE, ParamKind.VALUES):
        return _value_text(value)
    return value


def _value_text(value: Any) -> str:
    return ", ".join(map(_plain, value)) if isinstance(value, list) else _plain(value)


def _plain(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)
