"""Searching proposals: full text through the engine, filters through ``ProposalFilter``, hits re-checked.

- The query string's filters are validated by the same FilterSet as the list API (same names, same
  errors); those the engine indexes (``ENGINE_FILTERS``) are sent to it, and the FilterSet is applied
  again on the database to the hits, together with ``visible_to(user)``: nothing the user may not see
  is ever shown, even if the index is behind.
- The engine filters by who may find a document (``proposals.access.search_keys``) for speed. Snippets come
  from the indexed text, which holds only what everyone who may find the document may read (``proposals/search.py``).
- Engine down: the search still answers from the database (``icontains``), marked ``degraded``.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from math import ceil
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import QueryDict

from consult.kernel.exceptions import InvalidInput
from consult.models import Bureau
from consult.people.selectors import Viewer
from proposals.access import search_keys
from proposals.categories import Category
from proposals.filters import ProposalFilter
from proposals.masking import strip_contact_details
from proposals.models import (
    Assignment,
    AssignmentStatus,
    CoSigner,
    OutcomeClass,
    Proposal,
    ProposalKind,
    ProposalSession,
    Status,
)
from proposals.models.choices import REPLYING_ROLES
from search.analysis import NumberRef, normalize, parse_query, similar_terms
from search.backends import get_backend
from search.documents import SearchQuery, SearchUnavailable, SimilarQuery, Sort
from search.highlight import find_spans, highlights

logger = logging.getLogger(__name__)

DOC_TYPE = "proposal"
#: FilterSet field -> document keyword field, for the filters the engine applies itself.
ENGINE_FILTERS: Mapping[str, str] = {
    "status": "status",
    "kind": "kind",
    "year": "year",
    "session": "session",
    "bureau": "bureau",
    "outcome_class": "outcome_class",
    "category": "category",
    "proposer": "proposer",
}
DATABASE_ONLY_FILTERS = ("overdue", "due_within")
CANDIDATES = 2000  # engine hits re-filtered by the database when a database-only filter is set
FACETS: tuple[str, ...] = ("status", "kind", "year", "bureau", "outcome_class", "category")
SORTS: tuple[Sort, ...] = ("relevance", "newest", "oldest")
NOT_FILTERS = ("q", "sort", "page", "scope", "ordering")
MAX_PER_PAGE = 50
MAX_RESULTS = 10_000  # deeper than this, narrow the search (Elasticsearch's default window too)


@dataclass(frozen=True)
class FacetOption:
    value: str
    label: str
    count: int
    selected: bool


@dataclass(frozen=True)
class ProposalHit:
    proposal: Proposal
    highlights: Mapping[str, str]


@dataclass
class ProposalSearch:
    text: str
    sort: Sort
    page: int
    per_page: int
    total: int = 0
    hits: list[ProposalHit] = field(default_factory=list)
    facets: dict[str, list[FacetOption]] = field(default_factory=dict)
    degraded: bool = False  # the engine was down: answered from the database, without facets

    @property
    def num_pages(self) -> int:
        return max(1, ceil(self.total / self.per_page))


def _filterset(user: Viewer, params: QueryDict) -> ProposalFilter:
    data = params.copy()
    for name in NOT_FILTERS:
        data.pop(name, None)
    filterset = ProposalFilter(data, queryset=Proposal.objects.visible_to(user))
    if not filterset.is_valid():
        name, errors = next(iter(filterset.errors.items()))
        raise InvalidInput(f"{name}: {' '.join(str(error) for error in errors)}", field=name)
    return filterset


def _engine_filters(cleaned: Mapping[str, Any]) -> dict[str, list[str]]:
    filters: dict[str, list[str]] = {}
    for name, doc_field in ENGINE_FILTERS.items():
        value = cleaned.get(name)
        if value in (None, "", []):
            continue
        values = value if isinstance(value, list | tuple) else [value]
        filters[doc_field] = [str(int(v)) if isinstance(v, float | int) else str(v) for v in values]
    if cleaned.get("number"):
        number = NumberRef.parse(str(cleaned["number"]))
        filters["number"] = [number.value if number else "-"]  # "-": no proposal has that number
    return filters


def _page_args(params: QueryDict) -> tuple[str, Sort, int, int]:
    text = params.get("q", "").strip()[:200]
    sort_value = params.get("sort") or ("relevance" if text else "newest")
    sort: Sort = next((s for s in SORTS if s == sort_value), "relevance")
    try:
        # page_size is the API's name (consult.api.pagination); the search page's links say per_page.
        per_page = max(1, min(int(params.get("page_size") or params.get("per_page") or "20"), MAX_PER_PAGE))
        page = max(1, min(int(params.get("page") or "1"), MAX_RESULTS // per_page))
    except ValueError as exc:
        raise InvalidInput("page and page_size must be numbers", field="page") from exc
    return text, sort, page, per_page


def search_proposals(user: Viewer, params: QueryDict) -> ProposalSearch:
    """One page of proposals matching ``q`` and the filters, as ``user`` may see them."""
    text, sort, page, per_page = _page_args(params)
    filterset = _filterset(user, params)
    cleaned = filterset.form.cleaned_data
    result = ProposalSearch(text=text, sort=sort, page=page, per_page=per_page)
    # Filters only the database can apply (overdue, due within n days: they change with the date):
    # the engine's first candidates are filtered there, then paged here.
    database_only = any(cleaned.get(name) not in (None, "", []) for name in DATABASE_ONLY_FILTERS)
    query = SearchQuery(
        doc_type=DOC_TYPE,
        text=text,
        filters=_engine_filters(cleaned),
        acl=search_keys(user, mine=params.get("scope") == "mine"),
        sort=sort,
        offset=0 if database_only else (page - 1) * per_page,
        limit=CANDIDATES if database_only else per_page,
        facets=FACETS,
    )
    try:
        found = get_backend().search(query)
    except SearchUnavailable:
        logger.warning("search engine unavailable: answering from the database", exc_info=True)
        return _from_database(user, filterset.qs, result, params.get("scope") == "mine")
    visible = _recheck(filterset.qs, [hit.object_id for hit in found.hits])
    hits = [hit for hit in found.hits if hit.object_id in visible]
    if database_only:
        result.total = len(hits)
        hits = hits[(page - 1) * per_page : page * per_page]
    else:
        result.total = found.total
    result.hits = [ProposalHit(visible[h.object_id], h.highlights) for h in hits]
    selected = {name: set(params.getlist(name)) for name in FACETS}
    result.facets = {
        name: _labelled(name, [(v.value, v.count) for v in values], selected[name])
        for name, values in found.facets.items()
    }
    return result


#: The list API's ``q=``: at most this many matching proposals (then narrow the search).
LIST_MATCHES = MAX_RESULTS


def matching_ids(user: Viewer, text: str, cleaned: Mapping[str, Any]) -> list[int] | None:
    """Ids of the proposals ``text`` finds for ``user`` with the list's filters, through the engine (the
    list API's ``q=``); None when the engine is down (the caller falls back to the database)."""
    query = SearchQuery(
        doc_type=DOC_TYPE,
        text=text[:200],
        filters=_engine_filters(cleaned),
        acl=search_keys(user),
        limit=LIST_MATCHES,
        highlight=False,
    )
    try:
        return [hit.object_id for hit in get_backend().search(query).hits]
    except SearchUnavailable:
        logger.warning("search engine unavailable: the list's q= answers from the database", exc_info=True)
        return None


def _recheck(allowed: QuerySet[Proposal], ids: Sequence[int]) -> dict[int, Proposal]:
    rows = allowed.filter(pk__in=ids).select_related("session", "proposer").order_by()
    return {proposal.pk: proposal for proposal in rows}


def _from_database(user: Viewer, allowed: QuerySet[Proposal], result: ProposalSearch, mine: bool) -> ProposalSearch:
    rows = allowed
    if mine:  # as the engine's "mine": proposed, or invited to co-sign
        invited = CoSigner.objects.filter(proposal=OuterRef("pk"), deputy_id=user.pk)
        rows = rows.filter(Q(proposer_id=user.pk) | Exists(invited))
    if result.text:
        rows = ProposalFilter.filter_text_in_database(rows, result.text)
    ordered = rows.select_related("session", "proposer").order_by(
        "-created_at" if result.sort != "oldest" else "created_at", "-id"
    )
    start = (result.page - 1) * result.per_page
    terms = parse_query(result.text).highlight_terms
    result.total = rows.count()
    for proposal in ordered[start : start + result.per_page]:
        body = strip_contact_details(proposal.body) if proposal.published_at else proposal.body  # as indexed
        texts = {"title": proposal.title, "body": body}
        spans = {name: find_spans(text, terms) for name, text in texts.items()}
        result.hits.append(ProposalHit(proposal, highlights(texts, spans)))
    result.degraded = True
    return result


def _labelled(name: str, counts: Sequence[tuple[str, int]], selected: set[str]) -> list[FacetOption]:
    labels = _labels(name, [value for value, _ in counts])
    return [FacetOption(value, labels.get(value, value), count, value in selected) for value, count in counts]


def _labels(name: str, values: Sequence[str]) -> dict[str, str]:
    if name == "status":
        return {str(value): str(label) for value, label in Status.choices}
    if name == "kind":
        return {str(value): str(label) for value, label in ProposalKind.choices}
    if name == "bureau":
        ids = [int(v) for v in values if v.isdigit()]
        return {str(pk): label for pk, label in Bureau.objects.filter(pk__in=ids).values_list("pk", "name")}
    if name == "session":
        ids = [int(v) for v in values if v.isdigit()]
        return {str(s.pk): str(s) for s in ProposalSession.objects.filter(pk__in=ids)}
    if name == "outcome_class":
        return {str(value): str(label) for value, label in OutcomeClass.choices}
    if name == "category":
        return {str(value): str(label) for value, label in Category.choices}
    return {}


# --- similar proposals ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SimilarProposal:
    proposal: Proposal
    lead_bureaus: list[str]
    highlights: Mapping[str, str]
    reply: str = ""  # the earlier reply, as indexed (what everyone who may find the proposal may read), cut short


#: Similar proposals: only hits scoring at least this share of the best hit's score...
SIMILAR_MIN_SCORE_SHARE = 0.35
#: ...and holding at least this share of the draft's subject, weighted (title words weigh most).
SIMILAR_MIN_SUBJECT_SHARE = 0.3
REPLY_EXCERPT = 140


def similar_proposals(
    user: Viewer, *, title: str, body: str, exclude_id: int | None = None, limit: int = 5
) -> list[SimilarProposal]:
    """Up to ``limit`` earlier proposals on the subject of ``title``/``body`` that ``user`` may see.

    Never drafts, never ``exclude_id`` (the proposal being written or registered). Empty when the
    engine is down: the panel is a help, not a step.
    """
    if len(title.strip()) + len(body.strip()) < 2:
        return []
    query = SimilarQuery(
        doc_type=DOC_TYPE,
        title=title[:200],
        body=body[:3000],
        acl=search_keys(user),
        exclude_ids=[exclude_id] if exclude_id else [],
        limit=limit * 2,  # room for hits the re-check drops (the user's own drafts)
    )
    try:
        found = get_backend().similar(query)
    except SearchUnavailable:
        logger.warning("search engine unavailable: no similar proposals shown", exc_info=True)
        return []
    subject = similar_terms(title, body)
    weights = subject_weights(title, subject)
    allowed = Proposal.objects.visible_to(user).exclude(status=Status.DRAFT)
    if exclude_id:
        allowed = allowed.exclude(pk=exclude_id)
    best = max((hit.score for hit in found.hits), default=0.0)
    related = [hit for hit in found.hits if hit.score >= SIMILAR_MIN_SCORE_SHARE * best]
    visible = _recheck(allowed, [hit.object_id for hit in related])
    shown = [visible[h.object_id] for h in related if h.object_id in visible]
    shown = [proposal for proposal in shown if _shares_subject(weights, proposal)][:limit]
    leads = replying_bureaus(proposal.pk for proposal in shown)
    replies = earlier_replies([proposal.pk for proposal in shown])
    highlights_of = {hit.object_id: hit.highlights for hit in found.hits}
    return [SimilarProposal(p, leads.get(p.pk, []), highlights_of[p.pk], replies.get(p.pk, "")) for p in shown]


def earlier_replies(proposal_ids: Sequence[int]) -> dict[int, str]:
    """The sent replies of each proposal as its search document holds them (``proposals.search.replies_text``:
    the published wording once published), so exactly what everyone who may find it may read; cut short."""
    from proposals.search import facts_of, replies_text

    excerpts: dict[int, str] = {}
    for facts in facts_of(proposal_ids):
        text = " ".join(replies_text(facts).split())
        if text:
            excerpts[facts.pk] = text if len(text) <= REPLY_EXCERPT else text[: REPLY_EXCERPT - 1] + "…"
    return excerpts


def replying_bureaus(proposal_ids: Iterable[int]) -> dict[int, list[str]]:
    """Names of the bureaus that reply to each proposal (lead or separate; not those that returned it or
    were withdrawn), in one query for a page of results."""
    rows = (
        Assignment.objects.filter(proposal_id__in=list(proposal_ids), role__in=REPLYING_ROLES)
        .exclude(status__in=(AssignmentStatus.RETURNED, AssignmentStatus.WITHDRAWN))
        .values_list("proposal_id", "bureau__name")
        .order_by("bureau__name")
        .distinct()
    )
    names: dict[int, list[str]] = defaultdict(list)
    for proposal_id, name in rows:
        names[proposal_id].append(name)
    return names


MIN_SHARED_TERMS = 2


def subject_weights(title: str, subject: Sequence[str]) -> dict[str, float]:
    """The draft's telling words, weighted: those of its title three, the others one."""
    in_title = normalize(title)
    return {normalize(term): 3.0 if normalize(term) in in_title else 1.0 for term in subject}


def _shares_subject(weights: Mapping[str, float], proposal: Proposal) -> bool:
    """At least two of the draft's telling words (or its only one), and a fair share of its subject by
    weight: one shared place name, or a couple of common words (提高, 居民), is no subject."""
    if not weights:
        return False
    text = normalize(f"{proposal.title} {proposal.body}")
    shared = [term for term in weights if term in text]
    share = sum(weights[term] for term in shared) / sum(weights.values())
    return len(shared) >= min(MIN_SHARED_TERMS, len(weights)) and share >= SIMILAR_MIN_SUBJECT_SHARE
