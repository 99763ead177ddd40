"""Models of the proposal cycle, one module per part."""

from proposals.models.calendar import CalendarDay, DayKind
from proposals.models.choices import (
    AssignmentRole,
    AssignmentStatus,
    Audience,
    Channel,
    CoSignerStatus,
    ExtensionStatus,
    OutcomeClass,
    ProposalKind,
    Rating,
    ReplyKind,
    ReplyStatus,
    Status,
)
from proposals.models.handling import (
    Assignment,
    CoHandlerOpinion,
    Communication,
    DeadlineReminder,
    ExtensionRequest,
    Feedback,
    ProposalEvent,
    Reply,
    ReplySignoff,
)
from proposals.models.proposal import Attachment, CoSigner, Proposal, ProposalSession

__all__ = [
    "Assignment",
    "AssignmentRole",
    "AssignmentStatus",
    "Attachment",
    "Audience",
    "CalendarDay",
    "Channel",
    "CoHandlerOpinion",
    "CoSigner",
    "CoSignerStatus",
    "Communication",
    "DayKind",
    "DeadlineReminder",
    "ExtensionRequest",
    "ExtensionStatus",
    "Feedback",
    "OutcomeClass",
    "Proposal",
    "ProposalEvent",
    "ProposalKind",
    "ProposalSession",
    "Rating",
    "Reply",
    "ReplyKind",
    "ReplySignoff",
    "ReplyStatus",
    "Status",
]
