"""Errors of the rule editor: conversion errors on fields, and the schema's nested
field messages (RuleSetInvalid) put beside the fields they concern or flattened into lines.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from wtforms import Field, FieldList, Form, FormField

from grants.core.errors import DomainError
from grants.core.http.i18n import localise
from grants.rules.facts import fact_label
from grants.rulesets.web.text import document_part_labels, locale, param_label

_RULE_FIELDS = {"id": "rule_id", "phase": "phase", "severity": "severity"}
_SCHEMA = "_schema"  # marshmallow's key for a message about the whole document
_CONDITIONS = ("applies_when", "when")  # their keys are fact names


def add_error(field: Field, message: str) -> None:
    """`message` (a domain Problem, or text already translated) beside `field`."""
    field.errors = [*field.errors, localise(message)]


def any_errors(form: Form) -> bool:
    """Errors anywhere in the form (FieldList keeps a stale copy after validation)."""
    return bool(form.form_errors) or has_errors(form)


def has_errors(form: Form) -> bool:
    return any(_field_errors(field) for field in form)


def _field_errors(field: Field) -> bool:
    if isinstance(field, FieldList):
        return any(_field_errors(entry) for entry in field.entries)
    if isinstance(field, FormField):
        return bool(field.form.form_errors) or has_errors(field.form)
    return bool(field.errors)


def flatten_errors(messages: Any, path: tuple[str, ...] = ()) -> list[str]:
    """Nested schema messages as readable lines in the user's language:
    "Rules › 2 › Parameters › Ratio: message"."""
    if isinstance(messages, Mapping):
        return [
            line for key, value in messages.items() for line in flatten_errors(value, (*path, key))
        ]
    if isinstance(messages, list | tuple):
        return [line for item in messages for line in flatten_errors(item, path)]
    prefix = " › ".join(_part_names(path))
    message = str(localise(messages))
    return [f"{prefix}: {message}" if prefix else message]


def _part_names(path: tuple[str, ...]) -> list[str]:
    """The keys of an error path as people read them (a parameter by its label)."""
    labels = document_part_labels()
    names = []
    for index, part in enumerate(path):
        key, parent = str(part), str(path[index - 1]) if index else ""
        if key == _SCHEMA:
            continue
        if parent == "params":
            names.append(param_label(key))
        elif parent in _CONDITIONS:
            names.append(fact_label(key, locale()))
        else:
            names.append(labels.get(key, key))
    return names


def _leaves(messages: Any) -> list[str]:
    """The messages alone, for showing beside the field they concern."""
    if isinstance(messages, Mapping):
        return [line for value in messages.values() for line in _leaves(value)]
    if isinstance(messages, list | tuple):
        return [line for item in messages for line in _leaves(item)]
    return [str(localise(messages))]


def apply_rule_errors(form: Form, error: DomainError, index: int, positions: list[int]) -> None:
    """The service's errors beside the fields; errors about the rule at `index` in the
    document go onto this form, the rest to the top of the form."""
    fields = dict(error.fields)
    rules = fields.pop("rules", None)
    if isinstance(rules, Mapping):
        others = {key: value for key, value in rules.items() if key != str(index)}
        if others:
            fields["rules"] = others
        mine = rules.get(str(index))
        if isinstance(mine, Mapping):
            _place_rule(form, mine, positions)
        elif mine is not None:
            fields["rule"] = mine
    elif rules is not None:
        fields["rules"] = rules
    form.form_errors.extend(flatten_errors(fields))
    if not error.fields and error.message:
        form.form_errors.append(localise(error.message))


def _place_rule(form: Form, messages: Mapping[str, Any], positions: list[int]) -> None:
    for key, value in messages.items():
        if key in _RULE_FIELDS:
            _place(form, form, _RULE_FIELDS[key], value, (key,))
        elif key == "relaxations" and isinstance(value, Mapping):
            for number, item in value.items():
                _place_relaxation(form, positions, number, item)
        else:
            _place_common(form, form, key, value, "param_", form.applies_when)


def _place_relaxation(form: Form, positions: list[int], number: str, item: Any) -> None:
    path = ("relaxations", number)
    if not (number.isdigit() and int(number) < len(positions) and isinstance(item, Mapping)):
        form.form_errors.extend(flatten_errors(item, path))
        return
    sub = form.relaxations.entries[positions[int(number)]].form
    for key, value in item.items():
        if key == "when":
            _place_condition(form, sub.when, value, (*path, key))
        else:
            _place_common(form, sub, key, value, "", sub.when, path)


def _place_common(
    top: Form,
    target: Form,
    key: str,
    value: Any,
    prefix: str,
    when: FieldList,
    path: tuple[str, ...] = (),
) -> None:
    """Keys a rule and a relaxation share: params, label, and the rule's condition."""
    if key == "params" and isinstance(value, Mapping):
        for name, messages in value.items():
            _place(top, target, f"{prefix}{name}", messages, (*path, key, name))
    elif key == "label" and isinstance(value, Mapping):
        for lang, messages in value.items():
            _place(top, target, f"label_{lang}", messages, (*path, key, lang))
    elif key == "applies_when":
        _place_condition(top, when, value, (*path, key))
    else:
        top.form_errors.extend(flatten_errors(value, (*path, key)))


def _place(top: Form, target: Form, name: str, messages: Any, path: tuple[str, ...]) -> None:
    field = target._fields.get(name)
    if field is None:
        top.form_errors.extend(flatten_errors(messages, path))
    else:
        for message in _leaves(messages):
            add_error(field, message)


def _place_condition(top: Form, rows: FieldList, messages: Any, path: tuple[str, ...]) -> None:
    if not isinstance(messages, Mapping):
        for message in _leaves(messages):
            add_error(rows[0].form.fact, message)
        return
    for fact, fact_messages in messages.items():
        row = next((e.form for e in rows if e.form.fact.data == fact), None)
        if row is None:
            top.form_errors.extend(flatten_errors(fact_messages, (*path, fact)))
        else:
            for message in _leaves(fact_messages):
                add_error(row.value, message)
