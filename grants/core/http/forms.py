"""Form helpers shared by every area: the base forms, fields for what Japanese users type
(yen, dates, whole numbers), service field errors onto a form, bounded ids.

Every form inherits `Form` (a page's form) or `SubForm` (a repeated row inside one), which
refuse NUL and the other control characters in every text field (tab and line breaks only
in a text area) before anything reaches a service.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.i18n import translations as wtf_translations
from wtforms import (
    DateField,
    Field,
    FieldList,
    FormField,
    IntegerField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms import Form as WtForm
from wtforms.validators import InputRequired, NumberRange
from wtforms.widgets import TextInput

from grants.core.calendar import parse_day
from grants.core.db import ID_MAX
from grants.core.errors import DomainError
from grants.core.http.i18n import localise
from grants.core.money import parse_yen
from grants.core.problems import problem_of
from grants.core.text import control_problem, figure

_DIGITS_MAX = 30  # a longer whole number is out of every range (and int() may refuse it)
# A service's dotted path (or its prefix) -> the form's name for it, where they differ.
Renames = Mapping[str, str]


def apply_errors(form: FlaskForm, error: DomainError, renames: Renames | None = None) -> None:
    """Show a service's field errors beside the fields; the rest as form-level errors.

    A service keys its errors by its own dotted names ("milestones.0.due_date"), which name
    the form's fields as WTForms does ("milestones-0-due_date"); `renames` says where the
    form differs (see `field_name`). A key naming a FieldList lands in its `list_errors`.
    """
    fields = _fields_by_name(form)
    for key, messages in localise(error.fields).items():
        field = fields.get(field_name(key, renames or {}))
        if field is None or isinstance(field, FormField):  # a row as a whole: no place of its own
            form.form_errors.extend(messages)
        elif isinstance(field, FieldList):
            field.list_errors = [*getattr(field, "list_errors", []), *messages]  # type: ignore[attr-defined]
        else:
            field.errors = [*field.errors, *messages]
    if not error.fields and error.message:
        form.form_errors.append(localise(error.message))


def field_name(path: str, renames: Renames) -> str:
    """The form's name for a service's dotted `path`: its longest prefix found in `renames`
    replaced (a service's row "milestones.0" is the page's "milestones-2" when blank rows
    were left out; an argument "title" is the field "preset_title"), dots then as dashes."""
    parts = path.split(".")
    for length in range(len(parts), 0, -1):
        prefix = ".".join(parts[:length])
        if prefix in renames:
            return "-".join([renames[prefix], *parts[length:]])
    return "-".join(parts)


def _fields_by_name(form: FlaskForm) -> dict[str, Field]:
    """Every field, however deeply nested, by its name without the form's own prefix."""
    prefix = getattr(form, "_prefix", "")
    return {name.removeprefix(prefix): field for name, field in named_fields(form)}


def _storable(form: WtForm, field: StringField) -> None:
    if isinstance(field.data, str):
        problem = control_problem(field.data, multiline=isinstance(field, TextAreaField))
        if problem is not None:
            raise ValidationError(localise(problem))


class _StorableText:
    """Adds the control-character check to every text field of the form."""

    _fields: dict[str, Any]

    def validate(self, extra_validators: dict[str, Any] | None = None) -> bool:
        extra = {name: list(checks) for name, checks in (extra_validators or {}).items()}
        for name, field in self._fields.items():
            if isinstance(field, StringField):
                extra.setdefault(name, []).append(_storable)
        return super().validate(extra)  # type: ignore[misc]


class Form(_StorableText, FlaskForm):
    """The base of every page's form."""


class SubForm(_StorableText, WtForm):
    """A row repeated inside a form (FormField, FieldList): no CSRF token of its own, and
    WTForms' own messages in the user's language, as FlaskForm gives its fields."""

    class Meta:
        def get_translations(self, form: WtForm) -> Any:
            return wtf_translations


class IdField(IntegerField):
    """A required id a column can hold (1 to ID_MAX): a larger number is a field error, not an
    OverflowError in the database driver."""

    def __init__(self, label: Any = None, validators: Any = None, **kwargs: Any) -> None:
        message = kwargs.pop("message", None) or _l("Choose one from the list.")
        bounds = NumberRange(min=1, max=ID_MAX, message=message)
        super().__init__(
            label, [InputRequired(message=message), bounds, *(validators or [])], **kwargs
        )


class WholeNumberField(IntegerField):
    """A whole number from `minimum` to `maximum`, in plain or full-width digits."""

    def __init__(
        self,
        label: Any = None,
        validators: Any = None,
        *,
        minimum: int = 0,
        maximum: int,
        **kwargs: Any,
    ) -> None:
        self.message = _l("Enter a whole number from %(min)s to %(max)s.", min=minimum, max=maximum)
        bounds = NumberRange(min=minimum, max=maximum, message=self.message)
        super().__init__(label, [*(validators or []), bounds], **kwargs)

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist:
            return
        text = figure(str(valuelist[0]))
        digits = text.removeprefix("-")
        self.data = None
        if not (digits.isascii() and digits.isdecimal()):
            raise ValueError(self.gettext("Not a valid integer value."))
        if len(digits.lstrip("0")) > _DIGITS_MAX:
            raise ValueError(self.message)
        self.data = int(text)


class YenField(StringField):
    """Whole yen as people type them (money.parse_yen: 1,000,000, ５億, 7億5,000万円 ...);
    `.amount` is the integer, None when the field is blank or unreadable."""

    def __init__(self, label: Any = None, validators: Any = None, **kwargs: Any) -> None:
        kwargs.setdefault(
            "description", _l("A whole number of yen, e.g. 150,000,000, 1億5千万 or 1.5億.")
        )
        super().__init__(label, validators, **kwargs)

    def process_data(self, value: Any) -> None:
        super().process_data(f"{value:,}" if isinstance(value, int) else value)

    @property
    def amount(self) -> int | None:
        try:
            return parse_yen(self.data or "")
        except ValueError:
            return None

    def pre_validate(self, form: WtForm) -> None:
        if (self.data or "").strip():
            try:
                parse_yen(self.data or "")
            except ValueError as error:
                raise ValidationError(localise(problem_of(error))) from None


class DayField(DateField):
    """A date typed as people in Japan write it (calendar.parse_day: 2026-04-01, 2026/04/01,
    2026年4月1日, 令和8年4月1日, R8.4.1), in a text box that takes all of them."""

    widget = TextInput()

    def __init__(self, label: Any = None, validators: Any = None, **kwargs: Any) -> None:
        kwargs.setdefault("description", _l("For example 2026-04-01, 令和8年4月1日 or R8.4.1."))
        super().__init__(label, validators, **kwargs)

    def process_formdata(self, valuelist: list[Any]) -> None:
        text = str(valuelist[0]).strip() if valuelist else ""
        self.raw_data = [text] if valuelist else []
        self.data = None
        if text:
            try:
                self.data = parse_day(text)
            except ValueError as error:
                raise ValueError(localise(problem_of(error))) from None

    def _value(self) -> str:
        """ISO once read; otherwise as typed."""
        return self.data.isoformat() if self.data else super()._value()


def status(form: FlaskForm) -> int:
    """A form sent back with errors answers 422, so scripts and tests can tell."""
    return 422 if has_errors(form) else 200


def has_errors(form: FlaskForm) -> bool:
    """Whether any field, however deeply nested, or the form itself carries an error."""
    if form.form_errors:
        return True
    for _name, field in named_fields(form):
        if isinstance(field, FieldList | FormField):
            if getattr(field, "list_errors", None):
                return True
        elif field.errors:
            return True
    return False


def named_fields(fields: Iterable[Field]) -> Iterable[tuple[str, Field]]:
    for field in fields:
        yield field.name, field
        if isinstance(field, FieldList):
            for entry in field.entries:
                yield entry.name, entry
                yield from named_fields(entry.form if isinstance(entry, FormField) else [])
        elif isinstance(field, FormField):
            yield from named_fields(field.form)


@dataclass(frozen=True)
class ErrorLink:
    """One message of a form, for the summary at the top of its page: the field's id (the
    link's target; None for the form as a whole), its label and the message."""

    target: str | None
    label: str
    message: str


def error_links(*forms: WtForm | None) -> list[ErrorLink]:
    """Every message of `forms`, in the order their fields are shown (rows of repeated
    sub-forms included), the form's own messages first."""
    found: list[ErrorLink] = []
    for form in filter(None, forms):
        found += [ErrorLink(None, "", str(m)) for m in getattr(form, "form_errors", [])]
        found += _field_links(form)
    return found


def _field_links(form: WtForm) -> list[ErrorLink]:
    found: list[ErrorLink] = []
    for field in form:
        if isinstance(field, FormField):
            found += _field_links(field.form)
        elif isinstance(field, FieldList):
            for entry in field.entries:
                found += _field_links(entry.form) if isinstance(entry, FormField) else _own(entry)
        else:
            found += _own(field)
    return found


def _own(field: Field) -> list[ErrorLink]:
    return [ErrorLink(field.id, str(field.label.text), str(m)) for m in field.errors]
