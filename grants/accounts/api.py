"""User accounts and organisations as administrators list them."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields

from grants.accounts.queries import ORGANIZATIONS, USERS, organization_list, user_list
from grants.core.http.api import ApiBlueprint, api_actor
from grants.core.http.schemas import ErrorSchema, list_args, listed, page_schema
from grants.core.identity import Locale, OrgKind, Role

blp = ApiBlueprint(
    "api_accounts", __name__, url_prefix="/api/v1", description="Accounts (administrators)."
)


class UserSchema(Schema):
    id = fields.Integer(required=True)
    email = fields.String(required=True)
    name = fields.String(required=True)
    role = fields.String(required=True, metadata={"enum": [str(role) for role in Role]})
    locale = fields.String(required=True, metadata={"enum": [str(locale) for locale in Locale]})
    active = fields.Boolean(required=True, metadata={"description": "Whether it may sign in."})
    organization_id = fields.Integer(allow_none=True)
    organization_name = fields.String(
        allow_none=True, attribute="organization.name", dump_default=None
    )
    created_at = fields.DateTime(required=True)
    last_login_at = fields.DateTime(allow_none=True)


class OrganizationSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    name_en = fields.String(allow_none=True)
    kind = fields.String(required=True, metadata={"enum": [str(kind) for kind in OrgKind]})
    corporate_number = fields.String(allow_none=True)
    listed = fields.Boolean(required=True)
    rd_base_in_japan = fields.Boolean(required=True)
    created_at = fields.DateTime(required=True)


USER_ARGS = list_args(USERS, "UserListArgs")
ORGANIZATION_ARGS = list_args(ORGANIZATIONS, "OrganizationListArgs")


@blp.get("/users")
@blp.arguments(USER_ARGS.schema, location="query")
@blp.response(200, page_schema(UserSchema))
@blp.alt_response(403, schema=ErrorSchema, description="Administrators only.")
def list_users(args: dict[str, Any]) -> dict[str, Any]:
    """User accounts by e-mail unless `sort` says otherwise; filters: `state` (active: may
    sign in), `kind` (the role) and `q` (in the e-mail address and the name)."""
    return listed(user_list(api_actor(), USER_ARGS.query(args)))


@blp.get("/organizations")
@blp.arguments(ORGANIZATION_ARGS.schema, location="query")
@blp.response(200, page_schema(OrganizationSchema))
@blp.alt_response(403, schema=ErrorSchema, description="Administrators only.")
def list_organizations(args: dict[str, Any]) -> dict[str, Any]:
    """Organisations by name unless `sort` says otherwise; filters: `kind` and `q` (in the
    names and the corporate number)."""
    return listed(organization_list(api_actor(), ORGANIZATION_ARGS.query(args)))
