"""Form helpers shared by every area: copying service field errors onto a form."""

from __future__ import annotations

from flask_wtf import FlaskForm

from grants.domain.errors import DomainError


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
