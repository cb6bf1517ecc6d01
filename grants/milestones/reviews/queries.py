"""An evidence round as the reviewer's sign-off page shows it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from grants.awards.models import EvidenceFile, EvidenceSubmission, Review
from grants.core.actors import Actor
from grants.extensions import db


@dataclass(frozen=True)
class RoundView:
    submission: EvidenceSubmission
    files: list[EvidenceFile]
    mine: Review | None  # the actor's decision on this round, once made


def round_view(actor: Actor, submission: EvidenceSubmission) -> RoundView:
    mine = db.session.scalar(
        select(Review).where(Review.submission_id == submission.id, Review.reviewer_id == actor.id)
    )
    files = db.session.scalars(
        select(EvidenceFile)
        .where(EvidenceFile.submission_id == submission.id)
        .order_by(EvidenceFile.id)
    ).all()
    return RoundView(submission, list(files), mine)
