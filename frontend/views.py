"""Pages. Presentation only: read through selectors, write through services."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Prefetch, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from django_stubs_ext import StrOrPromise

from consult.desk import selectors as desk_selectors
from consult.desk.selectors import present_experts
from consult.kernel.exceptions import DomainError
from consult.models import Bureau, DeputyContact, DeputyProfile, ExpertProfile, HandlerProfile, User
from consult.people import services
from consult.people.filters import BureauFilter
from consult.people.roles import Chamber, Role
from consult.people.selectors import bureau_id_of, is_office
from proposals import worklists


def _user(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User):  # login_required guarantees it; this narrows the type
        raise PermissionDenied
    return user


@dataclass(frozen=True)
class Todo:
    """One to-do list of the home page: what waits, how many, and the page where it is done."""

    key: str
    label: StrOrPromise
    items: list[Any]
    count: int
    url: str


TODO_SHOWN = 5  # items listed per to-do; the count says how many in all


def _todo(key: str, label: StrOrPromise, queryset: QuerySet[Any], url: str) -> Todo:
    return Todo(key, label, list(queryset[:TODO_SHOWN]), queryset.count(), url)


def _todos(user: User) -> list[Todo]:
    """The role's to-do lists (issue 15, point 3), each read through the access policies."""
    if user.role == Role.DEPUTY:
        return [
            _todo("rate", _("Replies to rate"), worklists.replies_to_rate(user), reverse("proposal-mine")),
            _todo("cosign", _("Invitations to co-sign"), worklists.open_invitations(user), reverse("proposal-mine")),
            _todo("consultations", _("Open consultations"), desk_selectors.open_consultations(user), reverse("desk")),
            _todo("drafts", _("Drafts"), worklists.drafts(user), reverse("proposal-mine")),
        ]
    if user.role == Role.EXPERT:
        bench = desk_selectors.expert_workbench(user)
        url = reverse("desk-workbench")
        return [
            Todo("live", _("My live consultations"), bench["active"][:TODO_SHOWN], len(bench["active"]), url),
            Todo("queue", _("Waiting in the queue"), bench["queue"][:TODO_SHOWN], len(bench["queue"]), url),
        ]
    if user.role == Role.HANDLER:
        assignments = worklists.bureau_assignments(user)
        return [_todo("assignments", _("Assignments by deadline"), assignments, reverse("work-queue"))]
    if is_office(user):
        supervision = reverse("office-supervision")
        return [
            _todo("register", _("To register"), worklists.to_register(user), reverse("office-registration")),
            _todo("assign", _("To assign"), worklists.to_assign(user), reverse("office-assignment")),
            _todo("review", _("Replies to review"), worklists.replies_to_review(user), f"{supervision}#reviews"),
            _todo("publish", _("Replies to publish"), worklists.replies_to_publish(user), f"{supervision}#publish"),
            _todo("overdue", _("Overdue"), worklists.overdue_assignments(user), f"{supervision}#overdue"),
        ]
    return []


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    context: dict[str, Any] = {"role": user.role, "role_label": user.get_role_display(), "todos": _todos(user)}
    context["today"] = timezone.localdate()
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
    online = set(present_experts().filter(expert__bureau=bureau).values_list("expert_id", flat=True))
    context = {"bureau": bureau, "online": online, "can_consult": user.role == Role.DEPUTY}
    return render(request, "frontend/bureau_detail.html", context)


PROFILE_REFUSED = "refused_profile"


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
            # post, redirect, get: the page shows what was typed and why once; a reload never posts again
            request.session[PROFILE_REFUSED] = {"values": values, "errors": {exc.field or "form": exc.message}}
            return HttpResponseRedirect(reverse("profile"), status=303)
        messages.success(request, _("Your contact details were saved."))
        return redirect("profile")
    kept = request.session.pop(PROFILE_REFUSED, None) if request.method == "GET" else None
    if isinstance(kept, dict) and deputy is not None:
        values = {name: str(dict(kept.get("values", {})).get(name, "")) for name in services.CONTACT_FIELDS}
        errors = {str(key): str(message) for key, message in dict(kept.get("errors", {})).items()}
    post = getattr(user, "expert_profile", None) or getattr(user, "handler_profile", None)
    context = {"deputy": deputy, "post": post, "values": values, "errors": errors}
    return render(request, "frontend/profile.html", context, status=400 if errors else 200)
