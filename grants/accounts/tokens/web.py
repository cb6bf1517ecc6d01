"""Every user's own settings page for personal API tokens."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from werkzeug.wrappers import Response
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from grants.accounts.second_factor.rules import SecondFactorPolicy, StepUp
from grants.accounts.second_factor.service import SecondFactorRequired
from grants.accounts.sessions.web import second_factor_given_at
from grants.accounts.tokens import service as tokens
from grants.core.errors import RuleViolation
from grants.core.http.access import actor
from grants.core.http.forms import Form, apply_errors
from grants.core.models import utcnow

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
def create() -> tuple[str, int] | str | Response:
    form = TokenForm()
    if form.validate_on_submit():
        try:
            token, secret = tokens.create_token(
                actor(), actor(), form.name.data or "", step_up=_step_up()
            )
        except SecondFactorRequired:
            flash(_("Give your second factor again to create a token."), "info")
            return redirect(url_for("second_factor.verify", next=url_for(".index")))
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


def _step_up() -> StepUp:
    """When this session last gave the second factor, for the service to judge."""
    given = second_factor_given_at()
    given_at = datetime.fromtimestamp(given, UTC) if given is not None else None
    return StepUp(SecondFactorPolicy.of(current_app.config), given_at, utcnow())


def _page(form: TokenForm, secret: str | None) -> str:
    return render_template(
        "accounts/tokens/index.html",
        form=form,
        revoke_form=RevokeForm(),
        secret=secret,
        tokens=tokens.tokens_of(actor()),
    )
