"""The proposal page: everything one person may see of a proposal, and the forms they may use on it."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from frontend.views_proposals import offers
from frontend.views_proposals.common import BoundForms, current_user, deadline, unshown_errors, visible_proposal
from frontend.views_proposals.offers import Item, Viewer
from proposals.models import (
    Assignment,
    AssignmentStatus,
    CoHandlerOpinion,
    ExtensionRequest,
    Feedback,
    Proposal,
    Reply,
    ReplyStatus,
)
from proposals.selectors import events_visible_to

HIDDEN_FROM_DEPUTIES = (AssignmentStatus.RETURNED, AssignmentStatus.WITHDRAWN)  # the office's and bureaus' business


@login_required
def proposal_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return render_detail(request, pk, {})


def render_detail(request: HttpRequest, pk: int, bound: BoundForms, status: int = 200) -> HttpResponse:
    user = current_user(request)
    proposal = visible_proposal(user, pk)
    cosigners = list(proposal.cosigners.select_related("deputy").order_by("invited_at", "pk"))
    viewer = offers.viewer_of(user, proposal, cosigners)
    context: dict[str, Any] = {
        "proposal": proposal,
        "viewer": viewer,
        "return_to": "detail",
        "reply_due": deadline(proposal.reply_due) if proposal.reply_due else None,
        "events": events_visible_to(user, proposal),
        "merged": list(proposal.merged.select_related("session", "proposer")) if viewer.party else [],
        "wished_co_bureaus": list(proposal.wished_co_bureaus.all()),
    }
    context.update(_drafting(viewer, proposal, cosigners, bound))
    context.update(_handling(viewer, proposal, bound))
    context["refused"] = unshown_errors(bound)
    return render(request, "frontend/proposals/detail.html", context, status=status)


def _drafting(viewer: Viewer, proposal: Proposal, cosigners: list[Any], bound: BoundForms) -> dict[str, Any]:
    attachments = list(proposal.attachments.all()) if viewer.party else []
    return {
        "cosigners": offers.cosigner_items(viewer, proposal, cosigners, bound),
        "attachments": offers.attachment_items(viewer, proposal, attachments, bound),
        "can_edit": viewer.proposer and offers.allowed("edit_draft", proposal),
        "forms": {
            **offers.proposer_forms(viewer, proposal, attachments, bound),
            **offers.cosign_forms(viewer, proposal, bound),
            **offers.office_forms(viewer, proposal, bound),
        },
    }


def _handling(viewer: Viewer, proposal: Proposal, bound: BoundForms) -> dict[str, Any]:
    assignments = list(proposal.assignments.select_related("bureau", "opinion").order_by("round", "role", "pk"))
    replies = _visible_replies(viewer, proposal)
    requests = _visible_requests(viewer, proposal)
    feedback = _visible_feedback(viewer, proposal)
    rated_by: dict[int, set[int]] = {}
    for rating in Feedback.objects.filter(proposal=proposal).values("reply_id", "rater_id"):
        rated_by.setdefault(rating["reply_id"], set()).add(rating["rater_id"])
    reply_items = [Item(r, offers.reply_forms(viewer, proposal, r, rated_by.get(r.pk, set()), bound)) for r in replies]
    insider = viewer.office or viewer.bureau_id is not None
    shown = assignments if insider else [a for a in assignments if a.status not in HIDDEN_FROM_DEPUTIES]
    return {
        "assignments": [(a, _deadline_of(a)) for a in shown],
        "panels": offers.handler_panels(viewer, proposal, assignments, replies, requests, bound),
        "communications": (list(proposal.communications.select_related("assignment__bureau")) if viewer.party else []),
        "opinions": _visible_opinions(viewer, proposal, assignments),
        "extension_requests": offers.extension_items(viewer, proposal, requests, bound),
        "replies": reply_items,
        "feedback": feedback,
        "public_only": not viewer.party,
    }


def _deadline_of(assignment: Assignment) -> Any:
    if assignment.status not in (AssignmentStatus.PENDING, AssignmentStatus.ACCEPTED):
        return None
    return deadline(assignment.reply_due or assignment.opinion_due)


def _visible_replies(viewer: Viewer, proposal: Proposal) -> list[Reply]:
    replies = proposal.replies.select_related("assignment__bureau").prefetch_related("signoffs__assignment__bureau")
    if viewer.office:
        return list(replies)
    if viewer.bureau_id is not None:  # its own drafts, and others' replies once submitted (to sign them off)
        return [r for r in replies if r.status != ReplyStatus.DRAFT or r.assignment.bureau_id == viewer.bureau_id]
    return [r for r in replies if r.status == ReplyStatus.SENT]


def _visible_requests(viewer: Viewer, proposal: Proposal) -> list[ExtensionRequest]:
    requests = ExtensionRequest.objects.filter(assignment__proposal=proposal).select_related("assignment__bureau")
    if viewer.office:
        return list(requests.order_by("requested_at"))
    if viewer.bureau_id is not None:
        return list(requests.filter(assignment__bureau_id=viewer.bureau_id).order_by("requested_at"))
    return []


def _visible_opinions(viewer: Viewer, proposal: Proposal, assignments: list[Assignment]) -> list[CoHandlerOpinion]:
    """Co-handlers write to the lead bureau: the lead, the writer and the office read them."""
    opinions = CoHandlerOpinion.objects.filter(assignment__proposal=proposal).select_related("assignment__bureau")
    if viewer.office:
        return list(opinions)
    leads = {a.bureau_id for a in assignments if a.role == "lead"}
    if viewer.bureau_id in leads:
        return list(opinions)
    if viewer.bureau_id is not None:
        return list(opinions.filter(assignment__bureau_id=viewer.bureau_id))
    return []


def _visible_feedback(viewer: Viewer, proposal: Proposal) -> list[Feedback]:
    feedback = Feedback.objects.filter(proposal=proposal).select_related("rater", "reply__assignment__bureau")
    if viewer.office:
        return list(feedback)
    if viewer.bureau_id is not None:
        return list(feedback.filter(reply__assignment__bureau_id=viewer.bureau_id))
    return list(feedback.filter(rater=viewer.user))


@login_required
def attachment_download(request: HttpRequest, pk: int, attachment_id: int) -> FileResponse:
    """Attachments go only to people taking part in the proposal, never through a public media URL."""
    user = current_user(request)
    proposal = visible_proposal(user, pk)
    viewer = offers.viewer_of(user, proposal, list(proposal.cosigners.all()))
    attachment = proposal.attachments.filter(pk=attachment_id).first() if viewer.party else None
    if attachment is None:
        raise Http404
    return FileResponse(attachment.file.open("rb"), as_attachment=True, filename=attachment.name)
