"""Forms of the second factor: a code, a passkey's answer, a name, and plain buttons."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, StringField
from wtforms.validators import DataRequired, Length

from grants.accounts.models import User
from grants.accounts.second_factor import queries
from grants.accounts.second_factor.rules import NAME_MAX, SecondFactorPolicy
from grants.core.http.forms import Form

# A passkey's answer (JSON from the browser) is a few kilobytes at most.
CREDENTIAL_MAX = 16_384


class CodeForm(Form):
    code = StringField(
        _l("Code"),
        validators=[DataRequired(), Length(max=40)],
        description=_l(
            "The 6-digit code your authenticator app shows now, or one of your recovery codes."
        ),
    )


class ConfirmTotpForm(Form):
    code = StringField(
        _l("Code from the app"),
        validators=[DataRequired(), Length(max=40)],
        description=_l("The 6-digit code the app shows after you added the account."),
    )


class PasskeyForm(Form):
    """Filled by static/js/passkey.js with the browser's answer."""

    credential = HiddenField(validators=[DataRequired(), Length(max=CREDENTIAL_MAX)])


class NewPasskeyForm(PasskeyForm):
    name = StringField(
        _l("Name of the passkey or security key"),
        validators=[DataRequired(), Length(max=NAME_MAX)],
        description=_l("For example: work laptop, blue security key."),
    )


class ButtonForm(Form):
    """A button that changes something: only the CSRF token."""


def security_section(
    user: User, policy: SecondFactorPolicy, next_url: str | None
) -> dict[str, object]:
    """What the second-factor section of the security settings shows (its forms and factors)."""
    return {
        "factors": queries.factors_of(user, policy),
        "button": ButtonForm(),
        "passkey_form": NewPasskeyForm(formdata=None),
        "next": next_url,
    }
