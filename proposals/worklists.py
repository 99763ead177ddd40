"""What waits for whom in the proposal cycle: the to-do lists of the home pages and the supervision desk.

Reads only, every one of them scoped through the access policy first (``Proposal.objects.visible_to``, which
applies ``proposals.access.visible_proposals``), so a list never holds what its reader may not open. Each returns a
QuerySet, so pages count and page them as they need; the office's lists take a ``kind`` (建议 or 提案) so an
office that handles one kind sees its own (issue 15, the two offices).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import DateField, Exists, F, OuterRef, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from consult.people.selectors import Viewer, bureau_id_of
from proposals.actions import Action
from proposals.models import (
    Assignment,
    CoSigner,
    CoSignerStatus,
    ExtensionRequest,
    ExtensionStatus,
    Feedback,
    Proposal,
    ProposalEvent,
    Reply,
    ReplyStatus,
    Status,
)
from proposals.models.choices import OPEN_ASSIGNMENT
from proposals.publication import awaiting_publication
from proposals.transitions import ALLOWED_FROM


def _visible(user: Viewer, kind: str = "") -> QuerySet[Proposal]:
    visible = Proposal.objects.visible_to(user)
    return visible.filter(kind=kind) if kind else visible


# --- deputies ------------------------------------------------------------------------------------------


def replies_to_rate(user: Viewer) -> QuerySet[Reply]:
    """Sent replies of the current round that ``user`` receives (proposer, signed co-signer, merged), not yet rated."""
    merged_in = Proposal.objects.filter(merged_into=OuterRef("proposal_id")).filter(
        Q(proposer_id=user.pk) | Q(cosigners__deputy_id=user.pk, cosigners__status=CoSignerStatus.SIGNED)
    )
    signed = CoSigner.objects.filter(proposal=OuterRef("proposal_id"), deputy_id=user.pk, status=CoSignerStatus.SIGNED)
    rated = Feedback.objects.filter(reply=OuterRef("pk"), rater_id=user.pk)
    return (
        Reply.objects.filter(
            status=ReplyStatus.SENT,
            round=F("proposal__rehandling_round"),
            proposal__in=_visible(user).filter(status__in=ALLOWED_FROM[Action.RATE_REPLY]),
        )
        .filter(Q(proposal__proposer_id=user.pk) | Exists(signed) | Exists(merged_in))
        .exclude(Exists(rated))
        .select_related("proposal", "assignment__bureau")
        .order_by("sent_at", "pk")
    )


def cosign_invitations(user: Viewer) -> QuerySet[CoSigner]:
    """Open invitations to co-sign a draft, soonest deadline first; expired ones too (``is_expired`` says which)."""
    return (
        CoSigner.objects.filter(
            deputy_id=user.pk, status=CoSignerStatus.INVITED, proposal__in=_visible(user), proposal__status=Status.DRAFT
        )
        .select_related("proposal__proposer")
        .order_by("sign_by", "pk")
    )


def open_invitations(user: Viewer, now: datetime | None = None) -> QuerySet[CoSigner]:
    """The invitations ``user`` can still answer (the deadline has not passed)."""
    return cosign_invitations(user).filter(sign_by__gte=now or timezone.now())


def drafts(user: Viewer) -> QuerySet[Proposal]:
    return _visible(user).filter(proposer_id=user.pk, status=Status.DRAFT).order_by("-updated_at", "pk")


# --- bureaus ----------------------------------------------------------------------------------------------


def with_due(assignments: QuerySet[Assignment]) -> QuerySet[Assignment]:
    """Assignments with ``due``: the reply deadline, or the opinion deadline of a co-handler."""
    return assignments.annotate(due=Coalesce("reply_due", "opinion_due", output_field=DateField()))


def bureau_assignments(user: Viewer) -> QuerySet[Assignment]:
    """The open assignments of the user's bureau, nearest deadline first (a handler's to-do list)."""
    bureau_id = bureau_id_of(user)
    if bureau_id is None:
        return Assignment.objects.none()
    open_ones = Assignment.objects.filter(status__in=OPEN_ASSIGNMENT, bureau_id=bureau_id, proposal__in=_visible(user))
    return with_due(open_ones).select_related("proposal").order_by(F("due").asc(nulls_last=True), "pk")


# --- the office -------------------------------------------------------------------------------------------


def to_register(user: Viewer, kind: str = "") -> QuerySet[Proposal]:
    return (
        _visible(user, kind).filter(status=Status.SUBMITTED).select_related("proposer").order_by("submitted_at", "pk")
    )


def to_assign(user: Viewer, kind: str = "") -> QuerySet[Proposal]:
    return (
        _visible(user, kind).filter(status=Status.REGISTERED).select_related("proposer").order_by("registered_at", "pk")
    )


def replies_to_review(user: Viewer, kind: str = "") -> QuerySet[Reply]:
    return (
        Reply.objects.filter(status=ReplyStatus.REVIEW, proposal__in=_visible(user, kind))
        .select_related("proposal", "assignment__bureau")
        .order_by("submitted_at", "pk")
    )


def replies_to_publish(user: Viewer, kind: str = "") -> QuerySet[Reply]:
    return (
        awaiting_publication()
        .filter(proposal__in=_visible(user, kind))
        .select_related("proposal", "assignment__bureau")
    )


def extension_requests(user: Viewer, kind: str = "") -> QuerySet[ExtensionRequest]:
    return (
        ExtensionRequest.objects.filter(status=ExtensionStatus.PENDING, assignment__proposal__in=_visible(user, kind))
        .select_related("assignment__bureau", "assignment__proposal")
        .order_by("requested_at", "pk")
    )


def unsatisfied(user: Viewer, kind: str = "") -> QuerySet[Proposal]:
    return _visible(user, kind).filter(dissatisfaction_pending=True).order_by("updated_at", "pk")


@dataclass(frozen=True)
class OverdueFilter:
    """The supervision desk's filters: one bureau, at least so many days late, one kind (建议/提案)."""

    bureau_id: int | None = None
    min_days: int = 0
    kind: str = ""


def overdue_assignments(
    user: Viewer, filters: OverdueFilter | None = None, today: date | None = None
) -> QuerySet[Assignment]:
    """Every open assignment past its deadline that ``user`` may see, most overdue first, with ``last_urged``."""
    filters = filters or OverdueFilter()
    today = today or timezone.localdate()
    latest = today - timedelta(days=max(filters.min_days, 1))  # overdue means due before today
    open_ones = Assignment.objects.filter(status__in=OPEN_ASSIGNMENT, proposal__in=_visible(user, filters.kind))
    if filters.bureau_id is not None:
        open_ones = open_ones.filter(bureau_id=filters.bureau_id)
    urged = ProposalEvent.objects.filter(
        proposal_id=OuterRef("proposal_id"), bureau_id=OuterRef("bureau_id"), action=Action.URGE
    ).order_by("-at")
    return (
        open_ones.annotate(due=Coalesce("reply_due", "opinion_due", output_field=DateField()))
        .filter(due__lte=latest)
        .annotate(last_urged=urged.values("at")[:1])
        .select_related("proposal__session", "bureau")
        .order_by("due", "pk")
    )
