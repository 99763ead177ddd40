"""The proposal page: everything one person may see of a proposal, and the forms they may use on it."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from frontend.views_proposals import offers
from frontend.views_proposals.common import BoundForms, current_user, deadline, unshown_errors, visible_proposal
from frontend.views_proposals.offers import Item, Viewer
from frontend.views_proposals.registry import take_refused
from proposals.access import Wording, access_of, readable_attachment
from proposals.actions import Action
from proposals.models import Assignment, AssignmentStatus, ExtensionRequest, Feedback, Proposal


@login_required
def proposal_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return render_detail(request, pk, *take_refused(request, current_user(request)))


def render_detail(request: HttpRequest, pk: int, bound: BoundForms, status: int = 200) -> HttpResponse:
    user = current_user(request)
    proposal = visible_proposal(user, pk)
    cosigners = list(proposal.cosigners.select_related("deputy").order_by("invited_at", "pk"))
    assignments = list(proposal.assignments.select_related("bureau", "opinion").order_by("round", "role", "pk"))
    viewer = access_of(user, proposal, cosigners=cosigners, assignments=assignments)
    context: dict[str, Any] = {
        "proposal": proposal,
        "body": viewer.body_of(proposal),
        "viewer": viewer,
        "return_to": "detail",
        "reply_due": deadline(proposal.reply_due) if proposal.reply_due else None,
        "events": viewer.timeline(proposal),
        "merged": list(proposal.merged.select_related("session", "proposer")) if viewer.party else [],
        "wished_co_bureaus": list(proposal.wished_co_bureaus.all()),
        "now": timezone.now(),  # an invitation past its sign-by time shows as expired
    }
    context.update(_drafting(viewer, proposal, cosigners, bound))
    context.update(_handling(viewer, proposal, assignments, bound))
    context["refused"] = unshown_errors(bound)
    return render(request, "frontend/proposals/detail.html", context, status=status)


def _drafting(viewer: Viewer, proposal: Proposal, cosigners: list[Any], bound: BoundForms) -> dict[str, Any]:
    attachments = list(proposal.attachments.all()) if viewer.party else []
    return {
        "cosigners": offers.cosigner_items(viewer, proposal, cosigners, bound),
        "attachments": offers.attachment_items(viewer, proposal, attachments, bound),
        "can_edit": viewer.proposer and offers.allowed(Action.UPDATE_DRAFT, proposal),
        "forms": {
            **offers.proposer_forms(viewer, proposal, attachments, bound),
            **offers.cosign_forms(viewer, proposal, bound),
            **offers.office_forms(viewer, proposal, bound),
        },
    }


def _handling(viewer: Viewer, proposal: Proposal, assignments: list[Assignment], bound: BoundForms) -> dict[str, Any]:
    replies = viewer.replies(
        proposal.replies.select_related("assignment__bureau").prefetch_related("signoffs__assignment__bureau")
    )
    requests = [
        r
        for r in ExtensionRequest.objects.filter(assignment__proposal=proposal)
        .select_related("assignment__bureau")
        .order_by("requested_at")
        if viewer.of_bureau(r.assignment.bureau_id)
    ]
    feedback = [
        f
        for f in Feedback.objects.filter(proposal=proposal).select_related("rater", "reply__assignment__bureau")
        if viewer.sees_feedback(f)
    ]
    rated_by: dict[int, set[int]] = {}
    for rating in Feedback.objects.filter(proposal=proposal).values("reply_id", "rater_id"):
        rated_by.setdefault(rating["reply_id"], set()).add(rating["rater_id"])
    reply_items = [
        Item(
            r,
            offers.reply_forms(viewer, proposal, r, rated_by.get(r.pk, set()), bound),
            {"internal": wording == Wording.INTERNAL, "review": viewer.sees_review_of(r)},
        )
        for r, wording in replies
    ]
    communications = proposal.communications.select_related("assignment__bureau")
    return {
        "assignments": [
            (a, _deadline_of(a), viewer.of_bureau(a.bureau_id)) for a in assignments if viewer.sees_assignment(a)
        ],
        "panels": offers.handler_panels(viewer, proposal, assignments, [r for r, _ in replies], requests, bound),
        "communications": [c for c in communications if viewer.sees_communication(c)],
        "opinions": [a.opinion for a in assignments if hasattr(a, "opinion") and viewer.sees_opinion_of(a)],
        "extension_requests": offers.extension_items(viewer, proposal, requests, bound),
        "replies": reply_items,
        "feedback": feedback,
    }


def _deadline_of(assignment: Assignment) -> Any:
    if assignment.status not in (AssignmentStatus.PENDING, AssignmentStatus.ACCEPTED):
        return None
    return deadline(assignment.reply_due or assignment.opinion_due)


@login_required
def attachment_download(request: HttpRequest, pk: int, attachment_id: int) -> FileResponse:
    """Attachments go only to people taking part in the proposal, never through a public media URL."""
    user = current_user(request)
    attachment = readable_attachment(user, pk, attachment_id)
    if attachment is None:
        raise Http404
    return FileResponse(attachment.file.open("rb"), as_attachment=True, filename=attachment.name)
