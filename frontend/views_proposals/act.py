"""One view for every action on a proposal: bind the form, call the ONE service, then redirect or explain.

A refused action shows the page it came from again (``return_to``), with the message beside the field
the service named and the status it carries (400, 403, 404 or 409); nothing has changed.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from consult.kernel.exceptions import DomainError
from frontend.views_proposals import deputy, detail, handling, office, supervision
from frontend.views_proposals.common import (
    BoundForms,
    auto_id,
    current_user,
    show_domain_error,
    slot_name,
    visible_proposal,
)
from frontend.views_proposals.registry import ACTIONS
from proposals.actions import Action

Page = Callable[[HttpRequest, int, BoundForms, int], HttpResponse]

PAGES: dict[str, tuple[Page, str]] = {
    "detail": (detail.render_detail, "proposal-detail"),
    "mine": (lambda r, pk, b, s: deputy.render_mine(r, b, s), "proposal-mine"),
    "queue": (lambda r, pk, b, s: handling.render_queue(r, b, s), "work-queue"),
    "registration": (lambda r, pk, b, s: office.render_registration(r, b, status=s), "office-registration"),
    "assignment": (lambda r, pk, b, s: office.render_assignment(r, b, status=s), "office-assignment"),
    "supervision": (lambda r, pk, b, s: supervision.render_supervision(r, b, status=s), "office-supervision"),
}


@login_required
@require_POST
def act(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    action = ACTIONS.get(Action(name)) if name in set(Action) else None
    if action is None:
        raise Http404
    user = current_user(request)
    proposal = visible_proposal(user, pk)
    page, url_name = PAGES.get(request.POST.get("return_to", ""), PAGES["detail"])
    slot = slot_name(name, request.POST.get(action.target) if action.target else None)
    form = action.form(request.POST, request.FILES, user=user, proposal=proposal, auto_id=auto_id(pk, slot))
    form.action_url = reverse("proposal-act", args=[pk, name])
    status = 400
    if form.is_valid():
        try:
            action.perform(user, proposal, form.cleaned_data)
        except DomainError as exc:
            show_domain_error(form, exc, action.field_map)
            status = exc.status
        else:
            messages.success(request, action.done(form.cleaned_data))
            return redirect(reverse(url_name, args=[pk]) if url_name == "proposal-detail" else reverse(url_name))
    return page(request, pk, {(pk, slot): form}, status)
