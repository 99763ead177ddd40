"""The office's desks for 立案 (registration) and 交办 (assignment), with their bulk actions.

A bulk action calls the single service once per ticked row, each in its own transaction: one row
failing does not undo the others, and the page lists what was done and what was refused, and why.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from consult.kernel.exceptions import DomainError
from consult.models import User
from frontend.forms import BulkAssignForm, BulkSelectionForm
from frontend.views_proposals.common import (
    BoundForms,
    BulkOutcome,
    current_user,
    require_office,
    unshown_errors,
    with_messages,
)
from frontend.views_proposals.offers import Item, allowed
from frontend.views_proposals.registry import form_for, take_refused
from proposals import services
from proposals.actions import Action
from proposals.filters import ProposalFilter
from proposals.models import AssignmentStatus, Proposal, Status

PER_PAGE = 50
REGISTRATION_ACTIONS = (Action.REGISTER, Action.DECLINE_REGISTRATION, Action.MERGE, Action.CONVERT_TO_LETTER)


def _listed(request: HttpRequest, user: User, status: Status, order: str) -> tuple[ProposalFilter, Any]:
    queryset = Proposal.objects.visible_to(user).filter(status=status).select_related("session", "proposer")
    listed = ProposalFilter(request.GET, queryset=queryset.prefetch_related("wished_co_bureaus").order_by(order, "pk"))
    return listed, Paginator(listed.qs.select_related("wished_lead_bureau"), PER_PAGE).get_page(request.GET.get("page"))


# --- 立案 ------------------------------------------------------------------------------------------------


@login_required
def registration_desk(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    bound, status = take_refused(request, user)
    data, outcome, bulk_status = _take_bulk(request, user, "registration")
    bulk = with_messages(BulkSelectionForm(data[0]), data[1]) if data else None
    return render_registration(request, bound, bulk=bulk, outcome=outcome, status=bulk_status or status)


def render_registration(
    request: HttpRequest,
    bound: BoundForms | None = None,
    *,
    bulk: BulkSelectionForm | None = None,
    outcome: BulkOutcome | None = None,
    status: int = 200,
) -> HttpResponse:
    user = current_user(request)
    require_office(user)
    listed, page = _listed(request, user, Status.SUBMITTED, "submitted_at")
    bound = bound or {}
    rows = [
        Item(
            p,
            {name: form_for(name, user, p, bound) for name in REGISTRATION_ACTIONS if allowed(name, p)},
        )
        for p in page
    ]
    context = {
        "rows": rows,
        "page": page,
        "filter": listed,
        "bulk": bulk or BulkSelectionForm(),
        "outcome": outcome,
        "return_to": "registration",
        "q": request.GET.get("q", ""),
        "refused": unshown_errors(bound),
    }
    return render(request, "frontend/proposals/registration.html", context, status=status)


@login_required
@require_POST
def bulk_register(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    require_office(user)
    form = BulkSelectionForm(request.POST)
    if not form.is_valid():
        return _back(request, "registration", form, None, 400)
    ids = form.cleaned_data["selected"]
    outcome = _each(user, ids, lambda p: services.register(actor=user, proposal_id=p.pk))
    if not outcome.failed:
        count = len(outcome.done)
        done = ngettext("%(n)d proposal was registered.", "%(n)d proposals were registered.", count)
        messages.success(request, done % {"n": count})
        return redirect("office-registration")
    return _back(request, "registration", None, outcome, outcome.status)


def _each(user: User, ids: list[int], act: Callable[[Proposal], object]) -> BulkOutcome:
    """Run the single service for every row; each row commits or fails on its own."""
    outcome = BulkOutcome()
    found = {p.pk: p for p in Proposal.objects.visible_to(user).filter(pk__in=ids).select_related("session")}
    for pk in ids:
        proposal = found.get(pk)
        if proposal is None:
            outcome.failed.append((f"#{pk}", _("No such proposal.")))
            continue
        try:
            act(proposal)
        except DomainError as exc:
            outcome.failed.append((_row_name(proposal), exc.message))
        else:
            proposal.refresh_from_db()
            outcome.done.append(proposal)
    return outcome


def _row_name(proposal: Proposal) -> str:
    return f"{proposal.code} {proposal.title}" if proposal.number else proposal.title


# --- 交办 ------------------------------------------------------------------------------------------------


@login_required
def assignment_desk(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    bound, status = take_refused(request, user)
    data, outcome, bulk_status = _take_bulk(request, user, "assignment")
    plan = with_messages(BulkAssignForm(data[0], user=user, auto_id="id_plan_%s"), data[1]) if data else None
    return render_assignment(request, bound, plan=plan, outcome=outcome, status=bulk_status or status)


def render_assignment(
    request: HttpRequest,
    bound: BoundForms | None = None,
    *,
    plan: BulkAssignForm | None = None,
    outcome: BulkOutcome | None = None,
    status: int = 200,
) -> HttpResponse:
    user = current_user(request)
    require_office(user)
    listed, page = _listed(request, user, Status.REGISTERED, "registered_at")
    returns = _latest_returns(page.object_list)
    context = {
        "rows": [(p, returns.get(p.pk)) for p in page],
        "page": page,
        "filter": listed,
        "plan": plan or BulkAssignForm(user=user, auto_id="id_plan_%s"),
        "outcome": outcome,
        "return_to": "assignment",
        "q": request.GET.get("q", ""),
        "refused": unshown_errors(bound or {}),
    }
    return render(request, "frontend/proposals/assignment.html", context, status=status)


def _latest_returns(proposals: QuerySet[Proposal] | list[Proposal]) -> dict[int, Any]:
    """Why a bureau gave a proposal back (退办), so the office can choose another."""
    returns: dict[int, Any] = {}
    for proposal in proposals:
        returned = proposal.assignments.filter(status=AssignmentStatus.RETURNED).select_related("bureau")
        last = returned.order_by("-returned_at").first()
        if last is not None:
            returns[proposal.pk] = last
    return returns


@login_required
@require_POST
def bulk_assign(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    require_office(user)
    form = BulkAssignForm(request.POST, user=user, auto_id="id_plan_%s")
    if not form.is_valid():
        return _back(request, "assignment", form, None, 400)
    plan = {key: form.cleaned_data[key] for key in ("lead", "co", "separate")}
    outcome = _each(
        user, form.cleaned_data["selected"], lambda p: services.assign(actor=user, proposal_id=p.pk, **plan)
    )
    if not outcome.failed:
        count = len(outcome.done)
        done = ngettext("%(n)d proposal was assigned.", "%(n)d proposals were assigned.", count)
        messages.success(request, done % {"n": count})
        return redirect("office-assignment")
    return _back(request, "assignment", form, outcome, outcome.status)


# --- a bulk action that failed, shown on its desk (post, redirect, get: a reload never posts again) ------------

BULK_KEY = "refused_bulk"
DESKS = {"registration": "office-registration", "assignment": "office-assignment"}


def _back(
    request: HttpRequest, desk: str, form: forms.Form | None, outcome: BulkOutcome | None, status: int
) -> HttpResponse:
    """Keep what the desk must show (the form as typed with its messages, the rows done and failed) and go back."""
    request.session[BULK_KEY] = {
        "desk": desk,
        "data": {k: v for k, v in request.POST.lists() if k != "csrfmiddlewaretoken"} if form is not None else None,
        "errors": {k: [str(m) for m in v] for k, v in form.errors.items()} if form is not None else {},
        "done": [p.pk for p in outcome.done] if outcome else [],
        "failed": [list(row) for row in outcome.failed] if outcome else [],
        "status": status,
    }
    return HttpResponseRedirect(reverse(DESKS[desk]), status=303)


def _take_bulk(
    request: HttpRequest, user: User, desk: str
) -> tuple[tuple[QueryDict, dict[str, list[str]]] | None, BulkOutcome | None, int]:
    """What ``_back`` kept for this desk, once: (the form's data and messages), the outcome, the status (0: none)."""
    kept = request.session.get(BULK_KEY)
    if not isinstance(kept, dict) or kept.get("desk") != desk:
        return None, None, 0
    del request.session[BULK_KEY]
    data = None
    if kept.get("data") is not None:
        posted = QueryDict(mutable=True)
        for key, values in dict(kept["data"]).items():
            posted.setlist(key, [str(value) for value in values])
        data = (posted, {str(k): [str(m) for m in v] for k, v in dict(kept.get("errors", {})).items()})
    outcome = None
    if kept.get("done") or kept.get("failed"):
        done_ids = [int(pk) for pk in kept.get("done", [])]
        done = list(Proposal.objects.visible_to(user).filter(pk__in=done_ids).select_related("session"))
        outcome = BulkOutcome(done=done, failed=[(str(row[0]), str(row[1])) for row in kept.get("failed", [])])
    return data, outcome, int(kept.get("status", 400))
