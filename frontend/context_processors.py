"""Navigation shown in every page, by role, and the notifications link with its unread count.

The deputy's 在线咨询 link carries the number of chat messages they have not read yet.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from consult.notifications.services import unread_count
from consult.people.roles import OFFICE_ROLES, Role
from frontend.text_size import is_large
from frontend.views_desk.common import unread_total

DESK_ROOM = {"desk-room", "desk-act"}

# (label, url name, the url names that light it up)
ROLE_ENTRIES = {
    Role.DEPUTY: [
        (_("Online consultation"), "desk", {"desk", "desk-start", *DESK_ROOM}),
        (_("My proposals"), "proposal-mine", {"proposal-mine", "proposal-new", "proposal-edit", "proposal-detail"}),
    ],
    Role.EXPERT: [(_("Consultation workbench"), "desk-workbench", {"desk-workbench", "desk-presence", *DESK_ROOM})],
    Role.HANDLER: [(_("Work queue"), "work-queue", {"work-queue", "proposal-detail"})],
    Role.STAFF: [
        (_("Registration and assignment"), "office-registration", {"office-registration", "office-assignment"}),
        (_("Supervision"), "office-supervision", {"office-supervision"}),
        (_("Statistics"), "office-statistics", {"office-statistics"}),
        (_("Consultation statistics"), "desk-statistics", {"desk-statistics", "desk-period", *DESK_ROOM}),
        (_("Search"), "search", {"search", "search-messages", "search-similar"}),
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
    if user.role == Role.DEPUTY:
        _badge_unread_messages(items, reverse("desk"), unread_total(user))
    notifications = {
        "url": reverse("notifications"),
        "unread": unread_count(user.pk),
        "active": current == "notifications",
    }
    return {"nav_items": items, "notifications_nav": notifications}


def _badge_unread_messages(items: list[dict[str, Any]], url: str, unread: int) -> None:
    """The base template prints the label as it is: a safe label carries the badge (only when there is one)."""
    for item in items:
        if item["url"] == url and unread:
            label = format_html(
                '{}<span class="badge nav-badge" data-desk-unread aria-label="{}">{}</span>',
                item["label"],
                _("unread messages"),
                unread,
            )
            item["label"] = label


def text_size(request: HttpRequest) -> dict[str, Any]:
    """``large_text``: the 长辈版 switch's state (the account when signed in, else the cookie: frontend.text_size)."""
    return {"large_text": is_large(request)}
