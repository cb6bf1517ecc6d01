"""Form helpers shared by every area: copying service field errors onto a form, bounded ids."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.i18n import translations as wtf_translations
from wtforms import Form, IntegerField
from wtforms.validators import InputRequired, NumberRange

from grants.domain.errors import DomainError
from grants.routing import ID_MAX


def apply_errors(form: FlaskForm, error: DomainError) -> None:
    """Show a service's field errors beside the fields; the rest as form-level errors."""
    for name, messages in error.fields.items():
        field = getattr(form, name, None)
        if field is not None:
            field.errors = list(field.errors) + list(messages)
        else:
            form.form_errors.extend(messages)
    if not error.fields and error.message:
        form.form_errors.append(error.message)


class SubForm(Form):
    """A row repeated inside a form (FormField, FieldList): no CSRF token of its own, and
    WTForms' own messages in the user's language, as FlaskForm gives its fields."""

    class Meta:
        def get_translations(self, form: Form) -> Any:
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
