"""One view for every action on a proposal: bind the form, call the ONE service, then redirect or explain.

Either way the answer is a redirect to the page the form was on (``return_to``, with its list's query kept in
``return_query``): done, with a message; refused, with a 303 to that page, which shows the form again with what
was typed, the message beside the field the service named and the status it carries (400, 403, 404, 409 or
429) once (``registry.keep_refused`` / ``take_refused``): a reload never posts again. Nothing has changed.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from consult.kernel.exceptions import DomainError
from frontend.views_proposals.common import auto_id, current_user, show_domain_error, slot_name, visible_proposal
from frontend.views_proposals.registry import ACTIONS, keep_refused
from proposals.actions import Action

# return_to -> the page (URL name) that shows the form; each takes the refused form back with ``take_refused``.
PAGES: dict[str, str] = {
    "detail": "proposal-detail",
    "mine": "proposal-mine",
    "queue": "work-queue",
    "registration": "office-registration",
    "assignment": "office-assignment",
    "supervision": "office-supervision",
}


@login_required
@require_POST
def act(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    action = ACTIONS.get(Action(name)) if name in set(Action) else None
    if action is None:
        raise Http404
    user = current_user(request)
    proposal = visible_proposal(user, pk)
    url_name = PAGES.get(request.POST.get("return_to", ""), PAGES["detail"])
    back = _page_url(url_name, pk, request.POST.get("return_query", ""))
    slot = slot_name(name, request.POST.get(action.target) if action.target else None)
    form = action.form(request.POST, request.FILES, user=user, proposal=proposal, auto_id=auto_id(pk, slot))
    status = 400
    if form.is_valid():
        try:
            action.perform(user, proposal, form.cleaned_data)
        except DomainError as exc:
            show_domain_error(form, exc, action.field_map)
            status = exc.status
        else:
            messages.success(request, action.done(form.cleaned_data))
            return redirect(back)
    # Post, redirect, get: the page it came from shows the form again with its messages; a reload never re-posts.
    keep_refused(request, proposal, Action(name), slot, form, status)
    return HttpResponseRedirect(back, status=303)


def _page_url(url_name: str, pk: int, query: str) -> str:
    """The page a form was on, with the list's filters and page it showed (re-encoded: nothing else gets in)."""
    url = reverse(url_name, args=[pk]) if url_name == "proposal-detail" else reverse(url_name)
    kept = QueryDict(query[:2000]).urlencode()
    return f"{url}?{kept}" if kept else url
