"""The handler's work queue (办理工作台): the bureau's open assignments, most urgent first."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import F
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from consult.models import Bureau
from frontend.views_proposals.common import BoundForms, current_user, deadline, handler_bureau, unshown_errors
from frontend.views_proposals.offers import Item, allowed
from frontend.views_proposals.registry import form_for, take_refused
from proposals.actions import Action
from proposals.filters import ProposalFilter
from proposals.models import Assignment, AssignmentStatus, Proposal, Status
from proposals.models.choices import OPEN_ASSIGNMENT, REPLYING_ROLES


@login_required
def work_queue(request: HttpRequest) -> HttpResponse:
    return render_queue(request, *take_refused(request, current_user(request)))


def render_queue(request: HttpRequest, bound: BoundForms, status: int = 200) -> HttpResponse:
    user = current_user(request)
    bureau_id = handler_bureau(user)
    visible = Proposal.objects.visible_to(user)
    listed = ProposalFilter(request.GET, queryset=visible)
    open_assignments = (
        Assignment.objects.filter(bureau_id=bureau_id, status__in=OPEN_ASSIGNMENT, proposal__in=listed.qs)
        .select_related("proposal__session", "proposal__proposer")
        .annotate(due=Coalesce("reply_due", "opinion_due"))
        .order_by(F("due").asc(nulls_last=True), "assigned_at", "pk")
    )
    rows = []
    for assignment in open_assignments:
        offered = {}
        if assignment.status == AssignmentStatus.PENDING and allowed(Action.ACCEPT_ASSIGNMENT, assignment.proposal):
            offered["accept_assignment"] = form_for(
                Action.ACCEPT_ASSIGNMENT, user, assignment.proposal, bound, target=assignment.pk
            )
        rows.append((Item(assignment, offered), deadline(assignment.due)))
    follow_ups = (
        Assignment.objects.filter(
            bureau_id=bureau_id,
            role__in=REPLYING_ROLES,
            status=AssignmentStatus.DONE,
            proposal__status=Status.FOLLOW_UP,
            proposal__in=visible,
        )
        .select_related("proposal__session")
        .order_by("proposal__first_replied_at", "pk")
    )
    context = {
        "bureau": Bureau.objects.visible_to(user).filter(pk=bureau_id).first(),
        "rows": rows,
        "counts": {
            "overdue": sum(1 for _item, due in rows if due.urgency == "overdue"),
            "soon": sum(1 for _item, due in rows if due.urgency == "soon"),
            "pending": sum(1 for item, _due in rows if item.obj.status == AssignmentStatus.PENDING),
        },
        "follow_ups": list(follow_ups),
        "q": request.GET.get("q", ""),
        "return_to": "queue",
        "refused": unshown_errors(bound),
    }
    return render(request, "frontend/proposals/queue.html", context, status=status)
