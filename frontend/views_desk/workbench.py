"""The expert's workbench (咨询工作台): my presence, my consultations in progress, my bureau's queue.

Opening it connects the live socket, which makes the expert present; the page follows ``bureau.<id>``
(queue and presence changes) and the expert's own topic (``consultation.assigned``).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from consult.desk import services
from consult.desk.access import consultations_visible_to
from consult.desk.selectors import expert_workbench, online_counts
from consult.kernel.exceptions import DomainError
from consult.models import ExpertProfile, PresenceStatus, User
from consult.people.roles import Role
from frontend.views_desk.common import with_unread
from frontend.views_desk.forms import PresenceForm
from frontend.views_proposals.common import current_user, keep_refused_page, take_refused_page


def _expert(user: User) -> ExpertProfile:
    profile: ExpertProfile | None = ExpertProfile.objects.filter(user=user).select_related("bureau").first()
    if user.role != Role.EXPERT or profile is None:
        raise PermissionDenied
    return profile


@login_required
def workbench(request: HttpRequest) -> HttpResponse:
    refused = take_refused_page(request)  # the presence switch refused a moment ago, shown once (decision 0016)
    if refused is not None:
        return render_workbench(request, refused.shown_on(_presence_form(refused.data)), status=refused.status)
    return render_workbench(request)


def _presence_form(data: QueryDict | None = None) -> PresenceForm:
    return PresenceForm(data, auto_id="id_presence_%s")


@login_required
@require_POST
def presence(request: HttpRequest) -> HttpResponse:
    """在线 / 暂离: one call to ``set_presence``."""
    user = current_user(request)
    _expert(user)
    form = _presence_form(request.POST)
    status = 400
    if form.is_valid():
        try:
            services.set_presence(actor=user, status=form.cleaned_data["status"])
        except DomainError as exc:
            form.add_error("status", exc.message)
            status = exc.status
        else:
            messages.success(request, _("Your status was changed."))
            return redirect("desk-workbench")
    return keep_refused_page(request, form, status, page=reverse("desk-workbench"))


def render_workbench(request: HttpRequest, form: PresenceForm | None = None, *, status: int = 200) -> HttpResponse:
    user = current_user(request)
    expert = _expert(user)
    bench = expert_workbench(user)
    unread = dict(
        with_unread(consultations_visible_to(user).filter(pk__in=[c.pk for c in bench["active"]]), user).values_list(
            "pk", "unread"
        )
    )
    presence = bench["presence"]
    now = timezone.now()
    context = {
        "expert": expert,
        "presence_status": presence.status if presence else PresenceStatus.OFFLINE,
        "present": presence is not None and services.is_present(presence, now),
        "presence_form": form or _presence_form(),
        "active": [(c, unread.get(c.pk, 0)) for c in bench["active"]],
        "queue": bench["queue"],
        "capacity": expert.capacity,
        "colleagues_online": online_counts().get(expert.bureau_id, 0),
        "alert_texts": {  # what the background alerts say (desk_alerts.js)
            "title": _("Consultation workbench"),
            "message": _("New message:"),
            "assigned": _("New consultation for you:"),
            "waiting": _("Someone is waiting in your bureau's queue"),
        },
    }
    return render(request, "frontend/desk/workbench.html", context, status=status)
