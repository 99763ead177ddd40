"""Which forms a proposal page offers to whom: only what the services would allow now.

The services stay the judges (a form shown in error is refused there with a message); this module only
avoids offering what cannot succeed. States come from the services' own transition table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.utils import timezone

from frontend.views_proposals.common import BoundForms
from frontend.views_proposals.registry import form_for
from proposals.access import ProposalAccess, recipients_of
from proposals.actions import Action
from proposals.models import (
    Assignment,
    AssignmentRole,
    AssignmentStatus,
    Attachment,
    CoSigner,
    CoSignerStatus,
    ExtensionRequest,
    ExtensionStatus,
    Proposal,
    Reply,
    ReplyKind,
    ReplyStatus,
)
from proposals.models.choices import OPEN_ASSIGNMENT, REPLYING_ROLES
from proposals.rules import current_rules
from proposals.selectors import action_allowed

Forms = dict[str, forms.Form]


def allowed(action: Action, proposal: Proposal) -> bool:
    return action_allowed(proposal, action)


Viewer = ProposalAccess  # the page asks the one access policy who is looking


@dataclass
class Item:
    """Something shown on the page (a reply, a co-signer ...) with the forms offered on it."""

    obj: Any
    forms: Forms = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)  # what else the page shows with it


def current_sent(replies: list[Reply], proposal: Proposal) -> list[Reply]:
    return [r for r in replies if r.status == ReplyStatus.SENT and r.round == proposal.rehandling_round]


# --- the proposer and co-signers ---------------------------------------------------------------------


def proposer_forms(viewer: Viewer, proposal: Proposal, attachments: list[Attachment], bound: BoundForms) -> Forms:
    offered: Forms = {}
    if not viewer.proposer:
        return offered
    if allowed(Action.INVITE_COSIGNER, proposal):
        offered["invite_cosigner"] = form_for(Action.INVITE_COSIGNER, viewer.actor, proposal, bound)
    if allowed(Action.ATTACH, proposal) and len(attachments) < current_rules().attachment_max_count:
        offered["attach"] = form_for(Action.ATTACH, viewer.actor, proposal, bound)
    if allowed(Action.SUBMIT, proposal):
        offered["submit"] = form_for(Action.SUBMIT, viewer.actor, proposal, bound)
    return offered


def cosigner_items(viewer: Viewer, proposal: Proposal, cosigners: list[CoSigner], bound: BoundForms) -> list[Item]:
    can_drop = viewer.proposer and allowed(Action.DROP_COSIGNER, proposal)
    droppable = (CoSignerStatus.INVITED, CoSignerStatus.SIGNED)
    return [
        Item(c, {"drop_cosigner": form_for(Action.DROP_COSIGNER, viewer.actor, proposal, bound, target=c.deputy_id)})
        if can_drop and c.status in droppable
        else Item(c)
        for c in cosigners
    ]


def attachment_items(
    viewer: Viewer, proposal: Proposal, attachments: list[Attachment], bound: BoundForms
) -> list[Item]:
    can_remove = viewer.proposer and allowed(Action.ATTACH, proposal)
    return [
        Item(a, {"remove_attachment": form_for(Action.REMOVE_ATTACHMENT, viewer.actor, proposal, bound, target=a.pk)})
        if can_remove
        else Item(a)
        for a in attachments
    ]


def cosign_forms(viewer: Viewer, proposal: Proposal, bound: BoundForms) -> Forms:
    invitation = viewer.cosign
    if invitation is None or invitation.status != CoSignerStatus.INVITED or not allowed(Action.COSIGN, proposal):
        return {}
    if timezone.now() > invitation.sign_by:
        return {}
    return {"cosign": form_for(Action.COSIGN, viewer.actor, proposal, bound)}


# --- replies: rating (deputies), review, publication and paper feedback (the office) --------------------


def reply_forms(viewer: Viewer, proposal: Proposal, reply: Reply, rated_by: set[int], bound: BoundForms) -> Forms:
    offered: Forms = {}
    user, sent = viewer.actor, reply.status == ReplyStatus.SENT
    is_current = sent and reply.round == proposal.rehandling_round
    if viewer.rater and is_current and allowed(Action.RATE_REPLY, proposal) and user.pk not in rated_by:
        offered["rate_reply"] = form_for(Action.RATE_REPLY, user, proposal, bound, target=reply.pk)
    if not viewer.office:
        return offered
    if reply.status == ReplyStatus.REVIEW and allowed(Action.REVIEW_REPLY, proposal):
        offered["review_reply"] = form_for(Action.REVIEW_REPLY, user, proposal, bound, target=reply.pk)
    if sent and not reply.public_body and proposal.publication_consent and allowed(Action.PUBLISH, proposal):
        offered["publish"] = form_for(Action.PUBLISH, user, proposal, bound, target=reply.pk)
    if is_current and allowed(Action.RATE_REPLY, proposal) and recipients_of(proposal) - rated_by:
        offered["record_paper_feedback"] = form_for(
            Action.RECORD_PAPER_FEEDBACK, user, proposal, bound, target=reply.pk
        )
    return offered


# --- the office ---------------------------------------------------------------------------------------


def office_forms(viewer: Viewer, proposal: Proposal, bound: BoundForms) -> Forms:
    if not viewer.office:
        return {}
    offers = (
        Action.REGISTER,
        Action.DECLINE_REGISTRATION,
        Action.MERGE,
        Action.CONVERT_TO_LETTER,
        Action.ASSIGN,
        Action.CLOSE,
    )
    offered: Forms = {name: form_for(name, viewer.actor, proposal, bound) for name in offers if allowed(name, proposal)}
    if proposal.dissatisfaction_pending:
        offered.pop("close", None)
        if allowed(Action.REVIEW_DISSATISFACTION, proposal):
            offered["review_dissatisfaction"] = form_for(Action.REVIEW_DISSATISFACTION, viewer.actor, proposal, bound)
    return offered


def extension_items(
    viewer: Viewer, proposal: Proposal, requests: list[ExtensionRequest], bound: BoundForms
) -> list[Item]:
    decide = viewer.office and allowed(Action.DECIDE_EXTENSION, proposal)
    return [
        Item(r, {"decide_extension": form_for(Action.DECIDE_EXTENSION, viewer.actor, proposal, bound, target=r.pk)})
        if decide and r.status == ExtensionStatus.PENDING
        else Item(r)
        for r in requests
    ]


# --- a handler, for their bureau's assignments -------------------------------------------------------------


def handler_panels(
    viewer: Viewer,
    proposal: Proposal,
    assignments: list[Assignment],
    replies: list[Reply],
    requests: list[ExtensionRequest],
    bound: BoundForms,
) -> list[Item]:
    if not viewer.handler:
        return []
    mine = [a for a in assignments if a.bureau_id == viewer.bureau_id]
    panels = [
        Item(a, _assignment_forms(viewer, proposal, a, replies, requests, bound))
        for a in mine
        if a.status in OPEN_ASSIGNMENT
    ]
    if allowed(Action.SEND_FOLLOW_UP_REPLY, proposal):
        replied = [a for a in mine if a.role in REPLYING_ROLES and a.status == AssignmentStatus.DONE]
        if replied:
            latest = max(replied, key=lambda a: (a.round, a.pk))
            follow_up = form_for(Action.SEND_FOLLOW_UP_REPLY, viewer.actor, proposal, bound, target=latest.pk)
            panels.append(Item(latest, {"send_follow_up_reply": follow_up}))
    return panels


def _assignment_forms(
    viewer: Viewer,
    proposal: Proposal,
    assignment: Assignment,
    replies: list[Reply],
    requests: list[ExtensionRequest],
    bound: BoundForms,
) -> Forms:
    def offer(name: Action, **initial: Any) -> None:
        offered[name] = form_for(name, viewer.actor, proposal, bound, target=assignment.pk, initial=initial)

    offered: Forms = {}
    pending = assignment.status == AssignmentStatus.PENDING
    if pending and allowed(Action.ACCEPT_ASSIGNMENT, proposal):
        offer(Action.ACCEPT_ASSIGNMENT)
    if allowed(Action.RETURN_ASSIGNMENT, proposal) and timezone.localdate() <= assignment.return_by:
        offer(Action.RETURN_ASSIGNMENT)
    if pending:
        return offered  # 签收 first: the rest of the work starts once the bureau has taken it on
    if allowed(Action.RECORD_COMMUNICATION, proposal):
        offer(Action.RECORD_COMMUNICATION)
    if assignment.role == AssignmentRole.CO:
        _co_handler_forms(viewer, proposal, assignment, replies, bound, offered)
        return offered
    waiting = any(r.assignment_id == assignment.pk and r.status == ExtensionStatus.PENDING for r in requests)
    if allowed(Action.REQUEST_EXTENSION, proposal) and assignment.reply_due and not waiting:
        offer(Action.REQUEST_EXTENSION)
    round_ = proposal.rehandling_round
    reply = next(
        (
            r
            for r in replies
            if r.assignment_id == assignment.pk and r.round == round_ and r.kind != ReplyKind.FOLLOW_UP
        ),
        None,
    )
    if allowed(Action.DRAFT_REPLY, proposal) and (reply is None or reply.status == ReplyStatus.DRAFT):
        draft = {} if reply is None else _draft_initial(reply)
        offer(Action.DRAFT_REPLY, **draft)
    if allowed(Action.SUBMIT_REPLY, proposal) and reply is not None and reply.status == ReplyStatus.DRAFT:
        offer(Action.SUBMIT_REPLY)
    return offered


def _draft_initial(reply: Reply) -> dict[str, Any]:
    fields = ("outcome_class", "body", "contact_person", "contact_phone")
    return {name: getattr(reply, name) for name in fields}


def _co_handler_forms(
    viewer: Viewer,
    proposal: Proposal,
    assignment: Assignment,
    replies: list[Reply],
    bound: BoundForms,
    offered: Forms,
) -> None:
    if allowed(Action.SUBMIT_OPINION, proposal) and not hasattr(assignment, "opinion"):
        offered["submit_opinion"] = form_for(Action.SUBMIT_OPINION, viewer.actor, proposal, bound, target=assignment.pk)
    if not allowed(Action.SIGN_OFF_REPLY, proposal):
        return
    for reply in replies:
        signed = {s.assignment_id for s in reply.signoffs.all()}
        if reply.status == ReplyStatus.SIGNOFF and assignment.pk not in signed:
            initial = {"assignment_id": assignment.pk}
            offered["sign_off_reply"] = form_for(
                Action.SIGN_OFF_REPLY, viewer.actor, proposal, bound, target=reply.pk, initial=initial
            )
