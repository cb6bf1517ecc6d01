"""The admin API: organisations (法人番号 checked), user accounts (listed and read with an
audit row, invited, changed, activated or deactivated) and the role changes a second
administrator confirms. Administrators only."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from flask import current_app, g
from flask_sqlalchemy.pagination import Pagination
from marshmallow import Schema, fields, validate

from grants.accounts import service as accounts
from grants.accounts.credentials import mail as credential_mail
from grants.accounts.models import Organization, User
from grants.accounts.queries import ORGANIZATIONS, USERS, organization_list
from grants.accounts.role_changes import queries as role_change_queries
from grants.accounts.role_changes import service as role_changes
from grants.accounts.role_changes.models import RoleChange
from grants.accounts.role_changes.rules import RoleChangeState
from grants.core.db import paginate as paginate_query
from grants.core.http.api import ApiBlueprint, DbId, ForCaller, api_actor
from grants.core.http.schemas import ErrorSchema, PageArgs, list_args, listed, page_schema
from grants.core.identity import Locale, OrgKind, Role
from grants.core.models import utcnow
from grants.core.permissions import Action, Subject, require
from grants.extensions import db

blp = ApiBlueprint(
    "api_accounts",
    __name__,
    url_prefix="/api/v1",
    description="Organisations, user accounts and role changes (administrators).",
)
_ADMIN_ONLY = "Not an administrator."


# --- organisations -----------------------------------------------------------------------


class OrganizationInSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    name_en = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=200))
    kind = fields.String(required=True, validate=validate.OneOf([str(k) for k in OrgKind]))
    corporate_number = fields.String(
        allow_none=True,
        load_default=None,
        validate=validate.Length(max=40),
        metadata={"description": "法人番号: 13 digits, the first one the check digit."},
    )
    listed = fields.Boolean(load_default=False)
    rd_base_in_japan = fields.Boolean(load_default=True)


class OrganizationSchema(OrganizationInSchema):
    id = fields.Integer(required=True)
    created_at = fields.DateTime(required=True)


ORGANIZATION_ARGS = list_args(ORGANIZATIONS, "OrganizationListArgs")


@blp.get("/organizations")
@blp.arguments(ORGANIZATION_ARGS.schema, location="query")
@blp.response(200, page_schema(OrganizationSchema))
@blp.alt_response(403, schema=ErrorSchema, description=_ADMIN_ONLY)
def list_organizations(args: dict[str, Any]) -> dict[str, Any]:
    """Organisations by name unless `sort` says otherwise; filters: `kind` and `q` (in the
    names and the corporate number)."""
    return listed(organization_list(api_actor(), ORGANIZATION_ARGS.query(args)))


@blp.post("/organizations")
@blp.arguments(OrganizationInSchema)
@blp.response(201, OrganizationSchema)
@blp.alt_response(403, schema=ErrorSchema, description=_ADMIN_ONLY)
@blp.alt_response(
    422,
    schema=ErrorSchema,
    description="A wrong 法人番号 (length, digits, check digit) or one in use.",
)
def create_organization(data: dict[str, Any]) -> Organization:
    return accounts.create_organization(api_actor(), _organization(data))


@blp.get("/organizations/<int:org_id>")
@blp.response(200, OrganizationSchema)
@blp.alt_response(403, schema=ErrorSchema, description=_ADMIN_ONLY)
@blp.alt_response(404, schema=ErrorSchema, description="No such organisation.")
def get_organization(org_id: int) -> Organization:
    _require(Action.manage_organizations)
    return db.get_or_404(Organization, org_id)


@blp.put("/organizations/<int:org_id>")
@blp.arguments(OrganizationInSchema)
@blp.response(200, OrganizationSchema)
@blp.alt_response(403, schema=ErrorSchema, description=_ADMIN_ONLY)
@blp.alt_response(404, schema=ErrorSchema, description="No such organisation.")
@blp.alt_response(422, schema=ErrorSchema, description="A wrong 法人番号, or one in use.")
def update_organization(data: dict[str, Any], org_id: int) -> Organization:
    """Replace an organisation's details."""
    return accounts.update_organization(api_actor(), org_id, _organization(data))


def _organization(data: dict[str, Any]) -> accounts.OrganizationData:
    return accounts.OrganizationData(
        name=data["name"].strip(),
        kind=OrgKind(data["kind"]),
        name_en=(data["name_en"] or "").strip() or None,
        corporate_number=(data["corporate_number"] or "").strip() or None,
        listed=data["listed"],
        rd_base_in_japan=data["rd_base_in_japan"],
    )


# --- user accounts -----------------------------------------------------------------------


class PendingRoleChangeSchema(Schema):
    id = fields.Integer(required=True)
    role = fields.String(required=True, metadata={"enum": [str(r) for r in Role]})
    requested_by_id = fields.Integer(required=True)
    requested_at = fields.DateTime(required=True)


class UserInSchema(Schema):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    role = fields.String(required=True, validate=validate.OneOf([str(r) for r in Role]))
    locale = fields.String(load_default="ja", validate=validate.OneOf([str(x) for x in Locale]))
    organization_id = DbId(allow_none=True, load_default=None)
    active = fields.Boolean(load_default=True)


class UserSchema(Schema):
    id = fields.Integer(required=True)
    email = fields.String(required=True)
    name = fields.String(required=True)
    role = fields.String(required=True, metadata={"enum": [str(r) for r in Role]})
    locale = fields.String(required=True)
    organization_id = fields.Integer(allow_none=True)
    organization_name = fields.String(
        allow_none=True, attribute="organization.name", dump_default=None
    )
    active = fields.Boolean(required=True)
    created_at = fields.DateTime(required=True)
    last_login_at = fields.DateTime(allow_none=True)
    pending_role_change = ForCaller(
        PendingRoleChangeSchema,
        lambda _caller, user: _pending(user.id),
        allow_none=True,
        metadata={
            "description": "An officer or administrator role given to the account waits for a "
            "second administrator: the account keeps `role` and `active` meanwhile."
        },
    )


USER_ARGS = list_args(USERS, "UserListArgs")


@blp.get("/users")
@blp.arguments(USER_ARGS.schema, location="query")
@blp.response(200, page_schema(UserSchema))
@blp.alt_response(403, schema=ErrorSchema, description=_ADMIN_ONLY)
def list_users(args: dict[str, Any]) -> dict[str, Any]:
    """User accounts by e-mail unless `sort` says otherwise; filters: `state` (active: may
    sign in), `kind` (the role) and `q` (in the e-mail address and the name). The audit log
    records who listed which accounts."""
    found = accounts.list_users(api_actor(), USER_ARGS.query(args))
    g.pending_role_changes = role_change_queries.pending_changes(u.id for u in found.items)
    return listed(found)


def _pending(user_id: int) -> RoleChange | None:
    """The account's waiting role change: read once for a whole list (list_users)."""
    listed_changes = g.get("pending_role_changes")
    if listed_changes is not None:
        return listed_changes.get(user_id)
    return role_change_queries.pending_change(user_id)


class InvitedUserSchema(UserSchema):
    invitation_sent = fields.Boolean(
        required=True,
        metadata={
            "description": "Whether the invitation e-mail went out; if not, send the account "
            "a password link from its page."
        },
    )


@blp.post("/users")
@blp.arguments(UserInSchema)
@blp.response(201, InvitedUserSchema)
@blp.alt_response(403, schema=ErrorSchema, description=_ADMIN_ONLY)
@blp.alt_response(
    422, schema=ErrorSchema, description="An address in use, an unknown organisation."
)
def invite_user(data: dict[str, Any]) -> SimpleNamespace:
    """Invite a new account: it gets an e-mail with a link to set its own password. An
    active officer or administrator waits, inactive, for a second administrator to confirm
    the role (`pending_role_change`)."""
    user, invitation = accounts.create_user(
        api_actor(), _user(data), now=utcnow(), settings=current_app.config
    )
    sent = credential_mail.send([invitation], current_app.config)
    derived = {"pending_role_change", "organization_name"}
    columns = [name for name in UserSchema().fields if name not in derived]
    values = {name: getattr(user, name) for name in columns}
    return SimpleNamespace(**values, organization=user.organization, invitation_sent=sent)


@blp.get("/users/<int:user_id>")
@blp.response(200, UserSchema)
@blp.alt_response(403, schema=ErrorSchema, description=_ADMIN_ONLY)
@blp.alt_response(404, schema=ErrorSchema, description="No such account.")
def get_user(user_id: int) -> User:
    """One account; the audit log records the read."""
    return accounts.view_user(api_actor(), user_id)


@blp.put("/users/<int:user_id>")
@blp.arguments(UserInSchema)
@blp.response(200, UserSchema)
@blp.alt_response(403, schema=ErrorSchema, description=_ADMIN_ONLY)
@blp.alt_response(404, schema=ErrorSchema, description="No such account.")
@blp.alt_response(
    422,
    schema=ErrorSchema,
    description="An address in use, the last active administrator, a role change already waiting.",
)
def update_user(data: dict[str, Any], user_id: int) -> User:
    """Replace an account's details. Giving an officer or administrator role (or activating
    such an account) waits for a second administrator; taking one away is immediate."""
    return accounts.update_user(api_actor(), user_id, _user(data))


@blp.post("/users/<int:user_id>/activate")
@blp.response(200, UserSchema)
@blp.alt_response(403, schema=ErrorSchema, description=_ADMIN_ONLY)
@blp.alt_response(404, schema=ErrorSchema, description="No such account.")
@blp.alt_response(422, schema=ErrorSchema, description="A role change already waiting.")
def activate_user(user_id: int) -> User:
    """Let the account sign in again (an officer or administrator: once confirmed)."""
    return accounts.set_active(api_actor(), user_id, True)


@blp.post("/users/<int:user_id>/deactivate")
@blp.response(200, UserSchema)
@blp.alt_response(403, schema=ErrorSchema, description=_ADMIN_ONLY)
@blp.alt_response(404, schema=ErrorSchema, description="No such account.")
@blp.alt_response(422, schema=ErrorSchema, description="The last active administrator.")
def deactivate_user(user_id: int) -> User:
    """Stop the account from signing in (its API tokens stop working too)."""
    return accounts.set_active(api_actor(), user_id, False)


def _user(data: dict[str, Any]) -> accounts.UserData:
    return accounts.UserData(
        email=data["email"],
        name=data["name"].strip(),
        role=Role(data["role"]),
        locale=Locale(data["locale"]),
        organization_id=data["organization_id"],
        active=data["active"],
    )


# --- role changes ------------------------------------------------------------------------


class RoleChangeSchema(Schema):
    id = fields.Integer(required=True)
    user_id = fields.Integer(required=True)
    role = fields.String(required=True, metadata={"description": "The role asked for."})
    from_role = fields.String(required=True)
    from_active = fields.Boolean(required=True)
    state = fields.String(
        required=True, metadata={"enum": [str(state) for state in RoleChangeState]}
    )
    requested_by_id = fields.Integer(required=True)
    requested_at = fields.DateTime(required=True)
    decided_by_id = fields.Integer(
        allow_none=True, metadata={"description": "null once decided: the system (command line)."}
    )
    decided_at = fields.DateTime(allow_none=True)


class RoleChangeArgs(PageArgs):
    state = fields.String(
        load_default=str(RoleChangeState.pending),
        validate=validate.OneOf([str(state) for state in RoleChangeState]),
    )


@blp.get("/role-changes")
@blp.arguments(RoleChangeArgs, location="query")
@blp.response(200, page_schema(RoleChangeSchema))
@blp.alt_response(403, schema=ErrorSchema, description=_ADMIN_ONLY)
def list_role_changes(args: dict[str, Any]) -> dict[str, Any]:
    """Role changes in a state (by default those waiting for a second administrator)."""
    _require(Action.manage_users)
    query = role_change_queries.changes_in(RoleChangeState(args["state"]))
    return _page(paginate_query(query, args["page"], args["per_page"]))


@blp.post("/role-changes/<int:change_id>/confirm")
@blp.response(200, RoleChangeSchema)
@blp.alt_response(
    403,
    schema=ErrorSchema,
    description="Not an administrator, the one who asked, or the account it is about.",
)
@blp.alt_response(404, schema=ErrorSchema, description="No such role change.")
@blp.alt_response(
    409, schema=ErrorSchema, description="Decided already, or the account changed since."
)
def confirm_role_change(change_id: int) -> RoleChange:
    """Confirm, as a second administrator: the account becomes an active holder of the role."""
    return role_changes.confirm_role_change(api_actor(), change_id)


@blp.post("/role-changes/<int:change_id>/refuse")
@blp.response(200, RoleChangeSchema)
@blp.alt_response(403, schema=ErrorSchema, description=_ADMIN_ONLY)
@blp.alt_response(404, schema=ErrorSchema, description="No such role change.")
@blp.alt_response(409, schema=ErrorSchema, description="Decided already.")
def refuse_role_change(change_id: int) -> RoleChange:
    """Refuse (or, as the one who asked, withdraw) a role change: the account keeps its role."""
    return role_changes.refuse_role_change(api_actor(), change_id)


# -----------------------------------------------------------------------------------------


def _require(action: Action) -> None:
    require(action, Subject(role=api_actor().role))


def _page(found: Pagination) -> dict[str, Any]:
    return {
        "items": found.items,
        "page": found.page,
        "per_page": found.per_page,
        "total": found.total or 0,
    }
