"""Second factors on the security settings page: an authenticator app (QR code drawn here),
passkeys and security keys, recovery codes; the gate that sends a user whose role needs a
second factor to set one up; giving it again before a sensitive action; an administrator's
reset of another user's."""

from __future__ import annotations

from urllib.parse import urlsplit

import segno
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
from flask_login import current_user, login_required
from markupsafe import Markup
from werkzeug.wrappers import Response

from grants.accounts.credentials.forms import ChangePasswordForm
from grants.accounts.models import User
from grants.accounts.second_factor import queries, service
from grants.accounts.second_factor.forms import (
    ButtonForm,
    CodeForm,
    ConfirmTotpForm,
    NewPasskeyForm,
    PasskeyForm,
    security_section,
)
from grants.accounts.second_factor.passkeys import service as passkeys
from grants.accounts.second_factor.rules import SecondFactorPolicy, SecretBox, provisioning_uri
from grants.accounts.sessions.web import (
    forget_second_factor,
    mark_second_factor_given,
    relying_party,
    second_factor_given_at,
)
from grants.core.errors import DomainError
from grants.core.http.access import actor, requires
from grants.core.http.forms import apply_errors, status
from grants.core.http.i18n import localise
from grants.core.mail import MailError, Message, backend_from_config
from grants.core.models import utcnow
from grants.core.permissions import Action
from grants.extensions import db, limiter

bp = Blueprint("second_factor", __name__)
PREFIX = "/settings/security/second-factor"

# What a user whose role needs a second factor may open before they set one up.
_GATE_OPEN = frozenset(
    {
        "static",
        "sessions.logout",
        "sessions.language",
        "second_factor.enrol",
        "second_factor.begin_totp",
        "second_factor.totp",
        "second_factor.confirm_totp",
        "second_factor.passkey_options",
        "second_factor.register_passkey",
        "second_factor.verify",
        "second_factor.verify_passkey_options",
        "second_factor.verify_passkey",
    }
)


# The health checks: no sign-in, no session, and an answer even while the database is down.
_NO_SESSION = frozenset({"operations"})


def _limit() -> str:
    return current_app.config["SECOND_FACTOR_RATE_LIMIT"]


def _own_key() -> str:
    return f"second-factor:{current_user.get_id()}"


def _refused(response: Response) -> bool:
    return response.status_code != 302


@bp.before_app_request
def _require_second_factor() -> Response | None:
    """Before any other page, a user whose role needs a second factor gives one (set one up
    first if they have none)."""
    if request.endpoint is None or request.endpoint in _GATE_OPEN:
        return None
    if request.blueprint in _NO_SESSION or request.path.startswith("/api/"):
        return None
    if second_factor_given_at() is not None or "_user_id" not in session:
        return None  # decided without the database
    if not current_user.is_authenticated or not _policy().required_for(current_user.role):
        return None
    target = request.full_path.rstrip("?") if request.method == "GET" else None
    return redirect(url_for("second_factor.enrol", next=target))


# --- the second-factor section of the security settings (credentials.security) -------------


def _section() -> dict[str, object]:
    return security_section(actor(), _policy(), _next())


@bp.get(f"{PREFIX}/enrol")
@login_required
def enrol() -> str | Response:
    """Where the gate sends a user whose role needs a second factor."""
    if queries.has_second_factor(actor().id):
        return redirect(url_for(".verify", next=_next()))
    return render_template("accounts/second_factor/enrol.html", **_section())


# --- authenticator app --------------------------------------------------------------------


@bp.post(f"{PREFIX}/totp")
@login_required
def begin_totp() -> Response:
    if ButtonForm().validate_on_submit():
        try:
            service.begin_totp(actor(), _box())
        except DomainError as error:
            flash(_message(error), "error")
            return redirect(url_for("credentials.security"))
    return redirect(url_for(".totp", next=_next()))


@bp.get(f"{PREFIX}/totp")
@login_required
def totp() -> str | Response:
    return _totp_page(ConfirmTotpForm())


def _totp_page(form: ConfirmTotpForm) -> str | Response:
    secret = queries.pending_totp_secret(actor().id, _box())
    if secret is None:
        return redirect(url_for("credentials.security"))
    uri = provisioning_uri(secret, actor().email, _("Milestone Grants"))
    qr = segno.make(uri, error="m").svg_inline(scale=5, border=2, svgclass="qr-code-image")
    page = render_template(
        "accounts/second_factor/totp.html",
        form=form,
        secret=secret,
        qr=Markup(qr),  # noqa: S704  (segno draws the SVG and escapes what it writes)
        next=_next(),
    )
    return page, status(form)  # type: ignore[return-value]


@bp.post(f"{PREFIX}/totp/confirm")
@login_required
@limiter.limit(_limit, key_func=_own_key, deduct_when=_refused)
def confirm_totp() -> str | Response:
    form = ConfirmTotpForm()
    if form.validate_on_submit():
        try:
            enrolled = service.confirm_totp(actor(), form.code.data or "", _box(), utcnow())
        except DomainError as error:
            apply_errors(form, error)
        else:
            return _added(enrolled, _("The authenticator app is set up."))
    return _totp_page(form)


@bp.post(f"{PREFIX}/totp/remove")
@login_required
def remove_totp() -> Response:
    if ButtonForm().validate_on_submit():
        try:
            notice = service.remove_totp(actor(), _policy())
        except DomainError as error:
            flash(_message(error), "error")
        else:
            _removed(notice, _("The authenticator app is removed."))
    return redirect(url_for("credentials.security"))


# --- passkeys and security keys -----------------------------------------------------------


@bp.post(f"{PREFIX}/passkeys/options.json")
@login_required
def passkey_options() -> Response:
    options = passkeys.passkey_registration_options(actor(), relying_party(), utcnow())
    return current_app.response_class(options, mimetype="application/json")


@bp.post(f"{PREFIX}/passkeys")
@login_required
def register_passkey() -> str | Response:
    form = NewPasskeyForm()
    if form.validate_on_submit():
        try:
            enrolled = passkeys.register_passkey(
                actor(), form.name.data or "", form.credential.data or "", relying_party(), utcnow()
            )
        except DomainError as error:
            apply_errors(form, error)
        else:
            return _added(enrolled, _("The passkey is registered."))
    password_form = ChangePasswordForm(
        formdata=None, min_length=current_app.config["PASSWORD_MIN_LENGTH"]
    )
    context = _section() | {"passkey_form": form, "password_form": password_form}
    page = render_template("accounts/security.html", **context)
    return page, 422  # type: ignore[return-value]


@bp.post(f"{PREFIX}/passkeys/<int:passkey_id>/remove")
@login_required
def remove_passkey(passkey_id: int) -> Response:
    if ButtonForm().validate_on_submit():
        try:
            notice = passkeys.remove_passkey(actor(), passkey_id, _policy())
        except DomainError as error:
            flash(_message(error), "error")
        else:
            _removed(notice, _("The passkey is removed."))
    return redirect(url_for("credentials.security"))


# --- recovery codes -----------------------------------------------------------------------


@bp.post(f"{PREFIX}/recovery-codes")
@login_required
def recovery_codes() -> str | Response:
    if not ButtonForm().validate_on_submit():
        return redirect(url_for("credentials.security"))
    try:
        codes, notice = service.regenerate_recovery_codes(actor())
    except DomainError as error:
        flash(_message(error), "error")
        return redirect(url_for("credentials.security"))
    _tell(notice)
    return _codes_page(codes, _("New recovery codes are made; the old ones no longer work."))


def _added(enrolled: service.Enrolled, done: str) -> str | Response:
    mark_second_factor_given()  # the user just proved they hold it
    _tell(enrolled.notice)
    if enrolled.recovery_codes:
        return _codes_page(enrolled.recovery_codes, done)
    flash(done, "success")
    return redirect(_next() or url_for("credentials.security"))


def _removed(notice: Message, done: str) -> None:
    if not queries.has_second_factor(actor().id):
        forget_second_factor()
    _tell(notice)
    flash(done, "success")


def _codes_page(codes: list[str], done: str) -> str:
    return render_template(
        "accounts/second_factor/recovery_codes.html",
        codes=codes,
        done=done,
        next=_next() or url_for("credentials.security"),
    )


# --- giving the second factor again -------------------------------------------------------


@bp.route(f"{PREFIX}/verify", methods=["GET", "POST"])
@login_required
@limiter.limit(_limit, key_func=_own_key, methods=["POST"], deduct_when=_refused)
def verify() -> str | Response:
    """Give the second factor again (before creating an API token; or a session that began
    before the factor was set up elsewhere), then go on to `next`."""
    if not queries.has_second_factor(actor().id):
        return redirect(url_for(".enrol", next=_next()))
    form = CodeForm()
    if form.validate_on_submit():
        try:
            service.verify_code(actor(), form.code.data or "", _box(), utcnow())
        except DomainError as error:
            apply_errors(form, error)
        else:
            return _verified()
    return _verify_page(form, PasskeyForm(formdata=None))


@bp.post(f"{PREFIX}/verify/passkey-options.json")
@login_required
def verify_passkey_options() -> Response:
    options = passkeys.passkey_sign_in_options(actor(), relying_party(), utcnow())
    return current_app.response_class(options, mimetype="application/json")


@bp.post(f"{PREFIX}/verify/passkey")
@login_required
@limiter.limit(_limit, key_func=_own_key, deduct_when=_refused)
def verify_passkey() -> str | Response:
    form = PasskeyForm()
    if form.validate_on_submit():
        try:
            passkeys.verify_passkey(actor(), form.credential.data or "", relying_party(), utcnow())
        except DomainError as error:
            apply_errors(form, error)
        else:
            return _verified()
    return _verify_page(CodeForm(formdata=None), form)


def _verified() -> Response:
    mark_second_factor_given()
    return redirect(_next() or url_for("home.home"))


def _verify_page(form: CodeForm, passkey_form: PasskeyForm) -> tuple[str, int]:
    page = render_template(
        "accounts/second_factor/verify.html",
        form=form,
        passkey_form=passkey_form,
        has_passkey=queries.has_passkey(actor().id),
        next=_next(),
    )
    return page, max(status(form), status(passkey_form))


# --- an administrator's reset -------------------------------------------------------------


@bp.post("/admin/users/<int:user_id>/second-factor/reset")
@requires(Action.manage_users)
def reset(user_id: int) -> Response:
    user = db.get_or_404(User, user_id)
    if ButtonForm().validate_on_submit():
        try:
            notice = service.reset(actor(), user.id)
        except DomainError as error:
            flash(_message(error), "error")
        else:
            _tell(notice)
            flash(_("The second factor of %(name)s is reset.", name=user.name), "success")
    return redirect(url_for("accounts.edit_user", user_id=user_id))


# --- helpers ------------------------------------------------------------------------------


def _policy() -> SecondFactorPolicy:
    return SecondFactorPolicy.of(current_app.config)


def _box() -> SecretBox:
    return SecretBox.of(current_app.config)


def _next() -> str | None:
    """Where to go once done: a path on this site, else nothing."""
    target = request.args.get("next") or ""
    parts = urlsplit(target)
    if target.startswith("/") and not parts.scheme and not parts.netloc and "\\" not in target:
        return target
    return None


def _message(error: DomainError) -> str:
    return str(localise(error.message))


def _tell(notice: Message) -> None:
    """E-mail the account's owner now (the change is committed); say so if it failed."""
    backend = backend_from_config(current_app.config)
    try:
        backend.send(notice)
    except MailError:
        flash(_("The e-mail telling the account's owner could not be sent."), "warning")
    finally:
        backend.close()
