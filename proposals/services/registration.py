"""立案: the office registers a submitted proposal (giving it its number), declines it with a reason,
merges it into another (并案; each proposer still gets the reply), or turns it into a letter."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from consult.kernel.exceptions import InvalidInput
from consult.models import User
from proposals.access import require_office
from proposals.actions import Action
from proposals.models import Proposal, ProposalSession, Status
from proposals.services._common import lock, move, require_state, require_text, tell


def _next_number(session_id: int) -> int:
    """Numbers (编号) are unique per session and never reused; the session row serialises them."""
    session = ProposalSession.objects.select_for_update().get(pk=session_id)
    number = session.next_number
    ProposalSession.objects.filter(pk=session_id).update(next_number=F("next_number") + 1)
    return number


@transaction.atomic
def register(*, actor: User, proposal_id: int) -> Proposal:
    proposal = lock(proposal_id)
    require_office(actor, proposal)
    require_state(proposal, Action.REGISTER)
    proposal.number = _next_number(proposal.session_id)
    proposal.registered_at = timezone.now()
    move(proposal, Status.REGISTERED, actor, Action.REGISTER, reason=proposal.code)
    tell([proposal.proposer_id], proposal, "proposal.registered", _("Your proposal was registered"))
    return proposal


@transaction.atomic
def decline_registration(*, actor: User, proposal_id: int, reason: str) -> Proposal:
    proposal = lock(proposal_id)
    require_office(actor, proposal)
    require_state(proposal, Action.DECLINE_REGISTRATION)
    reason = require_text(reason, "reason", 1000)
    move(proposal, Status.NOT_REGISTERED, actor, Action.DECLINE_REGISTRATION, reason=reason)
    tell([proposal.proposer_id], proposal, "proposal.not_registered", _("Your proposal was not registered"))
    return proposal


@transaction.atomic
def merge(*, actor: User, proposal_id: int, into_id: int, reason: str = "") -> Proposal:
    """并案: handle this proposal together with ``into``; its proposer receives that proposal's reply."""
    if proposal_id == into_id:
        raise InvalidInput(_("a proposal cannot be merged into itself"), field="into_id")
    first, second = sorted([proposal_id, into_id])  # lock in id order: two merges never deadlock
    locked = {first: lock(first), second: lock(second)}
    proposal, primary = locked[proposal_id], locked[into_id]
    require_office(actor, proposal)
    require_state(proposal, Action.MERGE)
    if primary.status in (Status.DRAFT, Status.SUBMITTED, Status.NOT_REGISTERED, Status.MERGED, Status.LETTER):
        raise InvalidInput(_("merge into a registered proposal"), field="into_id")
    if primary.kind != proposal.kind:
        raise InvalidInput(_("suggestions and proposals cannot be merged"), field="into_id")
    proposal.merged_into = primary
    # Proposals merged into this one follow it to the new primary, so their proposers get its reply too.
    Proposal.objects.filter(merged_into=proposal).update(merged_into=primary)
    move(proposal, Status.MERGED, actor, Action.MERGE, reason=reason or primary.code)
    tell([proposal.proposer_id], proposal, "proposal.merged", _("Your proposal is handled together with another"))
    return proposal


@transaction.atomic
def convert_to_letter(*, actor: User, proposal_id: int, reason: str) -> Proposal:
    proposal = lock(proposal_id)
    require_office(actor, proposal)
    require_state(proposal, Action.CONVERT_TO_LETTER)
    reason = require_text(reason, "reason", 1000)
    move(proposal, Status.LETTER, actor, Action.CONVERT_TO_LETTER, reason=reason)
    tell([proposal.proposer_id], proposal, "proposal.letter", _("Your proposal is handled as a letter"))
    return proposal
