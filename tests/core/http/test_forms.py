"""Every form of the web area inherits the shared base forms, which refuse text that cannot be
stored; and the shared fields read what Japanese users type."""

from __future__ import annotations

import inspect
from datetime import date

import pytest
from flask import Flask
from werkzeug.datastructures import MultiDict
from wtforms import FieldList, FormField, StringField, TextAreaField
from wtforms.form import BaseForm

from grants.core.errors import RuleViolation
from grants.core.http import forms
from grants.core.problems import N_
from grants.rules.checks import RULE_TYPES
from grants.rulesets.web import forms as rule_forms
from tests.support.web import edge_modules


def _form_classes() -> list[type[BaseForm]]:
    found = []
    for module in edge_modules():
        for _name, value in inspect.getmembers(module, inspect.isclass):
            if issubclass(value, BaseForm) and value.__module__ == module.__name__:
                found.append(value)
    return found


def _rows(form_class: type[BaseForm]) -> list[type[BaseForm]]:
    """The row forms (FormField) a form class holds, however deeply."""
    rows = []
    for value in vars(form_class).values():
        field_class, args = getattr(value, "field_class", None), getattr(value, "args", ())
        if field_class is FieldList:
            field_class, args = args[0].field_class, args[0].args
        if field_class is FormField:
            rows += [args[0], *_rows(args[0])]
    return rows


def test_every_form_inherits_a_base_form() -> None:
    classes = _form_classes()
    assert len(classes) > 25
    strays = [c for c in classes if not issubclass(c, forms.Form | forms.SubForm)]
    assert strays == []


def test_every_row_of_every_rule_form_is_a_sub_form(app: Flask) -> None:
    with app.test_request_context():
        for rule_type in RULE_TYPES:
            layout = rule_forms.layout(rule_type, None, None)
            form_class = rule_forms.rule_form_class(layout)
            assert issubclass(form_class, forms.Form)
            rows = _rows(form_class)
            assert rows and all(issubclass(row, forms.SubForm) for row in rows), rule_type


class _Sample(forms.Form):
    class Meta:
        csrf = False

    line = StringField()
    text = TextAreaField()


class _Row(forms.SubForm):
    line = StringField()


class _WithRows(forms.Form):
    class Meta:
        csrf = False

    rows = FieldList(FormField(_Row), min_entries=1)


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ({"line": "株式会社テスト", "text": "一行目\r\n\t二行目"}, set()),
        ({"line": "a\x00b"}, {"line"}),
        ({"line": "a\tb"}, {"line"}),
        ({"text": "\x1b[31m"}, {"text"}),
        ({"text": "bell\x07", "line": "del\x7f"}, {"line", "text"}),
        ({"line": "invoice_\u202egpj.exe"}, {"line"}),  # shows as invoice_exe.jpg
        ({"text": "note \u2067hidden\u2069"}, {"text"}),  # bidi: refused everywhere
        ({"line": "Sakura\u200bBio"}, {"line"}),
        ({"text": "\ufeffBOM"}, {"text"}),
        ({"line": "A\u200dB"}, {"line"}),  # a joiner: not in a name
        ({"text": "研究者 👩\u200d🔬 チーム"}, set()),  # ...but in prose (an emoji)
        ({"line": "one\u2028two"}, {"line"}),
        ({"text": "one\u2029two"}, {"text"}),
        ({"line": "bad\ufffdbyte"}, {"line"}),  # bytes that were not UTF-8, as read
        ({"text": "lone\ud800"}, {"text"}),
    ],
)
def test_the_base_form_refuses_control_characters(
    app: Flask, data: dict[str, str], errors: set[str]
) -> None:
    with app.test_request_context():
        form = _Sample(formdata=MultiDict(data))
        assert form.validate() is (not errors)
        assert set(form.errors) == errors
        nested = _WithRows(formdata=MultiDict({"rows-0-line": data.get("line", "")}))
        assert nested.validate() is ("line" not in errors)


class _Typed(forms.Form):
    class Meta:
        csrf = False

    day = forms.DayField()
    days = forms.WholeNumberField(maximum=3650)
    amount = forms.YenField()


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            {"day": "2026/04/01", "days": "３０", "amount": "7億5,000万円"},
            (date(2026, 4, 1), 30, 750_000_000),
        ),
        (
            {"day": "２０２６－０４－０１", "days": " 0 ", "amount": "１，０００"},
            (date(2026, 4, 1), 0, 1000),
        ),
        ({"day": "2026-4-1", "days": "3650", "amount": "¥0"}, (date(2026, 4, 1), 3650, 0)),
    ],
)
def test_typed_fields_read_what_people_type(
    app: Flask, data: dict[str, str], expected: tuple[object, ...]
) -> None:
    with app.test_request_context():
        form = _Typed(formdata=MultiDict(data))
        assert form.validate(), form.errors
        assert (form.day.data, form.days.data, form.amount.amount) == expected


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"day": "2026.04.01"}, "day", "Not a valid date value."),
        ({"day": "01/04/2026"}, "day", "Not a valid date value."),
        ({"days": "3651"}, "days", "Enter a whole number from 0 to 3650."),
        ({"days": "-1"}, "days", "Enter a whole number from 0 to 3650."),
        ({"days": "9" * 5000}, "days", "Enter a whole number from 0 to 3650."),
        ({"days": "1_000"}, "days", "Not a valid integer value."),
        ({"days": "٣"}, "days", "Not a valid integer value."),
        ({"amount": "1,0,0,0"}, "amount", "Enter a whole number of yen"),
        ({"amount": "1" * 40}, "amount", "This amount is too large."),
    ],
)
def test_typed_fields_explain_what_they_refuse(
    app: Flask, data: dict[str, str], field: str, message: str
) -> None:
    with app.test_request_context(headers={"Accept-Language": "en"}):
        form = _Typed(formdata=MultiDict(data))
        assert not form.validate()
        assert any(message in error for error in form.errors[field]), form.errors
        assert form[field]._value() == data[field]  # kept as typed


class _Plan(forms.Form):
    class Meta:
        csrf = False

    title = StringField()
    rows = FieldList(FormField(_Row), min_entries=3)


def test_service_errors_land_on_the_fields_their_dotted_paths_name(app: Flask) -> None:
    error = RuleViolation(
        N_("Not saved."),
        {
            "title": [N_("A title is required.")],
            "rows": [N_("Required.")],
            "rows.0.line": [N_("Required.")],  # the service's first row is the page's third
            "elsewhere": [N_("Enter a date.")],
        },
    )
    with app.test_request_context(headers={"Accept-Language": "ja"}):
        form = _Plan(prefix="plan", formdata=None)
        forms.apply_errors(form, error, {"rows.0": "rows-2"})
        assert form.title.errors == ["タイトルを入力してください。"]
        assert form.rows.list_errors == ["必須です。"]  # type: ignore[attr-defined]
        assert form.rows.entries[2].form.line.errors == ["必須です。"]
        assert not form.rows.entries[0].form.line.errors
        assert form.form_errors == ["日付を入力してください。"]
    assert forms.field_name("milestones.1.criteria.0.unit", {}) == "milestones-1-criteria-0-unit"
    assert forms.field_name("title", {"title": "preset_title"}) == "preset_title"
