"""Forms of the credential pages: a new password (from a link, or in one's settings), the
forgotten-password request, and the administrator's "send a link" button."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, EqualTo, Length

from grants.accounts.credentials.rules import PASSWORD_MAX_LENGTH
from grants.core.http.forms import Form

EMAIL_MAX = 254


class NewPasswordForm(Form):
    password = PasswordField(
        _l("New password"), validators=[DataRequired(), Length(max=PASSWORD_MAX_LENGTH)]
    )
    password_again = PasswordField(
        _l("The new password again"),
        validators=[
            DataRequired(),
            EqualTo("password", message=_l("The two passwords are not the same.")),
        ],
    )

    def __init__(self, *args: Any, min_length: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.password.description = _(
            "At least %(n)d characters, hard to guess. A few uncommon words in a row are "
            "strong and easy to remember; a password manager can make one for you.",
            n=min_length,
        )


class ChangePasswordForm(NewPasswordForm):
    current_password = PasswordField(
        _l("Current password"), validators=[DataRequired(), Length(max=PASSWORD_MAX_LENGTH)]
    )


class ForgotPasswordForm(Form):
    email = EmailField(
        _l("E-mail"),
        validators=[DataRequired(), Length(max=EMAIL_MAX)],
        description=_l("The address you sign in with."),
    )


class PasswordLinkForm(Form):
    """The administrator's button that e-mails an account a link to set its password."""
