"""Pages. Presentation only: read through selectors, write through services."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from consult.kernel.exceptions import DomainError
from consult.models import Bureau, DeputyContact, DeputyProfile, ExpertProfile, HandlerProfile, User
from consult.people import services
from consult.people.filters import BureauFilter
from consult.people.roles import Chamber, Role
from consult.people.selectors import bureau_id_of


def _user(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User):  # login_required guarantees it; this narrows the type
        raise PermissionDenied
    return user


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    context: dict[str, Any] = {"role": user.role, "role_label": user.get_role_display()}
    if user.role == Role.DEPUTY:
        context["deputy"] = DeputyProfile.objects.visible_to(user).filter(user=user).first()
        if context["deputy"] is not None:  # 人大代表 or 政协委员 says more than the role's name
            context["role_label"] = context["deputy"].get_chamber_display()
        context["bureaus"] = Bureau.objects.visible_to(user)[:12]
    elif user.role in (Role.EXPERT, Role.HANDLER):
        context.update(_bureau_context(user))
    else:
        context["stats"] = _office_stats(user)
    return render(request, "frontend/home.html", context)


def _bureau_context(user: User) -> dict[str, Any]:
    bureau = Bureau.objects.visible_to(user).filter(pk=bureau_id_of(user)).first()
    post = getattr(user, "expert_profile", None) or getattr(user, "handler_profile", None)
    colleagues = ExpertProfile.objects.visible_to(user).filter(bureau=bureau).exclude(user=user).select_related("user")
    return {"bureau": bureau, "post": post, "colleagues": colleagues[:20]}


def _office_stats(user: User) -> dict[str, int]:
    deputies = DeputyProfile.objects.visible_to(user)
    return {
        "bureaus": Bureau.objects.visible_to(user).count(),
        "experts": ExpertProfile.objects.visible_to(user).count(),
        "handlers": HandlerProfile.objects.visible_to(user).count(),
        "npc_deputies": deputies.filter(chamber=Chamber.NPC).count(),
        "cppcc_members": deputies.filter(chamber=Chamber.CPPCC).count(),
    }


@login_required
def bureau_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    queryset = Bureau.objects.visible_to(user).annotate(expert_count=Count("expertprofile"))
    bureau_filter = BureauFilter(request.GET, queryset=queryset)
    return render(request, "frontend/bureau_list.html", {"filter": bureau_filter, "bureaus": bureau_filter.qs})


@login_required
def bureau_detail(request: HttpRequest, code: str) -> HttpResponse:
    user = _user(request)
    experts = ExpertProfile.objects.visible_to(user).select_related("user", "department")
    bureau = (
        Bureau.objects.visible_to(user)
        .prefetch_related("departments", Prefetch("expertprofile_set", queryset=experts, to_attr="experts"))
        .filter(code=code)
        .first()
    )
    if bureau is None:
        raise Http404
    return render(request, "frontend/bureau_detail.html", {"bureau": bureau})


@login_required
@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    deputy = DeputyProfile.objects.visible_to(user).filter(user=user).first()
    contact = DeputyContact.objects.visible_to(user).filter(profile__user=user).first()
    errors: dict[str, str] = {}
    values = {name: getattr(contact, name, "") for name in services.CONTACT_FIELDS}
    if request.method == "POST" and deputy is not None:
        values = {name: request.POST.get(name, "").strip() for name in services.CONTACT_FIELDS}
        try:
            services.update_own_contact(actor=user, contact=services.ContactDetails(**values))
        except DomainError as exc:
            errors[exc.field or "form"] = exc.message
        else:
            messages.success(request, _("Your contact details were saved."))
            return redirect("profile")
    post = getattr(user, "expert_profile", None) or getattr(user, "handler_profile", None)
    context = {"deputy": deputy, "post": post, "values": values, "errors": errors}
    return render(request, "frontend/profile.html", context, status=400 if errors else 200)
