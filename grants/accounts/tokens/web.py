"""Every user's own settings page for personal API tokens."""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from werkzeug.wrappers import Response
from wtforms import RadioField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from grants.accounts.second_factor.rules import SecondFactorPolicy, StepUp
from grants.accounts.second_factor.service import SecondFactorRequired
from grants.accounts.sessions.web import second_factor_given_at
from grants.accounts.tokens import service as tokens
from grants.accounts.tokens.rules import TokenScope, default_expiry, status
from grants.core.calendar import tokyo_today
from grants.core.errors import RuleViolation
from grants.core.http.access import actor
from grants.core.http.forms import DayField, Form, apply_errors
from grants.core.models import utcnow

bp = Blueprint("tokens", __name__, url_prefix="/settings/tokens")


class TokenForm(Form):
    name = StringField(
        _l("What is the token for?"),
        validators=[DataRequired(), Length(max=tokens.NAME_MAX)],
        description=_l("For example: accounting export, our dashboard."),
    )
    scope = RadioField(
        _l("What may it do?"),
        choices=[
            SelectChoice(str(TokenScope.read), _l("Read only (GET requests)")),
            SelectChoice(str(TokenScope.read_write), _l("Read and change data")),
        ],
        default=str(TokenScope.read),
    )
    expires_on = DayField(
        _l("Works until"),
        validators=[Optional()],
        description=_l(
            "The last day the token works: from tomorrow to a year from today (90 days when "
            "left empty)."
        ),
    )


class RevokeForm(Form):
    pass


@bp.get("")
@login_required
def index() -> str:
    return _page(_new_form(), None)


@bp.post("")
@login_required
def create() -> tuple[str, int] | str | Response:
    form = TokenForm()
    if form.validate_on_submit():
        try:
            token, secret = tokens.create_token(
                actor(),
                actor(),
                form.name.data or "",
                TokenScope(form.scope.data),
                form.expires_on.data or default_expiry(_today()),
                _today(),
                step_up=_step_up(),
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
            return _page(_new_form(), secret)
    return _page(form, None), 422


@bp.post("/<int:token_id>/revoke")
@login_required
def revoke(token_id: int) -> Response:
    if RevokeForm().validate_on_submit():
        token = tokens.revoke_token(actor(), token_id)
        flash(_("Token “%(name)s” is revoked.", name=token.name), "success")
    return redirect(url_for(".index"))


def _new_form() -> TokenForm:
    return TokenForm(formdata=None, expires_on=default_expiry(_today()))


def _step_up() -> StepUp:
    """When this session last gave the second factor, for the service to judge."""
    given = second_factor_given_at()
    given_at = datetime.fromtimestamp(given, UTC) if given is not None else None
    return StepUp(SecondFactorPolicy.of(current_app.config), given_at, utcnow())


def _page(form: TokenForm, secret: str | None) -> str:
    mine = tokens.tokens_of(actor())
    now = datetime.now(UTC)
    return render_template(
        "accounts/tokens/index.html",
        form=form,
        revoke_form=RevokeForm(),
        secret=secret,
        tokens=mine,
        statuses={token.id: str(status(token.revoked_at, token.expires_at, now)) for token in mine},
    )


def _today() -> date:
    return tokyo_today(datetime.now(UTC))
