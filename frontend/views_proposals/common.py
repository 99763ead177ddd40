"""What the proposal pages share: who is asking, what they may see, and forms a service refused."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import TypeVar

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied
from django.forms.utils import ErrorDict
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.utils import timezone

from consult.kernel.exceptions import DomainError
from consult.models import DeputyProfile, User
from consult.people.roles import Role
from consult.people.selectors import bureau_id_of, is_office
from proposals import workdays
from proposals.models import Proposal
from proposals.rules import current_rules

# A form that failed, kept to be shown again with its errors: (proposal id, slot) -> bound form.
# The slot names the form on its page: the action, and what it acts on ("rate-12" for reply 12).
BoundForms = dict[tuple[int, str], forms.Form]


def current_user(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User):  # login_required guarantees it; this narrows the type
        raise PermissionDenied
    return user


def visible_proposal(user: User, pk: int) -> Proposal:
    """The proposal, if ``user`` may see it; a 404 otherwise (whether it exists is nobody else's business)."""
    proposal = (
        Proposal.objects.visible_to(user)
        .select_related("session", "proposer", "wished_lead_bureau", "merged_into__session")
        .filter(pk=pk)
        .first()
    )
    if proposal is None:
        raise Http404
    return proposal


def require_office(user: User) -> None:
    if not is_office(user):
        raise PermissionDenied


def handler_bureau(user: User) -> int:
    """The bureau a handler (承办人) acts for; other people have no work queue."""
    bureau_id = bureau_id_of(user)
    if user.role != Role.HANDLER or bureau_id is None:
        raise PermissionDenied
    return bureau_id


def deputy_profile(user: User) -> DeputyProfile:
    profile: DeputyProfile | None = DeputyProfile.objects.visible_to(user).filter(user=user).first()
    if user.role != Role.DEPUTY or profile is None:
        raise PermissionDenied
    return profile


def unshown_errors(bound: BoundForms) -> list[str]:
    """Messages of refused forms the page does not show (not offered to this user, or no longer), for its top."""
    return [
        str(error)
        for form in bound.values()
        if not getattr(form, "shown", False)
        for errors in form.errors.values()
        for error in errors
    ]


def slot_name(action: str, target: object = None) -> str:
    suffix = re.sub(r"\W", "", str(target)) if target not in (None, "") else ""
    return f"{action}-{suffix}" if suffix else action


def auto_id(proposal_id: int, slot: str) -> str:
    """Element ids unique on a page that holds many forms (``id_12_rate-3_result``)."""
    return f"id_{proposal_id}_{slot}_%s"


def show_domain_error(form: forms.Form, exc: DomainError, field_map: Mapping[str, str] | None = None) -> None:
    """Put the service's message beside the field it names, or above the form when it names none we show."""
    name = (field_map or {}).get(exc.field or "", exc.field)
    shown = name is not None and name in form.fields and not form.fields[name].widget.is_hidden
    form.add_error(name if shown else None, exc.message)


@dataclass(frozen=True)
class Deadline:
    """A due date and how urgent it is: ``overdue`` (red), ``soon`` (amber) or ``""``."""

    day: date | None
    urgency: str = ""


def deadline(day: date | None, today: date | None = None) -> Deadline:
    if day is None:
        return Deadline(None)
    today = today or timezone.localdate()
    if day < today:
        return Deadline(day, "overdue")
    if day <= workdays.add_working_days(today, current_rules().due_soon_working_days):
        return Deadline(day, "soon")
    return Deadline(day)


@dataclass
class BulkOutcome:
    """What a bulk action did, row by row: each row is its own transaction."""

    done: list[Proposal] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (the row as people name it, why)

    @property
    def status(self) -> int:
        return 200 if self.done or not self.failed else 400


# --- a refused form of a page that posts to itself: post, redirect, get (a reload never posts again) -------------

PAGE_KEY = "refused_page"


def keep_refused_page(
    request: HttpRequest, form: forms.Form, status: int, *, page: str | None = None, slot: str = ""
) -> HttpResponse:
    """Keep the refused form (what was typed, its messages, the status) for its page, and 303 back to it.

    The page is this URL unless ``page`` names another (a form that posts elsewhere: the desk's start form);
    ``slot`` names the form on a page that holds several (the room's end, transfer, outcome and rating).
    """
    path = page or request.get_full_path()
    request.session[PAGE_KEY] = {
        "path": path,
        "slot": slot,
        "data": {key: values for key, values in request.POST.lists() if key != "csrfmiddlewaretoken"},
        "errors": {key: [str(message) for message in messages] for key, messages in form.errors.items()},
        "status": status,
    }
    return HttpResponseRedirect(path, status=303)


@dataclass(frozen=True)
class Refused:
    data: QueryDict
    errors: dict[str, list[str]]
    status: int
    slot: str = ""

    def shown_on(self, form: F) -> F:
        """``form`` (bound to ``data``) with the messages it had, not validated again."""
        return with_messages(form, self.errors)


def take_refused_page(request: HttpRequest) -> Refused | None:
    """The form ``keep_refused_page`` kept for this very URL, once."""
    kept = request.session.get(PAGE_KEY)
    if not isinstance(kept, dict) or kept.get("path") != request.get_full_path():
        return None
    del request.session[PAGE_KEY]
    data = QueryDict(mutable=True)
    for key, values in dict(kept.get("data", {})).items():
        data.setlist(key, [str(value) for value in values])
    errors = {str(key): [str(m) for m in messages] for key, messages in dict(kept.get("errors", {})).items()}
    return Refused(data, errors, int(kept.get("status", 400)), str(kept.get("slot", "")))


F = TypeVar("F", bound=forms.Form)


def with_messages(form: F, errors: Mapping[str, list[str]]) -> F:
    """A bound form showing the messages it had when it was refused (a service's too), not validated again."""
    form.cleaned_data = {}
    setattr(form, "_errors", ErrorDict())  # noqa: B010 (Django's own slot for a bound form's errors)
    for key, messages in errors.items():
        for message in messages:
            form.add_error(None if key == NON_FIELD_ERRORS else key, message)
    return form
