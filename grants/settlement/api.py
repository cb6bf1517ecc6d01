"""Settlement through the API: a grant's periods, the grantee's results report (saved,
receipts added, submitted), the officers' inspection, return for correction, confirmation
and returns received, the notices as PDFs and the settlement ledger CSV.

Field errors are keyed by dotted path ("lines.0.claimed"): see grants.core.http.api.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import current_app
from flask_smorest.fields import Upload
from marshmallow import Schema, fields, validate
from werkzeug.wrappers import Response

from grants.awards.queries import visible_grant
from grants.core.db import begin_writing
from grants.core.http.api import ApiBlueprint, DbId, Text, api_actor
from grants.core.http.downloads import csv_response, pdf_response
from grants.core.http.i18n import select_locale
from grants.core.http.limits import accepts_uploads
from grants.core.http.schemas import ErrorSchema, Yen, today
from grants.rules.settlement import ExcessMethod
from grants.settlement import queries, service
from grants.settlement.documents import service as documents
from grants.settlement.inspection import service as inspection
from grants.settlement.ledger import service as ledger
from grants.settlement.models import ResultsReport
from grants.settlement.rules import ReportState

blp = ApiBlueprint(
    "api_settlement",
    __name__,
    url_prefix="/api/v1",
    description="Results reports, inspection and the final amount (settlement).",
)

REPORT_STATES = [state.value for state in ReportState]
METHODS = [method.value for method in ExcessMethod]


class LineInSchema(Schema):
    category = fields.String(
        required=True, metadata={"description": "A category code of the rule set."}
    )
    description = Text(required=True)
    claimed = Yen(required=True)


class ReportInSchema(Schema):
    lines = fields.List(fields.Nested(LineInSchema), required=True)
    indirect_cost = Yen(load_default=0)
    note = Text(multiline=True, load_default="")
    submit = fields.Boolean(
        load_default=False, metadata={"description": "Submit for inspection once saved."}
    )


class ReceiptsSchema(Schema):
    files = fields.List(
        Upload(),
        load_default=list,
        metadata={"description": "PDF, PNG, JPEG, CSV, XLSX or DOCX receipts."},
    )


class DecisionInSchema(Schema):
    accepted = Yen(required=True)
    reason = Text(
        multiline=True,
        load_default="",
        metadata={"description": "Required when the accepted amount differs from the claim."},
    )


class InspectInSchema(Schema):
    lines = fields.List(
        fields.Nested(DecisionInSchema),
        required=True,
        metadata={"description": "One decision per line of the report, in its order."},
    )


class ReturnInSchema(Schema):
    note = Text(multiline=True, required=True)


class ConfirmInSchema(Schema):
    excess_method = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.OneOf(METHODS),
        metadata={
            "enum": METHODS,
            "description": "Required when the advance paid exceeds the final amount.",
        },
    )


class ReturnReceivedInSchema(Schema):
    received_on = fields.Date(required=True)


class LineSchema(Schema):
    category = fields.String(required=True)
    description = fields.String(required=True)
    claimed = Yen(required=True)
    accepted = Yen(allow_none=True)
    reason = fields.String(allow_none=True)


class FigureSchema(Schema):
    key = fields.String(required=True)
    amount = fields.Integer(required=True)
    message = fields.Dict(keys=fields.String(), values=fields.String(), required=True)


class FinalAmountSchema(Schema):
    id = fields.Integer(required=True)
    period = fields.String(required=True)
    payment = fields.String(required=True)
    decided = Yen(required=True)
    final_amount = Yen(required=True)
    advance_paid = Yen(required=True)
    excess = Yen(required=True)
    excess_method = fields.String(allow_none=True, metadata={"enum": METHODS})
    return_due_on = fields.Date(allow_none=True)
    returned_on = fields.Date(allow_none=True)
    carried = Yen(
        required=True,
        metadata={
            "description": "From a fund (基金): what the final amount cut from tranches still "
            "to pay, carried over to the grant's next milestone (0: it lapsed)."
        },
    )
    carried_to_id = fields.Integer(
        allow_none=True, metadata={"description": "The milestone it was carried over to."}
    )
    figures = fields.List(fields.Nested(FigureSchema), required=True)


class ReportSchema(Schema):
    id = fields.Integer(required=True)
    grant_id = fields.Integer(required=True)
    period = fields.String(required=True)
    state = fields.String(required=True, metadata={"enum": REPORT_STATES})
    due_on = fields.Date(required=True)
    indirect_cost = Yen(required=True)
    note = fields.String(required=True)
    correction_note = fields.String(allow_none=True)
    lines = fields.List(fields.Nested(LineSchema), required=True)
    receipts = fields.List(fields.String(), required=True)
    figures = fields.List(
        fields.Nested(FigureSchema),
        required=True,
        metadata={"description": "What the report comes to now, each figure explained."},
    )
    final_amount = fields.Nested(FinalAmountSchema, allow_none=True)


class PeriodSchema(Schema):
    period = fields.String(required=True)
    fiscal_year = fields.Integer(required=True)
    decided = Yen(required=True)
    ends = fields.Date(required=True)
    due_on = fields.Date(required=True)
    overdue = fields.Boolean(required=True)
    report_id = fields.Integer(allow_none=True)
    report_state = fields.String(allow_none=True, metadata={"enum": REPORT_STATES})
    final_amount = Yen(allow_none=True)
    settlement_id = fields.Integer(allow_none=True)


class LedgerArgs(Schema):
    program_id = DbId(strict=False)
    fiscal_year = fields.Integer()


class NoticeArgs(Schema):
    lang = fields.String(load_default="ja", validate=validate.OneOf(["ja", "en"]))


_RECEIPTS_DOC = {
    "parameters": [],
    "requestBody": {
        "required": True,
        "content": {"multipart/form-data": {"schema": ReceiptsSchema}},
    },
}


@blp.get("/grants/<int:grant_id>/settlement")
@blp.response(200, PeriodSchema(many=True))
@blp.alt_response(404, schema=ErrorSchema, description="No such grant, or not mine to see.")
def periods(grant_id: int) -> list[dict[str, Any]]:
    """The grant's settlement periods with their reports and final amounts."""
    view = queries.grant_settlement(api_actor(), grant_id, today())
    return [
        {
            "period": row.period.key,
            "fiscal_year": row.period.fiscal_year,
            "decided": row.period.decided,
            "ends": row.period.end,
            "due_on": row.due_on,
            "overdue": row.overdue,
            "report_id": row.report.id if row.report else None,
            "report_state": str(row.report.state) if row.report else None,
            "final_amount": row.settlement.final_amount if row.settlement else None,
            "settlement_id": row.settlement.id if row.settlement else None,
        }
        for row in view.rows
    ]


@blp.put("/grants/<int:grant_id>/settlement/<period>")
@blp.arguments(ReportInSchema)
@blp.response(200, ReportSchema)
@blp.alt_response(409, schema=ErrorSchema, description="Submitted: no longer mine to change.")
def save(data: dict[str, Any], grant_id: int, period: str) -> dict[str, Any]:
    """Save the period's results report (the grantee), and submit it with `submit`."""
    actor = api_actor()
    visible_grant(actor, grant_id)  # 404 for a grant that is not mine to see
    lines = [
        service.LineInput(line["category"], line["description"], line["claimed"])
        for line in data["lines"]
    ]
    report = service.save_report(
        actor,
        grant_id,
        period,
        lines,
        data["indirect_cost"],
        data["note"],
        [],
        today(),
        upload_folder=_upload_folder(),
    )
    if data["submit"]:
        report = service.submit_report(actor, report.id, today())
    return _report(report.id)


@blp.post("/settlement/reports/<int:report_id>/receipts")
@accepts_uploads
@blp.arguments(ReceiptsSchema, location="files")
@blp.doc(**_RECEIPTS_DOC)
@blp.response(201, ReportSchema)
@blp.alt_response(413, schema=ErrorSchema, description="The upload is too large.")
def add_receipts(files: dict[str, Any], report_id: int) -> dict[str, Any]:
    """Attach receipts to my report while I may still change it."""
    uploads = [(f.filename or "", f.stream, f.mimetype or "") for f in files["files"]]
    service.add_receipts(api_actor(), report_id, uploads, upload_folder=_upload_folder())
    return _report(report_id)


@blp.get("/settlement/reports/<int:report_id>")
@blp.response(200, ReportSchema)
@blp.alt_response(404, schema=ErrorSchema, description="No such report, or not mine to see.")
def get_report(report_id: int) -> dict[str, Any]:
    """A results report, what it comes to, and its final amount once confirmed."""
    return _report(report_id)


@blp.post("/settlement/reports/<int:report_id>/submit")
@blp.response(200, ReportSchema)
def submit(report_id: int) -> dict[str, Any]:
    """Submit my report for inspection (again, after a correction)."""
    service.submit_report(api_actor(), report_id, today())
    return _report(report_id)


@blp.post("/settlement/reports/<int:report_id>/return")
@blp.arguments(ReturnInSchema)
@blp.response(200, ReportSchema)
def return_for_correction(data: dict[str, Any], report_id: int) -> dict[str, Any]:
    """Return the report to the grantee for correction (officers)."""
    inspection.return_report(api_actor(), report_id, data["note"], today())
    return _report(report_id)


@blp.post("/settlement/reports/<int:report_id>/inspect")
@blp.arguments(InspectInSchema)
@blp.response(200, ReportSchema)
def inspect(data: dict[str, Any], report_id: int) -> dict[str, Any]:
    """Accept or adjust every line, with reasons (officers: 確定検査)."""
    decisions = [
        inspection.LineDecision(line["accepted"], line["reason"]) for line in data["lines"]
    ]
    inspection.inspect_report(api_actor(), report_id, decisions, today())
    return _report(report_id)


@blp.post("/settlement/reports/<int:report_id>/confirm")
@blp.arguments(ConfirmInSchema)
@blp.response(201, FinalAmountSchema)
@blp.alt_response(403, schema=ErrorSchema, description="I inspected it: another officer confirms.")
@blp.alt_response(409, schema=ErrorSchema, description="Not inspected, or confirmed already.")
def confirm(data: dict[str, Any], report_id: int) -> dict[str, Any]:
    """Confirm the final amount of the inspected report's period, once (a second officer)."""
    settlement = inspection.confirm_final_amount(
        api_actor(), report_id, data["excess_method"], today()
    )
    return _final(settlement)


@blp.post("/settlement/final-amounts/<int:settlement_id>/return")
@blp.arguments(ReturnReceivedInSchema)
@blp.response(200, FinalAmountSchema)
def return_received(data: dict[str, Any], settlement_id: int) -> dict[str, Any]:
    """Record that the advance above the final amount came back (officers)."""
    settlement = inspection.record_return(api_actor(), settlement_id, data["received_on"], today())
    return _final(settlement)


@blp.get("/grants/<int:grant_id>/notices/decision.pdf")
@blp.arguments(NoticeArgs, location="query")
@blp.response(200, description="The notice of the grant decision (application/pdf).")
def decision_notice(args: dict[str, Any], grant_id: int) -> Response:
    """交付決定通知書: Japanese, or English with lang=en (the grantee and officers)."""
    begin_writing()  # the download is audited
    document = documents.decision_notice(api_actor(), grant_id, args["lang"], today())
    return pdf_response(document.data, document.filename)


@blp.get("/settlement/final-amounts/<int:settlement_id>/notice.pdf")
@blp.arguments(NoticeArgs, location="query")
@blp.response(200, description="The notice of the final amount (application/pdf).")
def final_notice(args: dict[str, Any], settlement_id: int) -> Response:
    """額の確定通知書 of one period: Japanese, or English with lang=en."""
    begin_writing()
    document = documents.final_notice(api_actor(), settlement_id, args["lang"], today())
    return pdf_response(document.data, document.filename)


@blp.get("/settlement/ledger.csv")
@blp.arguments(LedgerArgs, location="query")
@blp.response(200, description="The settlement ledger (text/csv).")
def ledger_csv(args: dict[str, Any]) -> Response:
    """One row per cost line of every confirmed final amount (officers and administrators)."""
    export = ledger.ledger(
        api_actor(), args.get("program_id"), args.get("fiscal_year"), select_locale()
    )
    return csv_response(export)


def _report(report_id: int) -> dict[str, Any]:
    view = queries.report_view(api_actor(), report_id)
    report: ResultsReport = view.report
    return {
        "id": report.id,
        "grant_id": report.grant_id,
        "period": report.period,
        "state": str(report.state),
        "due_on": report.due_on,
        "indirect_cost": report.indirect_cost,
        "note": report.note,
        "correction_note": report.correction_note,
        "lines": [
            {
                "category": line.category,
                "description": line.description,
                "claimed": line.claimed,
                "accepted": line.accepted,
                "reason": line.reason,
            }
            for line in report.lines
        ],
        "receipts": [receipt.original_name for receipt in report.receipts],
        "figures": view.settled.trace()["figures"],
        "final_amount": _final(view.settlement) if view.settlement else None,
    }


def _final(settlement: Any) -> dict[str, Any]:
    return {
        "id": settlement.id,
        "period": settlement.period,
        "payment": settlement.payment,
        "decided": settlement.decided,
        "final_amount": settlement.final_amount,
        "advance_paid": settlement.advance_paid,
        "excess": settlement.excess,
        "excess_method": settlement.excess_method,
        "return_due_on": settlement.return_due_on,
        "returned_on": settlement.returned_on,
        "carried": settlement.carried,
        "carried_to_id": settlement.carried_to_id,
        "figures": settlement.trace["figures"],
    }


def _upload_folder() -> Path:
    return Path(current_app.config["UPLOAD_FOLDER"])
