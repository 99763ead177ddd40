"""The office's consultation figures (咨询统计), live for today, and the form that opens a consultation period."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from consult.desk import services
from consult.desk.access import consultations_visible_to
from consult.desk.selectors import DeskFigures, desk_figures, desk_figures_per_bureau, online_counts
from consult.kernel.exceptions import DomainError
from consult.models import Bureau, ConsultationPeriod, ConsultationStatus, ExpertProfile, User
from frontend.views_desk.forms import PeriodForm
from frontend.views_proposals.common import (
    current_user,
    keep_refused_page,
    require_office,
    show_domain_error,
    take_refused_page,
)

PERIODS_SHOWN = 10


def _period_form(user: User, data: object = None) -> PeriodForm:
    bureaus = Bureau.objects.visible_to(user).filter(is_active=True)
    experts = (
        ExpertProfile.objects.visible_to(user)
        .filter(user__is_active=True, bureau__is_active=True)
        .select_related("user", "bureau")
        .order_by("bureau__sort_order", "bureau_id", "id")
    )
    return PeriodForm(data, bureaus=bureaus, experts=experts, auto_id="id_period_%s")


def waiting_time(seconds: float | None) -> str:
    """An average wait as people say it: 45秒, 3分12秒; a dash when nobody was taken yet."""
    if seconds is None:
        return "—"
    minutes, rest = divmod(round(seconds), 60)
    if not minutes:
        return _("%(s)d s") % {"s": rest}
    return _("%(m)d min %(s)d s") % {"m": minutes, "s": rest}


@login_required
def statistics(request: HttpRequest) -> HttpResponse:
    refused = take_refused_page(request)  # the period form refused a moment ago, shown once (decision 0016)
    if refused is not None:
        user = current_user(request)
        require_office(user)
        return render_statistics(request, refused.shown_on(_period_form(user, refused.data)), status=refused.status)
    return render_statistics(request)


@login_required
@require_POST
def open_period(request: HttpRequest) -> HttpResponse:
    """开放咨询时段: one call to ``open_period``."""
    user = current_user(request)
    require_office(user)
    form = _period_form(user, request.POST)
    status = 400
    if form.is_valid():
        try:
            period = services.open_period(actor=user, **form.cleaned_data)
        except DomainError as exc:
            show_domain_error(form, exc)
            status = exc.status
        else:
            messages.success(request, _("The consultation period “%(name)s” was opened.") % {"name": period.name})
            return redirect("desk-statistics")
    return keep_refused_page(request, form, status, page=reverse("desk-statistics"))


def _day_chart(per_bureau: list[tuple[Bureau, DeskFigures]]) -> dict[str, Any]:
    """What statistics.js draws for today: each bureau's consultations waiting, in progress and ended."""
    counts = [
        (_("Waiting"), [f.waiting_now for _b, f in per_bureau]),
        (_("In progress"), [f.active_now for _b, f in per_bureau]),
        (_("Ended"), [f.ended for _b, f in per_bureau]),
    ]
    return {
        "labels": [b.name for b, _f in per_bureau],
        "desk": [{"label": label, "data": data} for label, data in counts],
    }


def render_statistics(request: HttpRequest, form: PeriodForm | None = None, *, status: int = 200) -> HttpResponse:
    user = current_user(request)
    require_office(user)
    midnight = timezone.make_aware(datetime.combine(timezone.localdate(), time.min))
    visible = consultations_visible_to(user)
    today = visible.filter(created_at__gte=midnight)
    figures = desk_figures(today)
    per_bureau = desk_figures_per_bureau(today)
    context = {
        "figures": figures,
        "average_wait": waiting_time(figures.average_wait_seconds),
        "per_bureau": [(b, f, waiting_time(f.average_wait_seconds)) for b, f in per_bureau],
        "chart": _day_chart(per_bureau),
        "in_progress": visible.filter(status=ConsultationStatus.ACTIVE).count(),
        "waiting": visible.filter(status=ConsultationStatus.QUEUED).count(),
        "experts_online": sum(online_counts().values()),
        "periods": ConsultationPeriod.objects.prefetch_related("bureaus").order_by("-starts_at")[:PERIODS_SHOWN],
        "current_period": services.current_period(),
        "form": form or _period_form(user),
        "day": timezone.localdate(),
    }
    return render(request, "frontend/desk/statistics.html", context, status=status)
