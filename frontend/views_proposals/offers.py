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


def allowed(action: str, proposal: Proposal) -> bool:
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
    if allowed("invite_cosigner", proposal):
        offered["invite"] = form_for("invite", viewer.actor, proposal, bound)
    if allowed("attach", proposal) and len(attachments) < current_rules().attachment_max_count:
        offered["attach"] = form_for("attach", viewer.actor, proposal, bound)
    if allowed("submit", proposal):
        offered["submit"] = form_for("submit", viewer.actor, proposal, bound)
    return offered


def cosigner_items(viewer: Viewer, proposal: Proposal, cosigners: list[CoSigner], bound: BoundForms) -> list[Item]:
    can_drop = viewer.proposer and allowed("drop_cosigner", proposal)
    droppable = (CoSignerStatus.INVITED, CoSignerStatus.SIGNED)
    return [
        Item(c, {"drop": form_for("drop", viewer.actor, proposal, bound, target=c.deputy_id)})
        if can_drop and c.status in droppable
        else Item(c)
        for c in cosigners
    ]


def attachment_items(
    viewer: Viewer, proposal: Proposal, attachments: list[Attachment], bound: BoundForms
) -> list[Item]:
    can_remove = viewer.proposer and allowed("attach", proposal)
    return [
        Item(a, {"remove": form_for("remove_attachment", viewer.actor, proposal, bound, target=a.pk)})
        if can_remove
        else Item(a)
        for a in attachments
    ]


def cosign_forms(viewer: Viewer, proposal: Proposal, bound: BoundForms) -> Forms:
    invitation = viewer.cosign
    if invitation is None or invitation.status != CoSignerStatus.INVITED or not allowed("respond_cosign", proposal):
        return {}
    if timezone.now() > invitation.sign_by:
        return {}
    return {"respond": form_for("respond", viewer.actor, proposal, bound)}


# --- replies: rating (deputies), review, publication and paper feedback (the office) --------------------


def reply_forms(viewer: Viewer, proposal: Proposal, reply: Reply, rated_by: set[int], bound: BoundForms) -> Forms:
    offered: Forms = {}
    user, sent = viewer.actor, reply.status == ReplyStatus.SENT
    is_current = sent and reply.round == proposal.rehandling_round
    if viewer.rater and is_current and allowed("rate_reply", proposal) and user.pk not in rated_by:
        offered["rate"] = form_for("rate", user, proposal, bound, target=reply.pk)
    if not viewer.office:
        return offered
    if reply.status == ReplyStatus.REVIEW and allowed("review_reply", proposal):
        offered["review"] = form_for("review_reply", user, proposal, bound, target=reply.pk)
    if sent and not reply.public_body and proposal.publication_consent and allowed("publish", proposal):
        offered["publish"] = form_for("publish", user, proposal, bound, target=reply.pk)
    if is_current and allowed("rate_reply", proposal) and recipients_of(proposal) - rated_by:
        offered["paper"] = form_for("paper_feedback", user, proposal, bound, target=reply.pk)
    return offered


# --- the office ---------------------------------------------------------------------------------------


def office_forms(viewer: Viewer, proposal: Proposal, bound: BoundForms) -> Forms:
    if not viewer.office:
        return {}
    offers = {
        "register": "register",
        "decline": "decline_registration",
        "merge": "merge",
        "letter": "convert_to_letter",
        "assign": "assign",
        "close": "close",
    }
    offered: Forms = {
        name: form_for(name, viewer.actor, proposal, bound)
        for name, state in offers.items()
        if allowed(state, proposal)
    }
    if proposal.dissatisfaction_pending:
        offered.pop("close", None)
        if allowed("review_dissatisfaction", proposal):
            offered["review_dissatisfaction"] = form_for("review_dissatisfaction", viewer.actor, proposal, bound)
    return offered


def extension_items(
    viewer: Viewer, proposal: Proposal, requests: list[ExtensionRequest], bound: BoundForms
) -> list[Item]:
    decide = viewer.office and allowed("decide_extension", proposal)
    return [
        Item(r, {"decide": form_for("decide_extension", viewer.actor, proposal, bound, target=r.pk)})
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
    if allowed("send_follow_up_reply", proposal):
        replied = [a for a in mine if a.role in REPLYING_ROLES and a.status == AssignmentStatus.DONE]
        if replied:
            latest = max(replied, key=lambda a: (a.round, a.pk))
            follow_up = form_for("follow_up", viewer.actor, proposal, bound, target=latest.pk)
            panels.append(Item(latest, {"follow_up": follow_up}))
    return panels


def _assignment_forms(
    viewer: Viewer,
    proposal: Proposal,
    assignment: Assignment,
    replies: list[Reply],
    requests: list[ExtensionRequest],
    bound: BoundForms,
) -> Forms:
    def offer(name: str, **initial: Any) -> None:
        offered[name] = form_for(name, viewer.actor, proposal, bound, target=assignment.pk, initial=initial)

    offered: Forms = {}
    pending = assignment.status == AssignmentStatus.PENDING
    if pending and allowed("accept_assignment", proposal):
        offer("accept")
    if allowed("return_assignment", proposal) and timezone.localdate() <= assignment.return_by:
        offer("return")
    if pending:
        return offered  # 签收 first: the rest of the work starts once the bureau has taken it on
    if allowed("record_communication", proposal):
        offer("communicate")
    if assignment.role == AssignmentRole.CO:
        _co_handler_forms(viewer, proposal, assignment, replies, bound, offered)
        return offered
    waiting = any(r.assignment_id == assignment.pk and r.status == ExtensionStatus.PENDING for r in requests)
    if allowed("request_extension", proposal) and assignment.reply_due and not waiting:
        offer("extension")
    round_ = proposal.rehandling_round
    reply = next(
        (
            r
            for r in replies
            if r.assignment_id == assignment.pk and r.round == round_ and r.kind != ReplyKind.FOLLOW_UP
        ),
        None,
    )
    if allowed("draft_reply", proposal) and (reply is None or reply.status == ReplyStatus.DRAFT):
        draft = {} if reply is None else _draft_initial(reply)
        offer("draft_reply", **draft)
    if allowed("submit_reply", proposal) and reply is not None and reply.status == ReplyStatus.DRAFT:
        offer("submit_reply")
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
    if allowed("submit_opinion", proposal) and not hasattr(assignment, "opinion"):
        offered["opinion"] = form_for("opinion", viewer.actor, proposal, bound, target=assignment.pk)
    if not allowed("sign_off_reply", proposal):
        return
    for reply in replies:
        signed = {s.assignment_id for s in reply.signoffs.all()}
        if reply.status == ReplyStatus.SIGNOFF and assignment.pk not in signed:
            initial = {"assignment_id": assignment.pk}
            offered["sign_off"] = form_for("sign_off", viewer.actor, proposal, bound, target=reply.pk, initial=initial)
