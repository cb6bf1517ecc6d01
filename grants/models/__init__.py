"""Persistence: SQLAlchemy 2.0 typed models. Importing this module registers every table."""

from grants.models.accounts import Organization, User
from grants.models.alerts import Alert, CalendarToken, SchedulerLease
from grants.models.amendments import Amendment
from grants.models.applications import Application, CoInvestment, PlannedMilestone
from grants.models.audit import AuditEvent
from grants.models.base import Base
from grants.models.certifications import VcCertification
from grants.models.evidence import EvidenceFile, EvidenceSubmission, Review
from grants.models.funds import Disbursement, Investment
from grants.models.grants import ConflictDeclaration, Grant, Milestone, ReviewerAssignment
from grants.models.idempotency import IdempotencyKey
from grants.models.programs import BudgetPool, Program, RuleSet, RuleSetStatus
from grants.models.tasks import BackgroundTask
from grants.models.tokens import ApiToken

__all__ = [
    "Alert",
    "ApiToken",
    "Amendment",
    "Application",
    "AuditEvent",
    "BackgroundTask",
    "Base",
    "BudgetPool",
    "CalendarToken",
    "CoInvestment",
    "ConflictDeclaration",
    "Disbursement",
    "EvidenceFile",
    "EvidenceSubmission",
    "Grant",
    "IdempotencyKey",
    "Investment",
    "Milestone",
    "Organization",
    "PlannedMilestone",
    "Program",
    "Review",
    "ReviewerAssignment",
    "RuleSet",
    "RuleSetStatus",
    "SchedulerLease",
    "User",
    "VcCertification",
]
