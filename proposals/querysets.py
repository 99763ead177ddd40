"""The QuerySet of proposals: ``Proposal.objects.visible_to(user)`` applies the one access policy."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models

from consult.people.selectors import Viewer

if TYPE_CHECKING:
    from proposals.models import Proposal  # noqa: F401  (the type argument below)


class ProposalQuerySet(models.QuerySet["Proposal"]):
    def visible_to(self, user: Viewer) -> ProposalQuerySet:
        from proposals.access import visible_proposals  # access reads the models; the models read this module

        return visible_proposals(self, user)  # type: ignore[return-value]
