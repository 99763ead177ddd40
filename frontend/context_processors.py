"""Navigation shown in every page, by role."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from consult.roles import Role


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    current = request.resolver_match.url_name if request.resolver_match else None
    entries = [
        (_("Home"), "home", {"home"}),
        (_("Bureaus"), "bureau-list", {"bureau-list", "bureau-detail"}),
        (_("My profile"), "profile", {"profile"}),
    ]
    if user.role == Role.ADMIN:
        entries.append((_("Administration"), "admin:index", set()))
    items = [
        {"label": label, "url": reverse(url_name), "active": current in matches} for label, url_name, matches in entries
    ]
    return {"nav_items": items}
