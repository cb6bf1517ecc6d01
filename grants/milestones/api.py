"""Milestones: their evidence rounds and reviews, submitting evidence, reviewer sign-off."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from pathlib import Path
from typing import Any

from flask import current_app, send_file, url_for
from flask_babel import gettext as _
from flask_smorest.fields import Upload
from marshmallow import Schema, fields, validate
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from grants.awards.models import EvidenceFile, EvidenceSubmission, Milestone, Review
from grants.awards.queries import (
    ReviewerNames,
    disbursement_of,
    reviewer_names,
    visible_milestone,
)
from grants.awards.schemas import MILESTONE_STATES, MilestoneSchema, is_overdue, milestone_data
from grants.core.calendar import days_waiting
from grants.core.errors import NotFound, RuleViolation
from grants.core.http.api import ApiBlueprint, Text, api_actor
from grants.core.http.i18n import select_locale
from grants.core.http.limits import accepts_uploads
from grants.core.http.schemas import ErrorSchema, Yen, list_args, listed, page_schema, today
from grants.core.permissions import Action, decide
from grants.core.states import ReviewDecision
from grants.extensions import db
from grants.milestones.evidence import service as evidence
from grants.milestones.queries import MILESTONES, milestone_list
from grants.milestones.reviews import service as reviews
from grants.milestones.reviews.queries import REVIEW_QUEUE, review_list

blp = ApiBlueprint(
    "api_milestones",
    __name__,
    url_prefix="/api/v1",
    description="Milestones, their evidence and the reviewers' sign-off.",
)

DECISIONS = [decision.value for decision in ReviewDecision]


class EvidenceFileSchema(Schema):
    id = fields.Integer(required=True)
    original_name = fields.String(required=True)
    content_type = fields.String(required=True)
    size = fields.Integer(required=True)
    sha256 = fields.String(required=True)
    has_formulas = fields.Boolean(
        required=True,
        metadata={
            "description": "A CSV or XLSX with cells a spreadsheet program evaluates as "
            "formulas: open it with care."
        },
    )
    download_url = fields.String(required=True)


class MeasuredSchema(Schema):
    metric = fields.String(required=True)
    target = fields.String(required=True)
    unit = fields.String(required=True)
    value = fields.String(required=True)


_ANONYMOUS = "when the programme's reviewers are anonymous"


class ReviewSchema(Schema):
    id = fields.Integer(required=True)
    submission_id = fields.Integer(required=True)
    reviewer_id = fields.Integer(
        required=True,
        allow_none=True,
        metadata={"description": f"null for an applicant {_ANONYMOUS}."},
    )
    reviewer_name = fields.String(
        required=True,
        metadata={"description": f'"Reviewer 1", "Reviewer 2" ... for an applicant {_ANONYMOUS}.'},
    )
    decision = fields.String(required=True, metadata={"enum": DECISIONS})
    comment = fields.String(required=True)
    decided_at = fields.DateTime(required=True)


class SubmissionSchema(Schema):
    id = fields.Integer(required=True)
    round = fields.Integer(required=True)
    narrative = fields.String(required=True)
    measured = fields.List(fields.Nested(MeasuredSchema), required=True)
    submitted_by_id = fields.Integer(allow_none=True)
    submitted_at = fields.DateTime(required=True)
    files = fields.List(fields.Nested(EvidenceFileSchema), required=True)
    reviews = fields.List(fields.Nested(ReviewSchema), required=True)


class MilestoneDetailSchema(MilestoneSchema):
    grant_number = fields.String(required=True)
    evidence_hidden = fields.Boolean(
        required=True,
        metadata={"description": "true for a reviewer with a conflict of interest: no rounds."},
    )
    submissions = fields.List(fields.Nested(SubmissionSchema), required=True)


class EvidenceFormSchema(Schema):
    narrative = Text(
        multiline=True,
        required=True,
        metadata={
            "description": f"What was achieved; at most {evidence.NARRATIVE_MAX} characters."
        },
    )
    measured = fields.List(
        Text(metadata={"description": f"At most {evidence.VALUE_MAX} characters."}),
        load_default=list,
        metadata={
            "description": "One value per success criterion, in the milestone's criteria "
            "order: repeat the `measured` field (measured=8&measured=12). A missing, empty or "
            "too long value is reported under `measured.<index>` (0-based)."
        },
    )


class EvidenceFilesSchema(Schema):
    files = fields.List(
        Upload(),
        load_default=list,
        metadata={
            "description": f"PDF, PNG, JPEG, CSV, XLSX or DOCX; at most {evidence.FILES_MAX} "
            "files, checked by extension and content."
        },
    )


class EvidenceUploadSchema(EvidenceFormSchema, EvidenceFilesSchema):
    """The whole multipart/form-data body (form fields and files), for the documentation."""


class ReviewInSchema(Schema):
    decision = fields.String(
        required=True, validate=validate.OneOf(DECISIONS), metadata={"enum": DECISIONS}
    )
    comment = Text(
        multiline=True,
        load_default="",
        metadata={
            "description": "Required for request_changes and reject; at most "
            f"{reviews.COMMENT_MAX} characters."
        },
    )


class DecisionSchema(ReviewSchema):
    milestone_id = fields.Integer(required=True)
    round = fields.Integer(required=True)
    milestone_state = fields.String(
        required=True,
        metadata={"enum": MILESTONE_STATES, "description": "After this decision (quorum)."},
    )


_MULTIPART_DOC = {
    "parameters": [],
    "requestBody": {
        "required": True,
        "content": {"multipart/form-data": {"schema": EvidenceUploadSchema}},
    },
}


class MilestoneListItemSchema(Schema):
    id = fields.Integer(required=True)
    grant_id = fields.Integer(required=True)
    grant_number = fields.String(required=True, attribute="grant.number")
    organization_id = fields.Integer(required=True, attribute="grant.organization_id")
    organization_name = fields.String(required=True, attribute="grant.organization.name")
    program_id = fields.Integer(required=True, attribute="grant.program_id")
    program_code = fields.String(required=True, attribute="grant.program.code")
    sequence = fields.Integer(required=True)
    title = fields.String(required=True)
    state = fields.String(required=True, metadata={"enum": MILESTONE_STATES})
    due_date = fields.Date(required=True)
    fiscal_year = fields.Integer(required=True)
    tranche_amount = Yen(required=True)
    overdue = fields.Function(
        is_overdue,
        metadata={"type": "boolean", "description": "Flagged overdue by the scheduler's scan."},
    )
    overdue_since = fields.Date(allow_none=True)
    released = fields.Function(
        lambda milestone: milestone.released_at is not None,
        metadata={"type": "boolean", "description": "Its tranche has been released."},
    )


MILESTONE_LIST_ARGS = list_args(MILESTONES, "MilestoneListArgs")


class QueuedReviewSchema(MilestoneListItemSchema):
    round = fields.Integer(required=True)
    submitted_at = fields.DateTime(required=True, metadata={"description": "Of this round."})
    waiting_days = fields.Integer(
        required=True, metadata={"description": "Days since the evidence arrived (Tokyo)."}
    )


REVIEW_QUEUE_ARGS = list_args(REVIEW_QUEUE, "ReviewQueueArgs")


@blp.get("/reviewer/queue")
@blp.arguments(REVIEW_QUEUE_ARGS.schema, location="query")
@blp.response(200, page_schema(QueuedReviewSchema))
@blp.alt_response(403, schema=ErrorSchema, description="Only reviewers have a review queue.")
def review_queue(args: dict[str, Any]) -> dict[str, Any]:
    """The milestones whose evidence waits for my decision (reviewers), oldest submission
    first unless `sort` says otherwise; filters: `program_id`, `fiscal_year`, `q`."""
    page = review_list(api_actor(), REVIEW_QUEUE_ARGS.query(args))
    day = today()
    items = [_Queued(milestone, submitted_at, day) for milestone, submitted_at in page.items]
    return listed(page, items)


class _Queued:
    """A milestone in the queue, as QueuedReviewSchema reads it: the milestone's attributes,
    with when its round arrived and how long it has waited."""

    def __init__(self, milestone: Milestone, submitted_at: datetime, day: date) -> None:
        self.milestone = milestone
        self.submitted_at = submitted_at
        self.waiting_days = days_waiting(submitted_at, day)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.milestone, name)


@blp.get("/milestones")
@blp.arguments(MILESTONE_LIST_ARGS.schema, location="query")
@blp.response(200, page_schema(MilestoneListItemSchema))
def list_milestones(args: dict[str, Any]) -> dict[str, Any]:
    """The milestones of the grants I may see (my organisation's, the ones I review, or all
    for officers), by due date unless `sort` says otherwise.

    Filters: `state`, `program_id`, `fiscal_year` (of the tranche), `overdue` (flagged by
    the scan) and `q` (in the title, the grant's number and the organisation's names)."""
    return listed(milestone_list(api_actor(), MILESTONE_LIST_ARGS.query(args)))


@blp.get("/milestones/<int:milestone_id>")
@blp.response(200, MilestoneDetailSchema)
@blp.alt_response(404, schema=ErrorSchema, description="No such milestone, or not mine to see.")
def get_milestone(milestone_id: int) -> dict[str, Any]:
    """A milestone with its evidence rounds, their files and reviews (as on the grant page)."""
    actor = api_actor()
    milestone, subject = visible_milestone(actor, milestone_id)
    sees_evidence = decide(Action.download_evidence, subject).allowed
    names = reviewer_names(actor, milestone.grant, select_locale())
    return {
        **milestone_data(milestone, disbursement_of(milestone.id)),
        "grant_number": milestone.grant.number,
        "evidence_hidden": not sees_evidence,
        "submissions": _rounds(milestone, names) if sees_evidence else [],
    }


@blp.post("/milestones/<int:milestone_id>/evidence")
@accepts_uploads
@blp.arguments(EvidenceFormSchema, location="form")
@blp.arguments(EvidenceFilesSchema, location="files")
@blp.doc(**_MULTIPART_DOC)  # one multipart body instead of two documented locations
@blp.response(201, SubmissionSchema)
@blp.alt_response(
    409,
    schema=ErrorSchema,
    description="Not the current milestone, or not awaiting evidence.",
)
@blp.alt_response(413, schema=ErrorSchema, description="The upload is too large.")
def submit_evidence(form: dict[str, Any], files: dict[str, Any], milestone_id: int) -> Any:
    """Submit the next evidence round (the grantee); the milestone goes to `submitted`."""
    actor = api_actor()
    milestone, _subject = visible_milestone(actor, milestone_id)
    evidence.check_may_submit(actor, milestone)
    values = form["measured"]
    if len(values) > len(milestone.criteria):
        message = _(
            "Give one measured value per success criterion (%(n)d).", n=len(milestone.criteria)
        )
        raise RuleViolation(message, {"measured": [message]})
    uploads = [(f.filename or "", f.stream, f.mimetype or "") for f in files["files"]]
    submission = evidence.submit_evidence(
        actor,
        milestone_id,
        form["narrative"],
        dict(enumerate(values)),
        uploads,
        today(),
        upload_folder=_upload_folder(),
    )
    return _submission_data(submission, [], reviewer_names(actor, milestone.grant, select_locale()))


@blp.get("/evidence-files/<int:file_id>")
@blp.response(
    200, description="The file, as an attachment.", content_type="application/octet-stream"
)
@blp.alt_response(404, schema=ErrorSchema, description="No such file, or not mine to see.")
def download(file_id: int) -> Response:
    """Download an evidence file (the grantee, officers, assigned reviewers without conflict)."""
    actor = api_actor()
    found = db.session.get(EvidenceFile, file_id)
    if found is None:
        raise NotFound(_("Not found."))
    visible_milestone(actor, found.submission.milestone_id)
    path, name, content_type = evidence.open_evidence_file(
        actor, file_id, upload_folder=_upload_folder()
    )
    response = send_file(
        path, mimetype=content_type, as_attachment=True, download_name=name, max_age=0
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@blp.post("/milestones/<int:milestone_id>/reviews")
@blp.arguments(ReviewInSchema)
@blp.response(201, DecisionSchema)
@blp.alt_response(409, schema=ErrorSchema, description="Already decided, or nothing to review.")
def decide_review(data: dict[str, Any], milestone_id: int) -> dict[str, Any]:
    """An assigned reviewer's decision on the current evidence round; quorum settles it."""
    actor = api_actor()
    visible_milestone(actor, milestone_id)
    review = reviews.decide(actor, milestone_id, data["decision"], data["comment"], today())
    milestone = db.session.get(Milestone, milestone_id)
    assert milestone is not None  # just reviewed
    return {
        **_review_data(review, reviewer_names(actor, milestone.grant, select_locale())),
        "milestone_id": milestone.id,
        "round": milestone.round,
        "milestone_state": str(milestone.state),
    }


def _upload_folder() -> Path:
    return Path(current_app.config["UPLOAD_FOLDER"])


def _rounds(milestone: Milestone, names: ReviewerNames) -> list[dict[str, Any]]:
    submissions = db.session.scalars(
        select(EvidenceSubmission)
        .where(EvidenceSubmission.milestone_id == milestone.id)
        .options(selectinload(EvidenceSubmission.files))
        .order_by(EvidenceSubmission.round)
    )
    by_submission: dict[int, list[Review]] = defaultdict(list)
    for review in db.session.scalars(
        select(Review)
        .where(Review.milestone_id == milestone.id)
        .options(selectinload(Review.reviewer))
        .order_by(Review.decided_at, Review.id)
    ):
        by_submission[review.submission_id].append(review)
    return [_submission_data(s, by_submission[s.id], names) for s in submissions]


def _submission_data(
    submission: EvidenceSubmission, found: list[Review], names: ReviewerNames
) -> dict[str, Any]:
    return {
        "id": submission.id,
        "round": submission.round,
        "narrative": submission.narrative,
        "measured": submission.measured,
        "submitted_by_id": submission.submitted_by_id,
        "submitted_at": submission.submitted_at,
        "files": [
            {
                "id": f.id,
                "original_name": f.original_name,
                "content_type": f.content_type,
                "size": f.size,
                "sha256": f.sha256,
                "has_formulas": f.has_formulas,
                "download_url": url_for("api_milestones.download", file_id=f.id),
            }
            for f in submission.files
        ],
        "reviews": [_review_data(review, names) for review in found],
    }


def _review_data(review: Review, names: ReviewerNames) -> dict[str, Any]:
    return {
        "id": review.id,
        "submission_id": review.submission_id,
        "reviewer_id": names.shown_id(review.reviewer_id),
        "reviewer_name": names.label(review.reviewer_id),
        "decision": str(review.decision),
        "comment": review.comment,
        "decided_at": review.decided_at,
    }
