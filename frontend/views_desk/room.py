"""The chat room of one consultation, and the one POST endpoint of its actions.

The messages themselves travel on the chat socket (``static/frontend/chat.js``); the page renders the
thread so far and the forms the viewer may use: end (both sides), transfer (the expert, while in progress),
outcome (the expert, once ended) and rating (the deputy, once ended). Each form calls ONE service; a refused
one answers 303 to the room, which shows it once with the message beside the field and the service's status
(400/403/404/409), so a reload never posts again (decision 0016).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST
from django_stubs_ext import StrOrPromise

from chat import selectors as chat
from consult.desk import access, services
from consult.desk.selectors import deputy_history, experts_with_presence
from consult.kernel.exceptions import DomainError
from consult.models import Bureau, Consultation, ConsultationStatus, User
from consult.people.roles import Role
from consult.people.selectors import is_office
from frontend.views_desk.common import visible_consultation
from frontend.views_desk.forms import OutcomeForm, RatingForm, TransferForm
from frontend.views_proposals.common import current_user, keep_refused_page, show_domain_error, take_refused_page

HISTORY_SHOWN = 500  # messages rendered with the page; chat.js asks the socket for anything after them


class EndForm(forms.Form):
    """Ending takes no input."""


@dataclass(frozen=True)
class Action:
    perform: Callable[[User, Consultation, dict[str, Any]], object]
    done: StrOrPromise
    goes_to: str = "desk-room"  # where a done action lands


ACTIONS: dict[str, Action] = {
    "end": Action(
        lambda u, c, d: services.end_consultation(actor=u, consultation_id=c.pk),
        _("The consultation has ended."),
    ),
    "transfer": Action(
        lambda u, c, d: services.transfer_consultation(actor=u, consultation_id=c.pk, **d),
        _("The consultation was transferred."),
        goes_to="desk-workbench",
    ),
    "outcome": Action(
        lambda u, c, d: services.record_outcome(actor=u, consultation_id=c.pk, outcome=d["outcome"], note=d["note"]),
        _("The outcome was recorded."),
    ),
    "rate": Action(
        lambda u, c, d: services.rate_consultation(
            actor=u, consultation_id=c.pk, rating=d["rating"] or 0, comment=d["comment"]
        ),
        _("Thank you: your rating was recorded."),
    ),
}


def form_for(name: str, user: User, consultation: Consultation, data: Any = None) -> forms.Form:
    auto_id = f"id_{name}_%s"
    if name == "transfer":
        colleagues = [(e, here) for e, here in experts_with_presence(consultation.bureau) if e.user_id != user.pk]
        bureaus = Bureau.objects.visible_to(user).filter(is_active=True).exclude(pk=consultation.bureau_id)
        return TransferForm(data, colleagues=colleagues, bureaus=bureaus, auto_id=auto_id)
    if name == "outcome":
        initial: dict[str, Any] = {"outcome": consultation.outcome, "note": consultation.outcome_note}
        return OutcomeForm(data, initial=initial, auto_id=auto_id)
    if name == "rate":
        initial = {"rating": consultation.rating, "comment": consultation.rating_comment}
        return RatingForm(data, initial=initial, auto_id=auto_id)
    return EndForm(data, auto_id=auto_id)


@login_required
def room(request: HttpRequest, pk: int) -> HttpResponse:
    refused = take_refused_page(request)
    if refused is not None and refused.slot in ACTIONS:
        user = current_user(request)
        form = form_for(refused.slot, user, visible_consultation(user, pk), refused.data)
        return render_room(request, pk, {refused.slot: refused.shown_on(form)}, status=refused.status)
    return render_room(request, pk)


@login_required
@require_POST
def act(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    action = ACTIONS.get(name)
    if action is None:
        raise Http404
    user = current_user(request)
    consultation = visible_consultation(user, pk)
    form = form_for(name, user, consultation, request.POST)
    status = 400
    if form.is_valid():
        try:
            action.perform(user, consultation, form.cleaned_data)
        except DomainError as exc:
            show_domain_error(form, exc)
            status = exc.status
        else:
            messages.success(request, action.done)
            return redirect(reverse(action.goes_to, args=[pk] if action.goes_to == "desk-room" else []))
    return keep_refused_page(request, form, status, page=reverse("desk-room", args=[pk]), slot=name)


def _viewer(user: User, consultation: Consultation) -> dict[str, bool]:
    is_expert = consultation.expert is not None and consultation.expert.user_id == user.pk
    return {
        "is_deputy": consultation.deputy_id == user.pk,
        "is_expert": is_expert,
        # An expert sees their bureau's queue (who waits, about what) but not the thread until it is theirs.
        "can_read": access.can_read(user, consultation),
        "can_post": access.can_post(user, consultation),
        "can_call": access.can_call(user, consultation),  # the writers and an invited second expert
        "sees_history": user.role == Role.EXPERT or is_office(user),
    }


def _offered(viewer: dict[str, bool], consultation: Consultation) -> list[str]:
    """The forms this viewer may use now."""
    ended = consultation.status == ConsultationStatus.ENDED
    offered = []
    if not ended and (viewer["is_deputy"] or viewer["is_expert"]):
        offered.append("end")
    if viewer["is_expert"] and consultation.status == ConsultationStatus.ACTIVE:
        offered.append("transfer")
    if viewer["is_expert"] and ended:
        offered.append("outcome")
    if viewer["is_deputy"] and ended and consultation.assigned_at is not None:  # nobody to rate otherwise
        offered.append("rate")
    return offered


def render_room(
    request: HttpRequest, pk: int, bound: dict[str, forms.Form] | None = None, *, status: int = 200
) -> HttpResponse:
    user = current_user(request)
    consultation = visible_consultation(user, pk)
    viewer = _viewer(user, consultation)
    bound = bound or {}
    offered = _offered(viewer, consultation)
    refused = [str(e) for name, form in bound.items() if name not in offered for e in form.non_field_errors()]
    refused += [str(e) for name, form in bound.items() if name not in offered for e in _field_errors(form)]
    thread = list(chat.messages_after(consultation, 0, HISTORY_SHOWN)) if viewer["can_read"] else []
    context = {
        "consultation": consultation,
        **viewer,
        "forms": {name: bound.get(name) or form_for(name, user, consultation) for name in offered},
        "refused": refused,
        "queue_position": services.queue_position(consultation),
        "history": deputy_history(consultation) if viewer["sees_history"] else None,
        "thread": thread,
        "payloads": chat.message_payloads(thread),
        "read": {str(u): seq for u, seq in chat.read_state(consultation).items()} if viewer["can_read"] else {},
        "edit_window": settings.CHAT_EDIT_WINDOW_SECONDS,
        "voice_max_seconds": int(settings.CHAT_VOICE_MAX_SECONDS),
        "is_office": is_office(user),
    }
    return render(request, "frontend/desk/room.html", context, status=status)


def _field_errors(form: forms.Form) -> list[str]:
    return [str(error) for name, errors in form.errors.items() if name != "__all__" for error in errors]
