"""Every user's own settings page for personal API tokens."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from werkzeug.wrappers import Response
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from grants.accounts.tokens import service as tokens
from grants.core.errors import RuleViolation
from grants.core.http.access import actor
from grants.core.http.forms import Form, apply_errors

bp = Blueprint("tokens", __name__, url_prefix="/settings/tokens")


class TokenForm(Form):
    name = StringField(
        _l("What is the token for?"),
        validators=[DataRequired(), Length(max=tokens.NAME_MAX)],
        description=_l("For example: accounting export, our dashboard."),
    )


class RevokeForm(Form):
    pass


@bp.get("")
@login_required
def index() -> str:
    return _page(TokenForm(), None)


@bp.post("")
@login_required
def create() -> tuple[str, int] | str:
    form = TokenForm()
    if form.validate_on_submit():
        try:
            token, secret = tokens.create_token(actor(), actor(), form.name.data or "")
        except RuleViolation as error:
            apply_errors(form, error)
        else:
            flash(
                _(
                    "Token “%(name)s” is created. Copy it now: it is shown only once.",
                    name=token.name,
                ),
                "success",
            )
            return _page(TokenForm(formdata=None), secret)
    return _page(form, None), 422


@bp.post("/<int:token_id>/revoke")
@login_required
def revoke(token_id: int) -> Response:
    if RevokeForm().validate_on_submit():
        token = tokens.revoke_token(actor(), token_id)
        flash(_("Token “%(name)s” is revoked.", name=token.name), "success")
    return redirect(url_for(".index"))


def _page(form: TokenForm, secret: str | None) -> str:
    return render_template(
        "accounts/tokens/index.html",
        form=form,
        revoke_form=RevokeForm(),
        secret=secret,
        tokens=tokens.tokens_of(actor()),
    )
