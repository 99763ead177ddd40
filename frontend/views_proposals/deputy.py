"""A deputy's pages: my proposals (own and co-signing invitations), and writing or editing a draft."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from chat import drafting
from consult.kernel.exceptions import DomainError
from consult.models import Bureau, User
from frontend.forms import DraftForm
from frontend.views_proposals.common import (
    BoundForms,
    current_user,
    deadline,
    deputy_profile,
    keep_refused_page,
    show_domain_error,
    take_refused_page,
    unshown_errors,
    visible_proposal,
)
from frontend.views_proposals.offers import Item
from frontend.views_proposals.registry import form_for, take_refused
from proposals import services, worklists
from proposals.actions import Action
from proposals.filters import ProposalFilter
from proposals.models import CoSignerStatus, Proposal, ProposalSession, Status

PER_PAGE = 20
TAKING_PART = (CoSignerStatus.INVITED, CoSignerStatus.SIGNED)


@login_required
def my_proposals(request: HttpRequest) -> HttpResponse:
    return render_mine(request, *take_refused(request, current_user(request)))


def render_mine(request: HttpRequest, bound: BoundForms, status: int = 200) -> HttpResponse:
    user = current_user(request)
    deputy_profile(user)
    visible = Proposal.objects.visible_to(user)
    mine = visible.filter(Q(proposer=user) | Q(cosigners__deputy=user, cosigners__status__in=TAKING_PART)).distinct()
    listed = ProposalFilter(request.GET, queryset=mine.select_related("session", "proposer"))
    page = Paginator(listed.qs, PER_PAGE).get_page(request.GET.get("page"))
    now = timezone.now()
    invitations = worklists.cosign_invitations(user).select_related("proposal__session")
    context = {
        "page": page,
        "rows": [(p, deadline(p.reply_due) if p.reply_due else None) for p in page],
        "filter": listed,
        "statuses": Status.choices,
        "chosen_statuses": request.GET.getlist("status"),
        # an invitation past its deadline says so; only a live one offers the buttons
        "invitations": [
            Item(c, {"cosign": form_for(Action.COSIGN, user, c.proposal, bound)} if c.sign_by >= now else {})
            for c in invitations
        ],
        "return_to": "mine",
        "query": _query_without_page(request),
    }
    context["refused"] = unshown_errors(bound)
    return render(request, "frontend/proposals/mine.html", context, status=status)


def _query_without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _content(data: dict[str, Any]) -> services.DraftContent:
    return services.DraftContent(
        title=data["title"],
        body=data["body"],
        category=data["category"],
        wished_lead_bureau_id=data["wished_lead_bureau_id"],
        wished_co_bureau_ids=list(data["wished_co_bureau_ids"]),
        publication_consent=data["publication_consent"],
        publication_refusal_reason=data["publication_refusal_reason"],
    )


@login_required
@require_http_methods(["GET", "POST"])
def proposal_new(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    profile = deputy_profile(user)
    seed = _from_consultation(user, request.GET.get("consultation", ""))
    initial = (
        {"title": seed.title, "body": seed.body, "wished_lead_bureau_id": seed.wished_lead_bureau_id} if seed else {}
    )
    form = DraftForm(request.POST or None, initial=initial, bureaus=Bureau.objects.visible_to(user))
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                proposal = _create(user, seed, _content(form.cleaned_data))
            except DomainError as exc:
                show_domain_error(form, exc)
                status = exc.status
            else:
                messages.success(request, _("The draft was saved. Invite co-signers or submit it when ready."))
                return redirect("proposal-detail", proposal.pk)
        return keep_refused_page(request, form, status)
    refused = take_refused_page(request)
    if refused is not None:
        form = refused.shown_on(DraftForm(refused.data, bureaus=Bureau.objects.visible_to(user)))
        status = refused.status
    session = ProposalSession.objects.filter(chamber=profile.chamber, is_open=True).order_by("-year").first()
    return _draft_page(
        request, user, form, None, status, session=session, no_session=session is None, from_consultation=seed
    )


def _from_consultation(user: User, consultation_id: str) -> drafting.ConsultationDraft | None:
    """转为建议: a consultation the deputy had fills the draft (``chat.drafting``: the question, the expert's answer,
    a link back; its calls' transcripts are attached when the draft is saved). Not the deputy's: a plain draft."""
    if not (consultation_id.isascii() and consultation_id.isdigit()) or len(consultation_id) > 18:
        return None
    try:
        return drafting.draft_from_consultation(actor=user, consultation_id=int(consultation_id))
    except DomainError:
        return None


def _create(user: User, seed: drafting.ConsultationDraft | None, content: services.DraftContent) -> Proposal:
    if seed is None:
        return services.create_draft(actor=user, content=content)
    return drafting.start_proposal(actor=user, consultation_id=seed.consultation.pk, content=content)


@login_required
@require_http_methods(["GET", "POST"])
def proposal_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = current_user(request)
    proposal = visible_proposal(user, pk)
    if proposal.proposer_id != user.pk:
        raise PermissionDenied
    if proposal.status != Status.DRAFT:
        messages.info(request, _("Only drafts can be edited."))
        return redirect("proposal-detail", proposal.pk)
    bureaus = Bureau.objects.visible_to(user)
    form = DraftForm(request.POST or None, bureaus=bureaus, initial=DraftForm.initial_of(proposal))
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                services.update_draft(actor=user, proposal_id=proposal.pk, content=_content(form.cleaned_data))
            except DomainError as exc:
                show_domain_error(form, exc)
                status = exc.status
            else:
                messages.success(request, _("The draft was saved."))
                return redirect("proposal-detail", proposal.pk)
        return keep_refused_page(request, form, status)
    refused = take_refused_page(request)
    if refused is not None:
        form = refused.shown_on(DraftForm(refused.data, bureaus=bureaus))
        status = refused.status
    return _draft_page(request, user, form, proposal, status, session=proposal.session)


def _draft_page(
    request: HttpRequest,
    user: User,
    form: DraftForm,
    proposal: Proposal | None,
    status: int,
    **extra: Any,
) -> HttpResponse:
    context = {"form": form, "proposal": proposal, **extra}
    return render(request, "frontend/proposals/edit.html", context, status=status)
