"""認定VC for administrators' scripts: the certifications, certifying and revoking from a
date, and importing a certified-VC list (CSV). (Every user reads the registry, each VC with
its status today, at GET /api/v1/certified-vcs: the applications' API.)"""

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask_smorest.fields import Upload
from marshmallow import Schema, fields
from werkzeug.wrappers import Response

from grants.accounts.certified_vcs import service as certifications
from grants.accounts.certified_vcs.models import VcCertification
from grants.accounts.certified_vcs.queries import certifications_for
from grants.accounts.certified_vcs.rules import NOTE_MAX
from grants.core.http.api import ApiBlueprint, DbId, Text, api_actor
from grants.core.http.errors import render_error
from grants.core.http.i18n import localise
from grants.core.http.schemas import (
    ErrorBodySchema,
    ErrorSchema,
    PageArgs,
    page_schema,
    paginate,
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


class CertificationArgs(PageArgs):
    organization_id = DbId(strict=False, metadata={"description": "One VC's certifications."})


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


@blp.get("/certifications")
@blp.arguments(CertificationArgs, location="query")
@blp.response(200, page_schema(CertificationSchema))
@blp.alt_response(403, schema=ErrorSchema, description="Not an administrator.")
def list_certifications(args: dict[str, Any]) -> dict[str, Any]:
    """Every certification (of one VC, or of all), newest first, with its id to revoke it.
    `GET /api/v1/certified-vcs` gives every user the registry with each VC's status today."""
    query = certifications_for(api_actor(), args.get("organization_id"))
    return paginate(query, args)


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
