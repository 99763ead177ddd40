"""Pages of the proposal cycle. Presentation only: selectors to read, proposals.services to write."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from frontend.views import _user
from proposals.models import Proposal
from proposals.selectors import events_visible_to


@login_required
def proposal_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    proposal = Proposal.objects.visible_to(user).select_related("session", "proposer").filter(pk=pk).first()
    if proposal is None:
        raise Http404
    context = {"proposal": proposal, "events": events_visible_to(user, proposal)}
    return render(request, "frontend/proposals/detail.html", context)
