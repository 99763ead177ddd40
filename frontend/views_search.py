"""Search pages: proposals with facets, consultation lines (咨询记录), and the similar-proposals list.

- ``/search/``            proposals the viewer may see; every choice (words, sort, facets, page) lives in
                          the query string, so a search can be bookmarked and shared.
- ``/search/messages/``   lines of the consultations the viewer may read.
- ``/search/transcripts/`` what was said in their voice messages (a hit opens the clip at the matching moment).
- ``/search/similar/<pk>/`` earlier proposals on the subject of one proposal: what the office checks for
                          duplicates (并案) when registering. A fragment when fetched by the page, a page otherwise.

Presentation only: ``proposals.searching`` and ``chat.searching`` scope, filter and highlight.
Highlights come HTML-escaped from ``search.highlight``, matches wrapped in ``<mark>``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from chat.searching import MessageSearch, search_messages
from chat.transcript_search import TranscriptSearch, search_transcripts
from chat.voice_api import clip_url
from consult.kernel.exceptions import InvalidInput
from consult.people.roles import Role
from frontend.views_proposals.common import current_user, visible_proposal
from proposals.models import Proposal
from proposals.searching import (
    FACETS,
    FacetOption,
    ProposalHit,
    ProposalSearch,
    replying_bureaus,
    search_proposals,
    similar_proposals,
)

FACET_TITLES: Mapping[str, Any] = {
    "status": _("Status"),
    "kind": _("Kind"),
    "year": _("Year"),
    "bureau": _("Bureau"),
    "outcome_class": _("Reply class"),
    "category": _("Category"),
}
MULTIPLE = frozenset({"status", "outcome_class"})  # filters that take several values; the others take one
OTHER_FILTERS: Mapping[str, Any] = {
    "session": _("Session"),
    "proposer": _("Proposer"),
    "overdue": _("Overdue"),
    "due_within": _("Due within (days)"),
    "number": _("Number"),
}
SORTS = (("relevance", _("Most relevant")), ("newest", _("Newest first")), ("oldest", _("Oldest first")))
SIMILAR_SHOWN = 5


def snippet(found: Mapping[str, str], name: str, fallback: str = "") -> SafeString:
    """A highlighted snippet (escaped by ``search.highlight``), or the plain text escaped here."""
    if name in found:
        return mark_safe(found[name])  # noqa: S308 (search.highlight escapes the text; only <mark> is markup)
    return escape(fallback)


def without_page(params: QueryDict) -> QueryDict:
    query = params.copy()
    query.pop("page", None)
    return query


def link(query: QueryDict) -> str:
    encoded = query.urlencode()
    return f"?{encoded}" if encoded else "?"


def toggled(params: QueryDict, name: str, value: str) -> str:
    """The URL with ``value`` of filter ``name`` switched: added (or chosen) when off, removed when on."""
    query = without_page(params)
    values = [v for v in query.getlist(name) if v]
    if value in values:
        values.remove(value)
    elif name in MULTIPLE:
        values.append(value)
    else:
        values = [value]
    if values:
        query.setlist(name, values)
    else:
        query.pop(name, None)
    return link(query)


@dataclass(frozen=True)
class FacetLink:
    value: str
    label: str
    count: int
    selected: bool
    url: str


@dataclass(frozen=True)
class FacetGroup:
    name: str
    title: str
    links: list[FacetLink]


@dataclass(frozen=True)
class ActiveFilter:
    title: str
    label: str
    remove_url: str


@dataclass(frozen=True)
class ProposalRow:
    proposal: Proposal
    title: SafeString
    body: SafeString
    replies: SafeString
    bureaus: list[str]


def facet_groups(params: QueryDict, facets: Mapping[str, list[FacetOption]]) -> list[FacetGroup]:
    groups = []
    for name in FACETS:
        options = facets.get(name) or []
        links = [FacetLink(o.value, o.label, o.count, o.selected, toggled(params, name, o.value)) for o in options]
        if links:
            groups.append(FacetGroup(name, str(FACET_TITLES[name]), links))
    return groups


def active_filters(params: QueryDict, facets: Mapping[str, list[FacetOption]]) -> list[ActiveFilter]:
    """Every filter in the URL, with a link that drops it (facets may be missing: engine down, no hits)."""
    titles = {**FACET_TITLES, **OTHER_FILTERS}
    active = []
    for name, title in titles.items():
        labels = {option.value: option.label for option in facets.get(name) or []}
        for value in params.getlist(name):
            if value:
                active.append(ActiveFilter(str(title), labels.get(value, value), toggled(params, name, value)))
    return active


def proposal_rows(hits: list[ProposalHit]) -> list[ProposalRow]:
    bureaus = replying_bureaus(hit.proposal.pk for hit in hits)
    return [
        ProposalRow(
            hit.proposal,
            snippet(hit.highlights, "title", hit.proposal.title),
            snippet(hit.highlights, "body"),
            snippet(hit.highlights, "replies"),
            bureaus.get(hit.proposal.pk, []),
        )
        for hit in hits
    ]


def pages(params: QueryDict, page: int, num_pages: int) -> dict[str, Any]:
    base = without_page(params).urlencode()
    prefix = f"?{base}&" if base else "?"
    return {
        "number": page,
        "num_pages": num_pages,
        "previous": f"{prefix}page={page - 1}" if page > 1 else "",
        "next": f"{prefix}page={page + 1}" if page < num_pages else "",
    }


def kept_filters(params: QueryDict, *dropped: str) -> list[tuple[str, str]]:
    """Hidden fields of the search form: a new query keeps the chosen filters, and starts at page 1."""
    return [(name, value) for name, values in params.lists() if name not in dropped for value in values if value]


# --- pages -----------------------------------------------------------------------------------------


@login_required
@require_GET
def proposal_search(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    params = request.GET
    status, error = 200, ""
    try:
        found = search_proposals(user, params)
    except InvalidInput as exc:
        status, error = 400, exc.message
        found = ProposalSearch(text=params.get("q", ""), sort="relevance", page=1, per_page=20)
    context = {
        "tab": "proposals",
        "q": found.text,
        "sort": found.sort,
        "sorts": SORTS,
        "scope_mine": params.get("scope") == "mine",
        "is_deputy": user.role == Role.DEPUTY,
        "mine_url": toggled(params, "scope", "mine"),
        "result": found,
        "error": error,
        "rows": proposal_rows(found.hits),
        "facets": facet_groups(params, found.facets),
        "active": active_filters(params, found.facets),
        "clear_url": link(_only(params, "q", "sort", "scope")),
        "kept": kept_filters(params, "q", "sort", "page"),
        "pager": pages(params, found.page, found.num_pages),
    }
    return render(request, "search/proposals.html", context, status=status)


def _only(params: QueryDict, *names: str) -> QueryDict:
    query = QueryDict(mutable=True)
    for name in names:
        values = [value for value in params.getlist(name) if value]
        if values:
            query.setlist(name, values)
    return query


@login_required
@require_GET
def message_search(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    params = request.GET
    status, error = 200, ""
    try:
        found = search_messages(user, params)
    except InvalidInput as exc:
        status, error = 400, exc.message
        found = MessageSearch(text=params.get("q", ""), page=1)
    context = {
        "tab": "messages",
        "q": found.text,
        "result": found,
        "error": error,
        "rows": [(hit, snippet(hit.highlights, "body", hit.message.body)) for hit in found.hits],
        "kept": kept_filters(params, "q", "page"),
        "clear_url": link(_only(params, "q")),
        "filtered": any(params.get(name) for name in ("consultation", "bureau")),
        "pager": pages(params, found.page, found.num_pages),
    }
    return render(request, "search/messages.html", context, status=status)


@login_required
@require_GET
def transcript_search(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    params = request.GET
    status, error = 200, ""
    try:
        found = search_transcripts(user, params)
    except InvalidInput as exc:
        status, error = 400, exc.message
        found = TranscriptSearch(text=params.get("q", ""), page=1)
    context = {
        "tab": "transcripts",
        "q": found.text,
        "result": found,
        "error": error,
        "rows": [(hit, snippet(hit.highlights, "body", hit.transcript.text), clip_url(hit)) for hit in found.hits],
        "kept": kept_filters(params, "q", "page"),
        "clear_url": link(_only(params, "q")),
        "filtered": any(params.get(name) for name in ("consultation", "bureau")),
        "pager": pages(params, found.page, found.num_pages),
    }
    return render(request, "search/transcripts.html", context, status=status)


@login_required
@require_GET
def similar_to_proposal(request: HttpRequest, pk: int) -> HttpResponse:
    """Earlier proposals on the same subject as ``pk``, with their numbers, reply class and lead bureau."""
    user = current_user(request)
    proposal = visible_proposal(user, pk)
    similar = similar_proposals(user, title=proposal.title, body=proposal.body, exclude_id=proposal.pk)
    context = {
        "proposal": proposal,
        "similar": [(item, snippet(item.highlights, "title", item.proposal.title)) for item in similar[:SIMILAR_SHOWN]],
    }
    fragment = request.headers.get("X-Requested-With") == "fetch"
    template = "search/_similar_list.html" if fragment else "search/similar.html"
    return render(request, template, context)
