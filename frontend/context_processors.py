"""Navigation shown in every page, by role, and the notifications link with its unread count."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from consult.notifications import unread_count
from consult.roles import OFFICE_ROLES, Role

# (label, url name, the url names that light it up)
ROLE_ENTRIES = {
    Role.DEPUTY: [
        (_("My proposals"), "proposal-mine", {"proposal-mine", "proposal-new", "proposal-edit", "proposal-detail"})
    ],
    Role.HANDLER: [(_("Work queue"), "work-queue", {"work-queue", "proposal-detail"})],
    Role.STAFF: [
        (_("Registration and assignment"), "office-registration", {"office-registration", "office-assignment"}),
        (_("Supervision"), "office-supervision", {"office-supervision"}),
        (_("Statistics"), "office-statistics", {"office-statistics"}),
    ],
}


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    current = request.resolver_match.url_name if request.resolver_match else None
    role = Role.STAFF if user.role in OFFICE_ROLES else user.role
    entries = [
        (_("Home"), "home", {"home"}),
        *ROLE_ENTRIES.get(role, []),
        (_("Bureaus"), "bureau-list", {"bureau-list", "bureau-detail"}),
        (_("My profile"), "profile", {"profile"}),
    ]
    if user.role == Role.ADMIN:
        entries.append((_("Administration"), "admin:index", set()))
    items = [
        {"label": label, "url": reverse(url_name), "active": current in matches} for label, url_name, matches in entries
    ]
    notifications = {
        "url": reverse("notifications"),
        "unread": unread_count(user.pk),
        "active": current == "notifications",
    }
    return {"nav_items": items, "notifications_nav": notifications}
