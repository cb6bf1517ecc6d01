"""Signing in and out, and the language switch."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from grants.accounts import service as accounts
from grants.core.http.forms import Form
from grants.core.http.i18n import SESSION_KEY, parse_locale
from grants.extensions import csrf, limiter, login_manager

bp = Blueprint("sessions", __name__)


class LoginForm(Form):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


@bp.route("/login", methods=["GET", "POST"])
@csrf.exempt  # checked below, once the rate limit passed: a refused attempt is never read
@limiter.limit(_login_limit, methods=["POST"])
def login() -> str | Response:
    if current_app.config["WTF_CSRF_ENABLED"]:
        csrf.protect()  # as CSRFProtect's own hook does for every other form
    if current_user.is_authenticated:
        return redirect(url_for("home.home"))
    form = LoginForm()
    if form.validate_on_submit():
        user = accounts.authenticate(form.email.data or "", form.password.data or "")
        if user is not None:
            login_user(user)
            session.pop(SESSION_KEY, None)
            return redirect(_safe_next(request.args.get("next")))
        form.form_errors.append(
            _("The e-mail address or the password is wrong, or the account is inactive.")
        )
    return render_template("accounts/sessions/login.html", form=form)


@bp.post("/logout")
def logout() -> Response:
    message = _("You are signed out.")  # in the account's language, while it is known
    if current_user.is_authenticated:
        user = current_user._get_current_object()
        accounts.end_sessions(user)
        session[SESSION_KEY] = str(user.locale)  # the sign-in page keeps that language
    logout_user()
    flash(message, "info")
    return redirect(url_for("sessions.login"))


@bp.post("/language")
def language() -> Response:
    locale = parse_locale(request.form.get("locale"))
    if locale is not None:
        if current_user.is_authenticated:
            accounts.set_own_locale(current_user._get_current_object(), locale)
        else:
            session[SESSION_KEY] = str(locale)
    return redirect(_safe_next(request.form.get("next")))


def _safe_next(target: str | None) -> str:
    """Only redirect to paths on this site (no open redirect)."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and "\\" not in target:
            return target
    return url_for("home.home")


@login_manager.user_loader
def _load_user(user_id: str) -> object | None:
    from sqlalchemy.orm import joinedload

    from grants.accounts.models import User
    from grants.extensions import db

    key, _, version = user_id.partition(":")
    if not (key.isdigit() and version.isdigit()):
        return None
    # One statement on every request: the organization comes in the same row.
    user = db.session.get(User, int(key), options=[joinedload(User.organization)])
    if user is None or not user.active or user.session_version != int(version):
        return None  # a session ended by a sign-out or a new password
    return user
