"""The deputy's desk (在线咨询): bureaus with experts online, the start form, and my consultations."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from consult.desk import services
from consult.desk.access import consultations_visible_to
from consult.desk.selectors import desk_bureaus, expected_wait, experts_with_presence
from consult.kernel.exceptions import DomainError
from consult.models import Bureau, ConsultationStatus, User
from consult.people.roles import Role
from consult.people.selectors import is_office
from frontend.views_desk.common import with_unread
from frontend.views_desk.forms import StartForm
from frontend.views_proposals.common import current_user, keep_refused_page, show_domain_error, take_refused_page
from proposals.models import Proposal

ENDED_SHOWN = 20  # the latest ended consultations listed; older ones stay in the history


def _require_deputy(user: User) -> None:
    if user.role != Role.DEPUTY:
        raise PermissionDenied


@login_required
def desk(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    if user.role == Role.EXPERT:  # each role has its own desk
        return redirect("desk-workbench")
    if is_office(user):
        return redirect("desk-statistics")
    refused = take_refused_page(request)  # a start form refused a moment ago, shown once (decision 0016)
    if refused is not None and user.role == Role.DEPUTY:
        form = refused.shown_on(_start_form(user, refused.data))
        return render_desk(request, form, status=refused.status)
    return render_desk(request)


@login_required
@require_POST
def start(request: HttpRequest) -> HttpResponse:
    """开始咨询: one call to ``start_consultation``, then into the room (or a 303 to the desk, with the reason)."""
    user = current_user(request)
    _require_deputy(user)
    form = _start_form(user, request.POST)
    status = 400
    if form.is_valid():
        data = form.cleaned_data
        try:
            consultation = services.start_consultation(
                actor=user,
                bureau_id=data["bureau_id"],
                topic=data["topic"],
                expert_id=data["expert_id"],
                proposal_id=data["proposal_id"],
            )
        except DomainError as exc:
            show_domain_error(form, exc)
            status = exc.status
        else:
            messages.success(request, _("Your consultation has started."))
            return redirect("desk-room", pk=consultation.pk)
    return keep_refused_page(request, form, status, page=reverse("desk"))


def _start_form(user: User, data: Any = None, initial: dict[str, Any] | None = None) -> StartForm:
    bureaus = Bureau.objects.visible_to(user).filter(is_active=True)
    proposals = Proposal.objects.visible_to(user).filter(proposer=user).order_by("-created_at")[:50]
    return StartForm(data, bureaus=bureaus, proposals=proposals, initial=initial, auto_id="id_start_%s")


def _chosen_bureau(user: User, form: StartForm, request: HttpRequest) -> Bureau | None:
    raw = form.data.get("bureau_id") if form.is_bound else request.GET.get("bureau")
    if not str(raw or "").isdigit():
        return None
    bureau: Bureau | None = Bureau.objects.visible_to(user).filter(pk=int(str(raw)), is_active=True).first()
    return bureau


def render_desk(request: HttpRequest, form: StartForm | None = None, *, status: int = 200) -> HttpResponse:
    user = current_user(request)
    _require_deputy(user)
    if form is None:
        initial = {"bureau_id": request.GET.get("bureau"), "expert_id": request.GET.get("expert")}
        form = _start_form(user, initial=initial)
    bureau = _chosen_bureau(user, form, request)
    chosen_expert = form.data.get("expert_id") if form.is_bound else request.GET.get("expert")
    bureaus = desk_bureaus(user)
    context = {
        "form": form,
        "bureau": bureau,
        "experts": experts_with_presence(bureau) if bureau else [],
        "chosen_expert": str(chosen_expert or ""),
        "bureaus": bureaus,
        "online_total": sum(row.online for row in bureaus),
        **_my_consultations(user),
    }
    return render(request, "frontend/desk/desk.html", context, status=status)


def _my_consultations(user: User) -> dict[str, Any]:
    mine = with_unread(consultations_visible_to(user), user).select_related("requested_expert__user")
    waiting = list(mine.filter(status=ConsultationStatus.QUEUED).order_by("created_at", "id"))
    return {
        "waiting": [(c, p, expected_wait(c, p)) for c, p in ((c, services.queue_position(c)) for c in waiting)],
        "in_progress": list(mine.filter(status=ConsultationStatus.ACTIVE).order_by("-assigned_at")),
        "ended": list(mine.filter(status=ConsultationStatus.ENDED).order_by("-ended_at")[:ENDED_SHOWN]),
    }
