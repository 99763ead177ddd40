"""Reads of publication (公开): which sent replies await it, and which are past their due date.

A reply of a proposal whose proposer agreed to publication is due for publication within
``publication_working_days`` working days of the day it was sent (``Reply.publication_due``, set by
``services.reply.schedule_publication``). It awaits publication while the proposal is in a state that
allows publishing (``ALLOWED_FROM[Action.PUBLISH]``: replied, follow-up, closed) and it has not been published.
The deadline sweep, the office's supervision page and the list API's ``publication`` filter read these.
"""

from __future__ import annotations

from datetime import date

from django.db.models import Exists, OuterRef, QuerySet

from proposals.actions import Action
from proposals.models import Proposal, Reply, ReplyStatus
from proposals.transitions import ALLOWED_FROM


def awaiting_publication() -> QuerySet[Reply]:
    """Sent, unpublished replies that the office may and should publish, earliest due first."""
    return Reply.objects.filter(
        status=ReplyStatus.SENT,
        published_at__isnull=True,
        proposal__publication_consent=True,
        proposal__status__in=ALLOWED_FROM[Action.PUBLISH],
    ).order_by("publication_due", "sent_at", "pk")


def publication_overdue(today: date) -> QuerySet[Reply]:
    """Replies whose publication due date has passed (公开逾期)."""
    return awaiting_publication().filter(publication_due__lt=today)


def proposals_awaiting_publication(
    proposals: QuerySet[Proposal], *, overdue_on: date | None = None
) -> QuerySet[Proposal]:
    """``proposals`` with a reply awaiting publication (due before ``overdue_on`` when given)."""
    replies = awaiting_publication() if overdue_on is None else publication_overdue(overdue_on)
    return proposals.filter(Exists(replies.filter(proposal=OuterRef("pk"))))
