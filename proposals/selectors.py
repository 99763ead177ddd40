"""Small reads of proposals. Who sees what is decided in one place, ``proposals.access``; the QuerySet that
applies it is ``proposals.querysets.ProposalQuerySet``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from consult.people.selectors import Viewer

if TYPE_CHECKING:
    from proposals.actions import Action
    from proposals.models import Proposal


def can_see_id(user: Viewer, proposal_id: int) -> bool:
    from proposals.models import Proposal

    return Proposal.objects.visible_to(user).filter(pk=proposal_id).exists()


def action_allowed(proposal: Proposal, action: Action) -> bool:
    """Whether the proposal's state lets ``action`` start (the services' own table)."""
    from proposals.transitions import ALLOWED_FROM

    return proposal.status in ALLOWED_FROM[action]


def is_own_proposal(user: Viewer, proposal_id: int) -> bool:
    """Whether the user proposed it (a deputy links one of their own proposals to a consultation)."""
    from proposals.models import Proposal

    return Proposal.objects.filter(pk=proposal_id, proposer_id=user.pk).exists()


def earlier_proposals(deputy_id: int, *, limit: int = 20) -> list[Proposal]:
    """The deputy's proposals, drafts left out, newest first: the expert's history beside the chat."""
    from proposals.models import Proposal, Status

    found = Proposal.objects.filter(proposer_id=deputy_id).exclude(status=Status.DRAFT)
    return list(found.select_related("session").order_by("-created_at")[:limit])
