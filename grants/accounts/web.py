"""Admin area: user accounts and organisations."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms import BooleanField, EmailField, SelectField, StringField, ValidationError
from wtforms.validators import DataRequired, Length, Optional

from grants.accounts import service as accounts
from grants.accounts.credentials import mail as credential_mail
from grants.accounts.credentials import queries as credential_queries
from grants.accounts.credentials.forms import PasswordLinkForm
from grants.accounts.models import Organization, User
from grants.accounts.queries import ACTIVE, INACTIVE, ORGANIZATIONS, USERS, organization_list
from grants.accounts.role_changes.queries import pending_change, pending_changes
from grants.accounts.rules import is_valid_email, normalize_email
from grants.accounts.second_factor import queries as second_factors
from grants.core.errors import DomainError
from grants.core.http.access import actor, requires
from grants.core.http.forms import Form, apply_errors
from grants.core.http.labels import locale_labels, org_kind_labels, role_labels
from grants.core.http.listing import ListView, list_query
from grants.core.identity import Locale, OrgKind, Role
from grants.core.models import utcnow
from grants.core.permissions import Action
from grants.extensions import db

bp = Blueprint("accounts", __name__, url_prefix="/admin")


class OrganizationForm(Form):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    name_en = StringField(_l("Name in English"), validators=[Optional(), Length(max=200)])
    kind = SelectField(_l("Kind"))
    corporate_number = StringField(
        _l("Corporate number (法人番号)"),
        description=_l("13 digits; the first digit is the check digit."),
    )
    listed = BooleanField(_l("Listed on a stock exchange"))
    rd_base_in_japan = BooleanField(_l("Has an R&D base in Japan"), default=True)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.kind.choices = list(org_kind_labels().items())

    def to_data(self) -> accounts.OrganizationData:
        return accounts.OrganizationData(
            name=(self.name.data or "").strip(),
            name_en=(self.name_en.data or "").strip() or None,
            kind=OrgKind(self.kind.data),
            corporate_number=(self.corporate_number.data or "").strip() or None,
            listed=bool(self.listed.data),
            rd_base_in_japan=bool(self.rd_base_in_japan.data),
        )


class UserForm(Form):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    role = SelectField(_l("Role"))
    locale = SelectField(_l("Language"))
    organization_id = SelectField(_l("Organization"), coerce=int)
    active = BooleanField(_l("Active (may sign in)"), default=True)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.role.choices = list(role_labels().items())
        self.locale.choices = list(locale_labels().items())
        locale = str(get_locale() or "ja")
        orgs = db.session.scalars(select(Organization)).all()
        names = sorted(
            ((o.id, o.display_name(locale)) for o in orgs), key=lambda c: c[1].casefold()
        )
        self.organization_id.choices = [(0, _("(none)"))] + names

    def validate_email(self, field: EmailField) -> None:
        if not is_valid_email(normalize_email(field.data or "")):
            raise ValidationError(_("Enter a valid e-mail address."))

    def to_data(self) -> accounts.UserData:
        return accounts.UserData(
            email=self.email.data or "",
            name=(self.name.data or "").strip(),
            role=Role(self.role.data),
            locale=Locale(self.locale.data),
            organization_id=self.organization_id.data or None,
            active=bool(self.active.data),
        )


@bp.get("/users")
@requires(Action.manage_users)
def users() -> str:
    asked = list_query(USERS)
    page = accounts.list_users(actor(), asked)
    view = ListView(
        USERS,
        asked,
        page,
        states=[(ACTIVE, _("Active")), (INACTIVE, _("Inactive"))],
        kinds=list(role_labels().items()),
    )
    pending = pending_changes(user.id for user in page.items)
    return render_template("accounts/users.html", view=view, pending=pending)


@bp.route("/users/new", methods=["GET", "POST"])
@requires(Action.manage_users)
def new_user() -> str | Response:
    form = UserForm()
    if form.validate_on_submit():
        try:
            user, invitation = accounts.create_user(
                actor(), form.to_data(), now=utcnow(), settings=current_app.config
            )
        except DomainError as error:
            apply_errors(form, error)
        else:
            _tell_invitation(credential_mail.send([invitation], current_app.config))
            _tell_pending(user)
            return redirect(url_for("accounts.edit_user", user_id=user.id))
    page = render_template("accounts/user_form.html", form=form, user=None, pending=None)
    return page, _status(form)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@requires(Action.manage_users)
def edit_user(user_id: int) -> str | Response:
    if request.method == "GET":  # an administrator's look at a person's details is audited
        user = accounts.view_user(actor(), user_id)
    else:
        user = db.get_or_404(User, user_id)
    form = UserForm(obj=user)
    if request.method == "GET":
        form.organization_id.data = user.organization_id or 0
    if form.validate_on_submit():
        try:
            accounts.update_user(actor(), user_id, form.to_data())
        except DomainError as error:
            apply_errors(form, error)
        else:
            flash(_("The account was saved."), "success")
            _tell_pending(user)
            return redirect(url_for("accounts.users"))
    page = render_template(
        "accounts/user_form.html",
        form=form,
        user=user,
        pending=pending_change(user_id),
        second_factor_reset=second_factors.may_reset(actor(), user),
        password=credential_queries.password_state(user, utcnow()),
        link_form=PasswordLinkForm(),
    )
    return page, _status(form)


def _tell_pending(user: User) -> None:
    """A role given waits for a second administrator: say so."""
    if pending_change(user.id) is not None:
        flash(
            _(
                "The new role takes effect when a second administrator confirms it on the "
                "role changes page; until then the account keeps its present role."
            ),
            "info",
        )


@bp.get("/organizations")
@requires(Action.manage_organizations)
def organizations() -> str:
    asked = list_query(ORGANIZATIONS)
    page = organization_list(actor(), asked)
    view = ListView(ORGANIZATIONS, asked, page, kinds=list(org_kind_labels().items()))
    return render_template("accounts/organizations.html", view=view)


@bp.route("/organizations/new", methods=["GET", "POST"])
@requires(Action.manage_organizations)
def new_organization() -> str | Response:
    form = OrganizationForm()
    if form.validate_on_submit():
        try:
            accounts.create_organization(actor(), form.to_data())
        except DomainError as error:
            apply_errors(form, error)
        else:
            flash(_("The organization was created."), "success")
            return redirect(url_for("accounts.organizations"))
    return render_template("accounts/organization_form.html", form=form, org=None), _status(form)


@bp.route("/organizations/<int:org_id>", methods=["GET", "POST"])
@requires(Action.manage_organizations)
def edit_organization(org_id: int) -> str | Response:
    org = db.get_or_404(Organization, org_id)
    form = OrganizationForm(obj=org)
    if form.validate_on_submit():
        try:
            accounts.update_organization(actor(), org_id, form.to_data())
        except DomainError as error:
            apply_errors(form, error)
        else:
            flash(_("The organization was saved."), "success")
            return redirect(url_for("accounts.organizations"))
    return render_template("accounts/organization_form.html", form=form, org=org), _status(form)


def _tell_invitation(sent: bool) -> None:
    if sent:
        message = _("The account was created, and an invitation to set its password was e-mailed.")
        flash(message, "success")
        return
    message = _(
        "The account was created, but its invitation could not be e-mailed: "
        "send it again from this page."
    )
    flash(message, "error")


def _status(form: FlaskForm) -> int:
    """A form sent back with errors answers 422, so scripts and tests can tell."""
    return 422 if form.errors or form.form_errors else 200
