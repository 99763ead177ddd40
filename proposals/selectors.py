"""Reads of proposals. Who sees what is decided in one place, ``proposals.access``; this module only
attaches that rule to the QuerySet (``Proposal.objects.visible_to(user)``) and answers small questions."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models

from consult.selectors import Viewer

if TYPE_CHECKING:
    from proposals.models import Proposal


class ProposalQuerySet(models.QuerySet["Proposal"]):
    def visible_to(self, user: Viewer) -> ProposalQuerySet:
        from proposals.access import visible_proposals  # access reads the models; the models read this module

        return visible_proposals(self, user)  # type: ignore[return-value]


def can_see_id(user: Viewer, proposal_id: int) -> bool:
    from proposals.models import Proposal

    return Proposal.objects.visible_to(user).filter(pk=proposal_id).exists()


def action_allowed(proposal: Proposal, action: str) -> bool:
    """Whether the proposal's state lets ``action`` start (the services' own table)."""
    from proposals.transitions import ALLOWED_FROM

    return proposal.status in ALLOWED_FROM[action]
