"""Credential pages: a password set from an invitation or reset link, the forgotten-password
request, the security settings (one's own password), and the administrator's button that
e-mails an account a link.

The e-mails are sent here, at once, after the use case committed (credentials.mail). A
link's secret is in its address: these pages are never cached, send no Referer, and the
logs mask the secret (grants.core.logs).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import (
    Blueprint,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user
from werkzeug.wrappers import Response

from grants.accounts.credentials import mail
from grants.accounts.credentials import queries as credential_queries
from grants.accounts.credentials import service as credentials
from grants.accounts.credentials.forms import (
    EMAIL_MAX,
    ChangePasswordForm,
    ForgotPasswordForm,
    NewPasswordForm,
    PasswordLinkForm,
)
from grants.accounts.credentials.rules import LinkPurpose, MailKind
from grants.accounts.rules import normalize_email
from grants.accounts.second_factor.forms import security_section
from grants.accounts.second_factor.rules import SecondFactorPolicy
from grants.core.errors import Conflict, NotFound, RuleViolation
from grants.core.http.access import actor, requires
from grants.core.http.forms import apply_errors, status
from grants.core.http.i18n import localise
from grants.core.models import utcnow
from grants.core.permissions import Action
from grants.extensions import limiter

bp = Blueprint("credentials", __name__)


def _settings() -> Mapping[str, Any]:
    return current_app.config


# --- throttles ----------------------------------------------------------------------------


def _link_limit() -> str:
    return str(current_app.config["LOGIN_RATE_LIMIT"])


def _reset_client_limit() -> str:
    return str(current_app.config["PASSWORD_RESET_CLIENT_LIMIT"])


def _reset_address_limit() -> str:
    return str(current_app.config["PASSWORD_RESET_ADDRESS_LIMIT"])


def _change_limit() -> str:
    return str(current_app.config["PASSWORD_CHANGE_RATE_LIMIT"])


def _address_key() -> str:
    """Requests for one address count together, whoever sends them and whether or not an
    account uses it."""
    return "address:" + normalize_email(request.form.get("email", ""))[:EMAIL_MAX]


def _mailed(response: Response) -> bool:
    """A request counts toward its address's throttle once an e-mail was sent or tried (not
    when the form was sent back)."""
    return response.status_code != 422


def _account_key() -> str:
    """Attempts to change one account's password count together, in all its sessions."""
    return f"account:{getattr(current_user, 'id', None)}"


# --- from a link ----------------------------------------------------------------------------


@bp.route("/invitation/<secret>", methods=["GET", "POST"])
@limiter.limit(_link_limit, methods=["POST"])
def invitation(secret: str) -> Response:
    """A new account's first password, from its invitation e-mail."""
    return _link_page(secret, LinkPurpose.invitation)


@bp.route("/password/reset/<secret>", methods=["GET", "POST"])
@limiter.limit(_link_limit, methods=["POST"])
def reset(secret: str) -> Response:
    """A new password, from a reset e-mail."""
    return _link_page(secret, LinkPurpose.reset)


def _link_page(secret: str, purpose: LinkPurpose) -> Response:
    """The form of a working link; a password sent with it goes to the use case, which also
    records the refusal of a link that no longer works."""
    now = utcnow()
    form = NewPasswordForm(min_length=_min_length())
    if form.validate_on_submit():
        try:
            notice = credentials.set_password(
                secret, purpose, form.password.data or "", now, _settings()
            )
        except RuleViolation as error:
            apply_errors(form, error)
        except (NotFound, Conflict) as error:
            return _refused(error)
        else:
            flash(_("Your password is set. Sign in with it."), "success")
            _tell_unsent(mail.send([notice], _settings()))
            return redirect(url_for("sessions.login"))
    try:
        link = credential_queries.open_link(secret, purpose, now)
    except (NotFound, Conflict) as error:
        return _refused(error)
    page = render_template("accounts/credentials/set_password.html", form=form, link=link)
    return _unkept(make_response(page, status(form)))


def _refused(error: NotFound | Conflict) -> Response:
    page = render_template(
        "accounts/credentials/link_refused.html", message=localise(error.message)
    )
    return _unkept(make_response(page, 404 if isinstance(error, NotFound) else 410))


def _unkept(response: Response) -> Response:
    """A page whose address holds a link's secret: no cache keeps it, no Referer repeats it."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


# --- forgotten password ---------------------------------------------------------------------


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(_reset_client_limit, methods=["POST"])
@limiter.limit(_reset_address_limit, key_func=_address_key, methods=["POST"], deduct_when=_mailed)
def forgot() -> Response:
    """Ask for a reset link. The answer is the same whether or not an account uses the
    address (credentials.request_reset)."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        try:
            outgoing = credentials.request_reset(
                form.email.data or "", str(get_locale() or "ja"), utcnow(), _settings()
            )
        except RuleViolation as error:
            apply_errors(form, error)
        else:
            if mail.send([outgoing], _settings()):
                flash(_sent_message(outgoing.to), "info")
                return redirect(url_for("sessions.login"))
            form.form_errors.append(_("The e-mail could not be sent. Try again in a few minutes."))
            page = render_template("accounts/credentials/forgot.html", form=form)
            return make_response(page, 503)
    page = render_template("accounts/credentials/forgot.html", form=form)
    return make_response(page, status(form))


def _sent_message(address: str) -> str:
    minutes = int(current_app.config["RESET_LINK_MINUTES"])
    return _(
        "If an account uses %(email)s, an e-mail with a link to choose a new password is on its "
        "way there. The link works once, for %(minutes)d minutes.",
        email=address,
        minutes=minutes,
    )


# --- security settings ------------------------------------------------------------------------


@bp.get("/settings/security")
@login_required
def security() -> str:
    return _security_page(ChangePasswordForm(min_length=_min_length()))


@bp.post("/settings/security/password")
@limiter.limit(_change_limit, key_func=_account_key)
@login_required
def change_password() -> Response:
    form = ChangePasswordForm(min_length=_min_length())
    if form.validate_on_submit():
        user = actor()
        try:
            current, new = form.current_password.data or "", form.password.data or ""
            notice = credentials.change_own_password(user, current, new, utcnow(), _settings())
        except RuleViolation as error:
            apply_errors(form, error)
        else:
            login_user(user)  # this session goes on, with the account's new session version
            flash(_("Your password is changed. Your other sessions were ended."), "success")
            _tell_unsent(mail.send([notice], _settings()))
            return redirect(url_for(".security"))
    return make_response(_security_page(form), 422)


def _security_page(password_form: ChangePasswordForm) -> str:
    """The security settings: a list of sections (templates/accounts/security.html)."""
    second_factor = security_section(actor(), SecondFactorPolicy.of(current_app.config), None)
    return render_template("accounts/security.html", password_form=password_form, **second_factor)


def _tell_unsent(sent: bool) -> None:
    if not sent:
        flash(_("The e-mail telling you of this change could not be sent."), "warning")


def _min_length() -> int:
    return int(current_app.config["PASSWORD_MIN_LENGTH"])


# --- administrators ---------------------------------------------------------------------------


@bp.post("/admin/users/<int:user_id>/password-link")
@requires(Action.manage_users)
def send_link(user_id: int) -> Response:
    """E-mail the account a link to set its password: its invitation again while it has none,
    else a reset link (which signs it out everywhere). The administrator never sees either."""
    if PasswordLinkForm().validate_on_submit():
        try:
            outgoing = credentials.send_password_link(actor(), user_id, utcnow(), _settings())
        except Conflict as error:
            flash(localise(error.message), "error")
        else:
            if mail.send([outgoing], _settings()):
                flash(_link_sent_message(outgoing.kind, outgoing.to), "success")
            else:
                flash(_("The link could not be e-mailed. Try again in a few minutes."), "error")
    return redirect(url_for("accounts.edit_user", user_id=user_id))


def _link_sent_message(kind: MailKind, address: str) -> str:
    if kind == MailKind.invitation:
        return _("A new invitation was e-mailed to %(email)s.", email=address)
    return _(
        "A link to choose a new password was e-mailed to %(email)s, and the account was signed "
        "out everywhere.",
        email=address,
    )
