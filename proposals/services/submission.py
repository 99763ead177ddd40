"""提出: drafting, co-signing (联名/附议), attachments and submission.

draft --(invite co-signers; they sign or decline; the proposer may drop them)--> submit --> submitted
A proposal cannot be submitted while an invited co-signer has neither signed nor been dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import PurePath
from typing import IO

from django.core.files.base import File
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from consult.kernel.exceptions import InvalidInput, NotAllowed, NotFound
from consult.kernel.uploads import check_upload
from consult.models import Bureau, DeputyProfile, User
from consult.people.roles import Chamber, Role
from proposals.access import require_proposer
from proposals.actions import Action, Outcome
from proposals.categories import CATEGORIES
from proposals.models import (
    Attachment,
    CoSigner,
    CoSignerStatus,
    Proposal,
    ProposalKind,
    ProposalSession,
    Status,
)
from proposals.rules import current_rules
from proposals.services._common import (
    lock,
    move,
    office_users,
    record,
    require_state,
    require_text,
    tell,
)
from search.indexing import queue_change

KIND_OF_CHAMBER = {Chamber.NPC: ProposalKind.SUGGESTION, Chamber.CPPCC: ProposalKind.PROPOSAL}


@dataclass(frozen=True)
class DraftContent:
    """What the proposer writes. Bureaus are only a wish: the office decides the assignment."""

    title: str
    body: str
    category: str
    wished_lead_bureau_id: int | None = None
    wished_co_bureau_ids: list[int] = field(default_factory=list)
    publication_consent: bool = True
    publication_refusal_reason: str = ""


def _deputy_profile(actor: User) -> DeputyProfile:
    profile: DeputyProfile | None = DeputyProfile.objects.filter(user=actor).first()
    if actor.role != Role.DEPUTY or profile is None:
        raise NotAllowed(_("only deputies and members submit proposals"))
    return profile


def _open_session(chamber: str) -> ProposalSession:
    session = ProposalSession.objects.filter(chamber=chamber, is_open=True).order_by("-year").first()
    if session is None:
        raise InvalidInput(_("no session is accepting proposals now"), field="session")
    return session


def _validated(content: DraftContent) -> DraftContent:
    rules = current_rules()
    title = require_text(content.title, "title", 120)
    body = require_text(content.body, "body", rules.body_max_chars)
    if content.category not in CATEGORIES:
        raise InvalidInput(_("unknown category"), field="category")
    reason = content.publication_refusal_reason.strip()
    if not content.publication_consent:
        if not reason:
            raise InvalidInput(_("say why the proposal should not be published"), field="publication_refusal_reason")
        require_text(reason, "publication_refusal_reason", 200)
    active = Bureau.objects.filter(is_active=True)
    lead = content.wished_lead_bureau_id
    if lead is not None and not active.filter(pk=lead).exists():
        raise InvalidInput(_("unknown bureau"), field="wished_lead_bureau_id")
    co_ids = set(content.wished_co_bureau_ids)
    if active.filter(pk__in=co_ids).count() != len(co_ids):
        raise InvalidInput(_("unknown bureau"), field="wished_co_bureau_ids")
    return DraftContent(
        title,
        body,
        content.category,
        content.wished_lead_bureau_id,
        sorted(set(content.wished_co_bureau_ids) - {content.wished_lead_bureau_id or 0}),
        content.publication_consent,
        "" if content.publication_consent else reason,
    )


def _write(proposal: Proposal, content: DraftContent) -> None:
    proposal.title, proposal.body, proposal.category = content.title, content.body, content.category
    proposal.wished_lead_bureau_id = content.wished_lead_bureau_id
    proposal.publication_consent = content.publication_consent
    proposal.publication_refusal_reason = content.publication_refusal_reason
    proposal.save()
    proposal.wished_co_bureaus.set(content.wished_co_bureau_ids)


@transaction.atomic
def create_draft(*, actor: User, content: DraftContent) -> Proposal:
    """暂存: a new proposal, visible only to its proposer until submitted."""
    profile = _deputy_profile(actor)
    content = _validated(content)
    proposal = Proposal(session=_open_session(profile.chamber), kind=KIND_OF_CHAMBER[Chamber(profile.chamber)])
    proposal.proposer = actor
    _write(proposal, content)
    record(proposal, actor, Action.CREATE_DRAFT, to_status=Status.DRAFT)
    return proposal


@transaction.atomic
def update_draft(*, actor: User, proposal_id: int, content: DraftContent) -> Proposal:
    proposal = lock(proposal_id)
    require_proposer(actor, proposal)
    require_state(proposal, Action.UPDATE_DRAFT)
    _write(proposal, _validated(content))
    queue_change("proposal", proposal.pk)
    return proposal


@transaction.atomic
def invite_cosigner(*, actor: User, proposal_id: int, deputy_id: int) -> CoSigner:
    """Invite a deputy of the same chamber to co-sign before the signing deadline."""
    proposal = lock(proposal_id)
    require_proposer(actor, proposal)
    require_state(proposal, Action.INVITE_COSIGNER)
    invitee = DeputyProfile.objects.filter(user_id=deputy_id, chamber=proposal.session.chamber).first()
    if invitee is None or deputy_id == actor.pk:
        raise InvalidInput(_("co-signers are other deputies of the same chamber"), field="deputy_id")
    sign_by = timezone.now() + timedelta(days=current_rules().cosign_days)
    cosigner, created = CoSigner.objects.get_or_create(
        proposal=proposal, deputy_id=deputy_id, defaults={"sign_by": sign_by}
    )
    if not created:
        if cosigner.status in (CoSignerStatus.INVITED, CoSignerStatus.SIGNED):
            raise InvalidInput(_("this deputy is already invited"), field="deputy_id")
        cosigner.status, cosigner.sign_by, cosigner.responded_at = CoSignerStatus.INVITED, sign_by, None
        cosigner.save()
    record(proposal, actor, Action.INVITE_COSIGNER, reason=invitee.user.full_name)
    tell([deputy_id], proposal, "cosign.invited", _("You are invited to co-sign"))
    return cosigner


@transaction.atomic
def cosign(*, actor: User, proposal_id: int, sign: bool) -> CoSigner:
    """The invited deputy signs (or declines) from their own account, before the deadline."""
    proposal = lock(proposal_id)
    require_state(proposal, Action.COSIGN)
    cosigner = CoSigner.objects.select_for_update().filter(proposal=proposal, deputy=actor).first()
    if cosigner is None or cosigner.status != CoSignerStatus.INVITED:
        raise NotAllowed(_("you have no open invitation to co-sign this proposal"))
    if timezone.now() > cosigner.sign_by:
        raise InvalidInput(_("the deadline to co-sign has passed"), code="deadline_passed", field="sign")
    cosigner.status = CoSignerStatus.SIGNED if sign else CoSignerStatus.DECLINED
    cosigner.responded_at = timezone.now()
    cosigner.save()
    record(proposal, actor, Action.COSIGN if sign else Outcome.DECLINE_COSIGN)
    tell([proposal.proposer_id], proposal, "cosign.answered", _("A co-signer answered"))
    return cosigner


@transaction.atomic
def drop_cosigner(*, actor: User, proposal_id: int, deputy_id: int) -> CoSigner:
    proposal = lock(proposal_id)
    require_proposer(actor, proposal)
    require_state(proposal, Action.DROP_COSIGNER)
    cosigner = CoSigner.objects.select_for_update().filter(proposal=proposal, deputy_id=deputy_id).first()
    if cosigner is None or cosigner.status == CoSignerStatus.DROPPED:
        raise NotFound(_("this deputy is not a co-signer"))
    cosigner.status = CoSignerStatus.DROPPED
    cosigner.save()
    record(proposal, actor, Action.DROP_COSIGNER, reason=cosigner.deputy.full_name)
    return cosigner


@transaction.atomic
def attach(*, actor: User, proposal_id: int, name: str, size: int, stream: IO[bytes]) -> Attachment:
    rules = current_rules()
    proposal = lock(proposal_id)
    require_proposer(actor, proposal)
    require_state(proposal, Action.ATTACH)
    if proposal.attachments.count() >= rules.attachment_max_count:
        raise InvalidInput(_("at most %(n)d attachments") % {"n": rules.attachment_max_count}, field="file")
    name = PurePath(name.replace("\\", "/")).name  # never a path: "../../x.pdf" is stored as "x.pdf"
    content_type = check_upload(name, size, stream, max_bytes=rules.attachment_max_bytes)
    attachment = Attachment(proposal=proposal, name=name[:200], content_type=content_type, size=size, uploaded_by=actor)
    attachment.file.save(name, File(stream), save=False)
    attachment.save()
    return attachment


@transaction.atomic
def remove_attachment(*, actor: User, proposal_id: int, attachment_id: int) -> None:
    proposal = lock(proposal_id)
    require_proposer(actor, proposal)
    require_state(proposal, Action.REMOVE_ATTACHMENT)
    attachment = proposal.attachments.filter(pk=attachment_id).first()
    if attachment is None:
        raise NotFound(_("no such attachment"))
    stored = attachment.file
    attachment.delete()
    transaction.on_commit(lambda: stored.delete(save=False))


@transaction.atomic
def submit(*, actor: User, proposal_id: int) -> Proposal:
    """提出: hand the proposal to the office. Every invited co-signer must have signed or been dropped."""
    proposal = lock(proposal_id)
    require_proposer(actor, proposal)
    require_state(proposal, Action.SUBMIT)
    waiting = proposal.cosigners.filter(status=CoSignerStatus.INVITED)
    if waiting.exists():
        names = "、".join(waiting.values_list("deputy__full_name", flat=True))
        raise InvalidInput(
            _("co-signers have not signed yet: %(names)s (wait, or drop them)") % {"names": names},
            code="cosignature_missing",
            field="cosigners",
        )
    proposal.submitted_at = timezone.now()
    move(proposal, Status.SUBMITTED, actor, Action.SUBMIT)
    tell(office_users(), proposal, "proposal.submitted", _("New proposal to register"))
    return proposal
