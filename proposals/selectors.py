"""Reads of proposals, scoped by one ``visible_to(user)`` per model.

- The office (staff, admins) sees everything but drafts, which stay private until submitted.
- A deputy sees the proposals they proposed or were invited to co-sign, the ones their own proposal
  was merged into (并案), and the published ones.
- A bureau (its experts and handlers) sees the proposals assigned to it, in any round, and only
  its own internal notes on their timelines.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import models
from django.db.models import Exists, OuterRef, Q

from consult.roles import Role
from consult.selectors import Viewer, bureau_id_of, is_office, role_of

if TYPE_CHECKING:
    from proposals.models import Assignment, Proposal, Reply


class ProposalQuerySet(models.QuerySet["Proposal"]):
    def visible_to(self, user: Viewer) -> ProposalQuerySet:
        if is_office(user):
            return self.exclude(status="draft")  # a draft (暂存) is the proposer's own until submitted
        if role_of(user) == Role.DEPUTY:
            # A merged proposal's proposer follows the proposal it was merged into: its reply is theirs too.
            # Anyone ever invited to co-sign keeps sight of it (they saw it when invited, and their answer stays
            # on its timeline); only signed co-signers receive and rate its reply (raters_of below).
            # Subqueries, not joins: no DISTINCT over whole rows (bodies included) on every list.
            from proposals.models import CoSigner, Proposal

            invited = CoSigner.objects.filter(proposal=OuterRef("pk"), deputy_id=user.pk)
            merged_in = Proposal.objects.filter(merged_into=OuterRef("pk")).filter(
                Q(proposer_id=user.pk) | Q(cosigners__deputy_id=user.pk, cosigners__status="signed")
            )
            return self.filter(
                Q(proposer_id=user.pk) | Exists(invited) | Exists(merged_in) | Q(published_at__isnull=False)
            )
        bureau_id = bureau_id_of(user)
        if bureau_id is None:
            return self.none()
        from proposals.models import Assignment

        assigned = Assignment.objects.filter(proposal=OuterRef("pk"), bureau_id=bureau_id)
        return self.filter(Exists(assigned)).exclude(status="draft")


def events_visible_to(user: Viewer, proposal: Proposal) -> models.QuerySet[Any]:
    """The timeline of one proposal as ``user`` may see it (the proposal itself must be visible)."""
    from proposals.models import ProposalEvent

    events = ProposalEvent.objects.filter(proposal=proposal).select_related("actor", "bureau")
    if is_office(user):
        return events
    bureau_id = bureau_id_of(user)
    if bureau_id is not None:
        return events.filter(Q(audience="public") | Q(audience="bureau", bureau_id=bureau_id))
    public = events.filter(audience="public")
    if user.is_authenticated and user.pk in raters_of(proposal) | {proposal.proposer_id}:
        return public
    # A reader who sees it only because it was published (or as an invited co-signer) sees the state
    # changes, not the working notes: communication summaries carry people's contact details.
    return public.exclude(to_status="")


def can_see_id(user: Viewer, proposal_id: int) -> bool:
    from proposals.models import Proposal

    return Proposal.objects.visible_to(user).filter(pk=proposal_id).exists()


def action_allowed(proposal: Proposal, action: str) -> bool:
    """Whether the proposal's state lets ``action`` start (the services' own table)."""
    from proposals.transitions import ALLOWED_FROM

    return proposal.status in ALLOWED_FROM[action]


def raters_of(proposal: Proposal) -> set[int]:
    from proposals.models import CoSignerStatus, Proposal

    """Who receives the reply and may rate it: the proposer, signed co-signers, and the same for merged ones."""
    group = Proposal.objects.filter(Q(pk=proposal.pk) | Q(merged_into=proposal))
    people = set(group.values_list("proposer_id", flat=True))
    people |= set(group.filter(cosigners__status=CoSignerStatus.SIGNED).values_list("cosigners__deputy_id", flat=True))
    return people


@dataclass(frozen=True)
class Perspective:
    """What one viewer may see of one (visible) proposal, beyond what ``visible_to`` already decided.

    - the office sees everything;
    - a party (the proposer, an invited co-signer, or the proposer of a proposal merged into this one)
      sees every assignment and the sent replies;
    - a bureau sees its own assignments and the lead's, the sent replies, its own replies at any stage
      and, as a co-handler, the lead's reply awaiting its sign-off (会签);
    - anyone else sees the proposal only because it is published: the replying bureaus, and the
      published text of the replies without contact details.
    """

    office: bool
    party: bool
    bureau_id: int | None

    @classmethod
    def of(cls, user: Viewer, proposal: Proposal) -> Perspective:
        """Uses the prefetched co-signers and merged proposals: no query of its own."""
        parties = {proposal.proposer_id}
        parties |= {cosigner.deputy_id for cosigner in proposal.cosigners.all()}
        parties |= {merged.proposer_id for merged in proposal.merged.all()}
        party = user.is_authenticated and user.pk in parties
        return cls(office=is_office(user), party=bool(party), bureau_id=bureau_id_of(user))

    @property
    def public_only(self) -> bool:
        return not (self.office or self.party or self.bureau_id is not None)

    def sees_internals_of(self, bureau_id: int) -> bool:
        """Extension requests, return reasons: the office and that bureau."""
        return self.office or self.bureau_id == bureau_id

    def sees_assignment(self, assignment: Assignment) -> bool:
        if self.office or self.party:
            return True
        if self.bureau_id is not None:
            return assignment.bureau_id == self.bureau_id or assignment.role == "lead"
        return assignment.role in ("lead", "separate")

    def sees_opinion_of(self, assignment: Assignment, lead_bureaus: set[int]) -> bool:
        """A co-handler's opinion (会办意见) goes to the lead bureau; the office and its author see it too."""
        return self.sees_internals_of(assignment.bureau_id) or self.bureau_id in lead_bureaus

    def sees_reply(self, reply: Reply, co_bureaus: set[int]) -> bool:
        if self.office:
            return True
        if self.public_only:
            return reply.status == "sent" and bool(reply.public_body)
        if reply.status == "sent":
            return True
        if self.bureau_id is None:
            return False
        own = reply.assignment.bureau_id == self.bureau_id
        return own or (reply.status == "signoff" and self.bureau_id in co_bureaus)
