"""In-app notifications (站内通知): the list, newest first, and marking them read."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from consult.models import Notification
from consult.notifications.services import mark_read
from frontend.views_proposals.common import current_user

PER_PAGE = 30


@login_required
def notification_list(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    mine = Notification.objects.visible_to(user)
    page = Paginator(mine, PER_PAGE).get_page(request.GET.get("page"))
    context = {"page": page, "unread": mine.filter(read_at__isnull=True).count()}
    return render(request, "frontend/notifications.html", context)


@login_required
@require_POST
def notifications_read(request: HttpRequest) -> HttpResponse:
    mark_read(actor=current_user(request))
    messages.success(request, _("All notifications are marked as read."))
    return redirect("notifications")
