"""認定VC for administrators' scripts: the VCs and their certifications, certifying and
revoking from a date, and importing a certified-VC list (CSV)."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask_smorest.fields import Upload
from marshmallow import Schema, fields
from werkzeug.wrappers import Response

from grants.accounts.certified_vcs import service as certifications
from grants.accounts.certified_vcs.models import VcCertification
from grants.accounts.certified_vcs.queries import vc_organizations_for
from grants.accounts.certified_vcs.rules import NOTE_MAX
from grants.accounts.models import Organization
from grants.core.http.api import ApiBlueprint, DbId, Text, api_actor
from grants.core.http.errors import render_error
from grants.core.http.i18n import localise
from grants.core.http.schemas import (
    ErrorBodySchema,
    ErrorSchema,
    PageArgs,
    page_schema,
    paginate,
    today,
)

blp = ApiBlueprint(
    "api_certified_vcs",
    __name__,
    url_prefix="/api/v1/certified-vcs",
    description="認定VC: certifications of venture-capital organisations (administrators).",
)


class CertificationSchema(Schema):
    id = fields.Integer(required=True)
    organization_id = fields.Integer(required=True)
    certified_on = fields.Date(required=True)
    expires_on = fields.Date(allow_none=True, metadata={"description": "Its last day."})
    revoked_on = fields.Date(
        allow_none=True, metadata={"description": "The first day it no longer covers."}
    )
    note = fields.String(allow_none=True)


class VcCertificationsSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    name_en = fields.String(allow_none=True)
    corporate_number = fields.String(allow_none=True)
    status = fields.String(
        required=True,
        metadata={
            "description": "On today's date (Japan).",
            "enum": [
                certifications.CERTIFIED,
                certifications.REVOKED,
                certifications.EXPIRED,
                certifications.NOT_CERTIFIED,
            ],
        },
    )
    certifications = fields.List(fields.Nested(CertificationSchema), required=True)


class NewCertificationSchema(Schema):
    organization_id = DbId(required=True)
    certified_on = fields.Date(required=True)
    expires_on = fields.Date(allow_none=True, load_default=None)
    note = Text(multiline=True, allow_none=True, load_default=None)


class RevocationSchema(Schema):
    revoked_on = fields.Date(
        required=True, metadata={"description": "The first day the VC is no longer certified."}
    )
    note = Text(
        multiline=True,
        allow_none=True,
        load_default=None,
        metadata={"description": f"The reason; the notes have {NOTE_MAX} characters in all."},
    )


class ImportFileSchema(Schema):
    file = Upload(required=True, metadata={"description": "The certified-VC list (CSV)."})


class ImportedLineSchema(Schema):
    line = fields.Integer(required=True, metadata={"description": "The line of the file."})
    corporate_number = fields.String(required=True)
    organization_id = fields.Integer(allow_none=True)
    certified_on = fields.Date(allow_none=True)
    expires_on = fields.Date(allow_none=True)
    outcome = fields.String(
        required=True,
        metadata={
            "enum": [certifications.CERTIFY, certifications.UNCHANGED, certifications.REFUSED]
        },
    )
    problems = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        required=True,
        metadata={"description": "What is wrong, by column (or `line`)."},
    )


class ImportSchema(Schema):
    lines = fields.List(fields.Nested(ImportedLineSchema), required=True)


class ImportErrorBodySchema(ErrorBodySchema):
    lines = fields.List(
        fields.Nested(ImportedLineSchema),
        metadata={"description": "Every line's outcome (fields: `lines.<line>.<column>`)."},
    )


class ImportErrorSchema(Schema):
    error = fields.Nested(ImportErrorBodySchema, required=True)


_IMPORT_DOC = {
    "requestBody": {
        "required": True,
        "content": {"multipart/form-data": {"schema": ImportFileSchema}},
    },
}


@blp.get("")
@blp.arguments(PageArgs, location="query")
@blp.response(200, page_schema(VcCertificationsSchema))
@blp.alt_response(403, schema=ErrorSchema, description="Not an administrator.")
def list_vcs(args: dict[str, Any]) -> dict[str, Any]:
    """Venture-capital organisations with their certifications (newest first) and their
    status today."""
    found = paginate(vc_organizations_for(api_actor()), args)
    history = certifications.history_by_org(org.id for org in found["items"])
    day = today()
    found["items"] = [_vc(org, history[org.id], day) for org in found["items"]]
    return found


@blp.post("/certifications")
@blp.arguments(NewCertificationSchema)
@blp.response(201, CertificationSchema)
@blp.alt_response(403, schema=ErrorSchema, description="Not an administrator.")
@blp.alt_response(
    422,
    schema=ErrorSchema,
    description="Not a venture-capital organisation, a period overlapping another, an expiry "
    "before the start.",
)
def certify(data: dict[str, Any]) -> VcCertification:
    """Certify a venture-capital organisation from a date (to an expiry day, or open-ended)."""
    return certifications.certify_vc(
        api_actor(), data["organization_id"], data["certified_on"], data["expires_on"], data["note"]
    )


@blp.post("/certifications/<int:certification_id>/revoke")
@blp.arguments(RevocationSchema)
@blp.response(200, CertificationSchema)
@blp.alt_response(403, schema=ErrorSchema, description="Not an administrator.")
@blp.alt_response(404, schema=ErrorSchema, description="No such certification.")
@blp.alt_response(409, schema=ErrorSchema, description="Revoked already.")
@blp.alt_response(422, schema=ErrorSchema, description="A day before the certification starts.")
def revoke(data: dict[str, Any], certification_id: int) -> VcCertification:
    """Revoke a certification from a date on (the VC no longer counts from that day)."""
    return certifications.revoke_certification(
        api_actor(), certification_id, data["revoked_on"], data["note"]
    )


@blp.post("/import")
@blp.arguments(ImportFileSchema, location="files")
@blp.doc(**_IMPORT_DOC)
@blp.response(201, ImportSchema, description="Every line recorded, or already on record.")
@blp.alt_response(403, schema=ErrorSchema, description="Not an administrator.")
@blp.alt_response(
    422,
    schema=ImportErrorSchema,
    description="A wrong file or line: nothing is recorded; `lines` gives every line's outcome.",
)
def import_list(files: dict[str, Any]) -> Any:
    """Import a certified-VC list (CSV, UTF-8 or Shift_JIS; columns 法人番号/corporate_number,
    認定日/certified_on, 有効期限/expires_on, 備考/note, 名称/name on line 1): all lines or none."""
    data = files["file"].read()
    try:
        imported = certifications.import_certifications(api_actor(), data)
    except certifications.ImportRefused as error:
        # the error's usual shape, with every line's outcome besides
        response, status = render_error(422, localise(error.message), localise(error.fields))
        assert isinstance(response, Response)  # under /api the error is JSON
        body = response.get_json()
        lines = [_line(item) for item in error.lines]
        body["error"]["lines"] = ImportedLineSchema(many=True).dump(lines)
        refused = jsonify(body)
        refused.status_code = status
        return refused
    return {"lines": [_line(item) for item in imported]}


def _vc(org: Organization, history: list[VcCertification], day: Any) -> dict[str, Any]:
    return {
        "id": org.id,
        "name": org.name,
        "name_en": org.name_en,
        "corporate_number": org.corporate_number,
        "status": certifications.status_from(history, day),
        "certifications": history,
    }


def _line(item: certifications.ImportedLine) -> dict[str, Any]:
    return {
        "line": item.line.number,
        "corporate_number": item.line.corporate_number,
        "organization_id": item.organization.id if item.organization else None,
        "certified_on": item.line.certified_on,
        "expires_on": item.line.expires_on,
        "outcome": item.outcome,
        "problems": localise(item.problems),
    }
