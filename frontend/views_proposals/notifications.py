"""In-app notifications (站内通知): the list, newest first; opening one (read from then on); the preferences."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from consult.kernel.exceptions import NotFound
from consult.models import Notification
from consult.notifications.kinds import FAMILIES
from consult.notifications.services import (
    PreferenceChange,
    mark_read,
    open_notification,
    preference_row,
    set_preferences,
)
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
def notification_open(request: HttpRequest, pk: int) -> HttpResponse:
    """Following a notification's link: it is read from now on, and the browser goes where it points."""
    try:
        notification = open_notification(actor=current_user(request), notification_id=pk)
    except NotFound:
        raise Http404 from None
    if notification.url and url_has_allowed_host_and_scheme(notification.url, allowed_hosts=None):
        return redirect(notification.url)
    return redirect("notifications")


@login_required
@require_POST
def notifications_read(request: HttpRequest) -> HttpResponse:
    mark_read(actor=current_user(request))
    messages.success(request, _("All notifications are marked as read."))
    return redirect("notifications")


class PreferencesForm(forms.Form):
    families = forms.MultipleChoiceField(
        label=gettext_lazy("Tell me about"),
        choices=[(family.key, family.label) for family in FAMILIES],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    email = forms.BooleanField(label=gettext_lazy("Email me each notification"), required=False)
    webhook = forms.BooleanField(label=gettext_lazy("Send them by SMS / messaging app"), required=False)
    digest = forms.BooleanField(
        label=gettext_lazy("Instead, one email a day with what is still unread (daily digest)"), required=False
    )


@login_required
def notification_preferences(request: HttpRequest) -> HttpResponse:
    """通知设置: which families reach me, and by which channels besides the app (POST, then back here)."""
    user = current_user(request)
    if request.method == "POST":
        form = PreferencesForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            muted = sorted({family.key for family in FAMILIES} - set(data["families"]))
            mails, hook = settings.EMAIL_NOTIFICATIONS, bool(settings.NOTIFICATION_WEBHOOK_URL)
            change = PreferenceChange(  # a channel the site does not offer is not shown, so it is left as it was
                muted=muted,
                email=data["email"] if mails else None,
                digest=data["digest"] if mails else None,
                webhook=data["webhook"] if hook else None,
            )
            set_preferences(actor=user, change=change)
            messages.success(request, _("Your notification preferences were saved."))
            return redirect("notification-preferences")
        status = 400
        chosen = set(request.POST.getlist("families"))
    else:
        row = preference_row(user)
        chosen = {family.key for family in FAMILIES if family.key not in row.muted}
        initial = {"families": sorted(chosen), "email": row.email, "webhook": row.webhook, "digest": row.digest}
        form, status = PreferencesForm(initial=initial), 200
    context = {
        "form": form,
        "family_choices": [(family, family.key in chosen) for family in FAMILIES],
        "email_on": settings.EMAIL_NOTIFICATIONS,
        "webhook_on": bool(settings.NOTIFICATION_WEBHOOK_URL),
        "has_email": bool(user.email),
    }
    return render(request, "frontend/notification_preferences.html", context, status=status)
