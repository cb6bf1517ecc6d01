"""Signing in (the password, then the second factor when the account has one) and out, the
sessions' timeouts, and the language switch.

The signed session holds when it was signed in, when it was last seen and when the second
factor was last given (seconds since the epoch); the password step alone holds only the
account it waits for, which signs no one in.
"""

from __future__ import annotations

from time import time
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_url, login_user, logout_user
from werkzeug.wrappers import Response
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from grants.accounts import service as accounts
from grants.accounts.models import User
from grants.accounts.rules import normalize_email
from grants.accounts.second_factor import queries as second_factors
from grants.accounts.second_factor import service as second_factor_service
from grants.accounts.second_factor.forms import CodeForm, PasskeyForm
from grants.accounts.second_factor.passkeys import service as passkeys
from grants.accounts.second_factor.passkeys.service import RelyingParty
from grants.accounts.second_factor.rules import Method, SecretBox
from grants.accounts.sessions.rules import SessionPolicy
from grants.core.errors import DomainError
from grants.core.http.forms import Form, apply_errors, status
from grants.core.http.i18n import SESSION_KEY, parse_locale
from grants.core.models import utcnow
from grants.extensions import csrf, db, limiter, login_manager

bp = Blueprint("sessions", __name__)

SIGNED_IN_AT = "signed_in_at"
SEEN_AT = "seen_at"
SECOND_FACTOR_AT = "second_factor_at"
PENDING = "pending_sign_in"  # {"user", "version", "at", "next"} between the two steps
PENDING_SECONDS = 5 * 60  # the second step must follow the password within this


class LoginForm(Form):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _account_limit() -> str:
    return current_app.config["LOGIN_ACCOUNT_RATE_LIMIT"]


def _second_factor_limit() -> str:
    return current_app.config["SECOND_FACTOR_RATE_LIMIT"]


def _account_key() -> str:
    """The account an attempt is for, whichever address sends it."""
    return "sign-in:" + normalize_email(request.form.get("email", ""))[:254]


def _pending_key() -> str:
    pending = session.get(PENDING) or {}
    return f"second-factor:{pending.get('user')}"


def _refused(response: Response) -> bool:
    """Only refused attempts count against an account: a success redirects."""
    return response.status_code != 302


def _protect() -> None:
    """The CSRF check of a route exempt from the hook, once its rate limits passed (a
    refused attempt is never read), as CSRFProtect's own hook does for every other form."""
    if current_app.config["WTF_CSRF_ENABLED"]:
        csrf.protect()


@bp.route("/login", methods=["GET", "POST"])
@csrf.exempt
# Flask-Limiter checks the innermost limit first: the client's, which reads no body
@limiter.limit(_account_limit, key_func=_account_key, methods=["POST"], deduct_when=_refused)
@limiter.limit(_login_limit, methods=["POST"])
def login() -> tuple[str, int] | Response:
    _protect()
    if current_user.is_authenticated:
        return redirect(url_for("home.home"))
    form = LoginForm()
    if form.validate_on_submit():
        user = accounts.check_password(form.email.data or "", form.password.data or "")
        target = _safe_next(request.args.get("next"))
        if user is not None and second_factors.has_second_factor(user.id):
            _await_second_factor(user, target)
            return redirect(url_for(".second_factor"))
        if user is not None:
            return sign_in(user, None, target)
        form.form_errors.append(
            _("The e-mail address or the password is wrong, or the account is inactive.")
        )
    return render_template("accounts/sessions/login.html", form=form), 200


@bp.route("/login/second-factor", methods=["GET", "POST"])
@csrf.exempt
@limiter.limit(_login_limit, methods=["POST"])
@limiter.limit(_second_factor_limit, key_func=_pending_key, methods=["POST"], deduct_when=_refused)
def second_factor() -> tuple[str, int] | Response:
    """The second step: a code from the authenticator app, a recovery code, or a passkey."""
    _protect()
    user = _pending_user()
    if user is None:
        return _start_again()
    form = CodeForm()
    if form.validate_on_submit():
        try:
            method = second_factor_service.verify_code(
                user, form.code.data or "", SecretBox.of(current_app.config), utcnow()
            )
        except DomainError as error:
            apply_errors(form, error)
        else:
            return sign_in(user, method, session[PENDING]["next"])
    return _second_factor_page(user, form, PasskeyForm(formdata=None))


@bp.post("/login/passkey-options.json")
@limiter.limit(_login_limit)
def passkey_options() -> Response:
    """The passkey ceremony's options for the account waiting for its second factor."""
    user = _pending_user()
    if user is None:
        return current_app.response_class(status=409)
    options = passkeys.passkey_sign_in_options(user, relying_party(), utcnow())
    return current_app.response_class(options, mimetype="application/json")


@bp.post("/login/passkey")
@csrf.exempt
@limiter.limit(_login_limit)
@limiter.limit(_second_factor_limit, key_func=_pending_key, deduct_when=_refused)
def passkey() -> tuple[str, int] | Response:
    _protect()
    user = _pending_user()
    if user is None:
        return _start_again()
    form = PasskeyForm()
    if form.validate_on_submit():
        try:
            method = passkeys.verify_passkey(
                user, form.credential.data or "", relying_party(), utcnow()
            )
        except DomainError as error:
            apply_errors(form, error)
        else:
            return sign_in(user, method, session[PENDING]["next"])
    return _second_factor_page(user, CodeForm(formdata=None), form)


def _second_factor_page(user: User, form: CodeForm, passkey_form: PasskeyForm) -> tuple[str, int]:
    has_passkey = second_factors.has_passkey(user.id)
    page = render_template(
        "accounts/sessions/second_factor.html",
        form=form,
        passkey_form=passkey_form,
        has_passkey=has_passkey,
    )
    return page, max(status(form), status(passkey_form))


def _await_second_factor(user: User, target: str) -> None:
    """The password was right: the session only remembers whom the second step is for."""
    session.clear()
    session[SESSION_KEY] = str(user.locale)  # the second step speaks the account's language
    session[PENDING] = {
        "user": user.id,
        "version": user.session_version,
        "at": int(time()),
        "next": target,
    }


def _pending_user() -> User | None:
    pending = session.get(PENDING)
    if not isinstance(pending, dict) or not isinstance(pending.get("user"), int):
        return None
    if not 0 <= time() - float(pending.get("at", 0)) <= PENDING_SECONDS:
        return None
    user = db.session.get(User, pending["user"])
    if user is None or not user.active or user.session_version != pending.get("version"):
        return None
    return user


def _start_again() -> Response:
    session.pop(PENDING, None)
    flash(_("Sign in again: the sign-in took too long or was not started."), "info")
    return redirect(url_for(".login"))


def sign_in(user: User, method: Method | None, target: str) -> Response:
    """Establish the session: a new one (nothing of the visitor's is kept, the CSRF token
    included), holding its sign-in time and that of the second factor."""
    session.clear()
    g.pop("csrf_token", None)  # Flask-WTF's token of this request: a new one from now on
    login_user(user)
    accounts.record_sign_in(user, str(method) if method else None)
    now = int(time())
    session[SIGNED_IN_AT] = session[SEEN_AT] = now
    if method is not None:
        session[SECOND_FACTOR_AT] = now
    return redirect(_safe_next(target))


def second_factor_given_at() -> float | None:
    """When this session's second factor was last given (seconds since the epoch)."""
    value = session.get(SECOND_FACTOR_AT)
    return float(value) if isinstance(value, int | float) else None


def mark_second_factor_given() -> None:
    session[SECOND_FACTOR_AT] = int(time())


def forget_second_factor() -> None:
    session.pop(SECOND_FACTOR_AT, None)


def relying_party() -> RelyingParty:
    """This site as the browser sees it: the origin of the request, and the passkeys'
    domain (PASSKEY_RP_ID, or the request's host name)."""
    origin = request.host_url.rstrip("/")
    host = urlsplit(origin).hostname or ""
    return RelyingParty(current_app.config["PASSKEY_RP_ID"] or host, _("Milestone Grants"), origin)


def _timestamp(key: str) -> float | None:
    value = session.get(key)
    return float(value) if isinstance(value, int | float) else None


@bp.post("/logout")
def logout() -> Response:
    message = _("You are signed out.")  # in the account's language, while it is known
    locale: Any = None
    if current_user.is_authenticated:
        user = current_user._get_current_object()
        accounts.end_sessions(user)
        locale = str(user.locale)
    logout_user()
    session.clear()
    if locale:
        session[SESSION_KEY] = locale  # the sign-in page keeps that language
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

    key, _, version = user_id.partition(":")
    if not (key.isdigit() and version.isdigit()):
        return None
    # One statement on every request: the organization comes in the same row.
    user = db.session.get(User, int(key), options=[joinedload(User.organization)])
    if user is None or not user.active or user.session_version != int(version):
        return None  # a session ended by a sign-out or a new password
    if _expired(user):
        return None
    return user


def _expired(user: User) -> bool:
    """Whether the session has been idle, or open, too long for the user's role: it then
    ends here, whatever the page (the last-seen time moves on otherwise)."""
    now = time()
    policy = SessionPolicy.of(current_app.config)
    seen = _timestamp(SEEN_AT)
    if policy.expiry(user.role, _timestamp(SIGNED_IN_AT), seen, now) is None:
        if seen is not None and policy.seen_again(seen, now):
            session[SEEN_AT] = int(now)
        return False
    session.clear()
    session[SESSION_KEY] = str(user.locale)  # the sign-in page keeps the account's language
    g.session_ended = True
    return True


@login_manager.unauthorized_handler
def _unauthorized() -> Response:
    """Flask-Login's answer to a page that needs a sign-in, saying when a session ended."""
    if g.pop("session_ended", False):
        message = _("Your session has ended. Please sign in again.")
    else:
        message = str(login_manager.login_message)
    flash(message, login_manager.login_message_category)
    return redirect(login_url(str(login_manager.login_view), request.url))
