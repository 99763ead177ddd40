"""Searching consultation messages: through the engine, re-checked against ``consultations_visible_to``.

A deputy finds lines of their own consultations, an expert those they answer or answered, the office
all. Results are messages with their consultation (topic, bureau, date) and a highlighted snippet.
Engine down: answered from the database, marked ``degraded``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from math import ceil

from django.db.models import QuerySet
from django.http import QueryDict
from rest_framework.exceptions import ValidationError

from chat.models import Message
from consult.desk.access import consultations_visible_to, search_keys
from consult.kernel.exceptions import InvalidInput
from consult.kernel.validators import plain_text
from consult.people.selectors import Viewer
from search.analysis import parse_query
from search.backends import get_backend
from search.documents import SearchQuery, SearchUnavailable, Sort
from search.highlight import find_spans, highlights

logger = logging.getLogger(__name__)

DOC_TYPE = "message"
FILTERS = ("consultation", "bureau")
PER_PAGE = 20
MAX_PAGE_SIZE = 50


@dataclass(frozen=True)
class MessageHit:
    message: Message
    highlights: Mapping[str, str]


@dataclass
class MessageSearch:
    text: str
    page: int
    page_size: int = PER_PAGE
    total: int = 0
    hits: list[MessageHit] = field(default_factory=list)
    degraded: bool = False

    @property
    def num_pages(self) -> int:
        return max(1, ceil(self.total / self.page_size))


MAX_ID = 2**63 - 1


def search_args(params: QueryDict, per_page: int, max_page_size: int) -> tuple[str, int, int, dict[str, list[str]]]:
    """The text, page, page size and id filters of a chat search (messages, transcripts), or the field at fault."""
    text = params.get("q", "").strip()[:200]
    try:
        plain_text(text)
    except ValidationError as exc:
        detail = exc.detail[0] if isinstance(exc.detail, list) else exc.detail
        raise InvalidInput(str(detail), field="q") from exc
    page_size = _number(params, "page_size", per_page)
    page_size = max(1, min(page_size, max_page_size))
    page = max(1, min(_number(params, "page", 1), 10_000 // page_size))
    filters: dict[str, list[str]] = {}
    for name in FILTERS:
        values = [value for value in params.getlist(name) if value]
        if any(not (value.isascii() and value.isdigit() and int(value) <= MAX_ID) for value in values):
            raise InvalidInput(f"{name}: a number is required", field=name)
        if values:
            filters[name] = values
    return text, page, page_size, filters


def _number(params: QueryDict, name: str, default: int) -> int:
    value = params.get(name) or str(default)
    if not (value.isascii() and value.isdigit()) or len(value) > 9:
        raise InvalidInput(f"{name}: a whole number is required", field=name)
    return int(value)


def search_messages(user: Viewer, params: QueryDict) -> MessageSearch:
    text, page, page_size, filters = search_args(params, PER_PAGE, MAX_PAGE_SIZE)
    sort: Sort = "relevance" if text else "newest"
    result = MessageSearch(text=text, page=page, page_size=page_size)
    allowed = Message.objects.filter(consultation__in=consultations_visible_to(user).values("pk"), deleted_at=None)
    for name, values in filters.items():
        allowed = allowed.filter(**{f"consultation__{'pk' if name == 'consultation' else 'bureau_id'}__in": values})
    query = SearchQuery(DOC_TYPE, text, filters, search_keys(user), sort, (page - 1) * page_size, page_size)
    try:
        found = get_backend().search(query)
    except SearchUnavailable:
        logger.warning("search engine unavailable: answering from the database", exc_info=True)
        return _from_database(allowed, result)
    visible = _recheck(allowed, [hit.object_id for hit in found.hits])
    result.hits = [MessageHit(visible[h.object_id], h.highlights) for h in found.hits if h.object_id in visible]
    result.total = found.total
    return result


def _recheck(allowed: QuerySet[Message], ids: Sequence[int]) -> dict[int, Message]:
    rows = allowed.filter(pk__in=ids).select_related("consultation__bureau", "sender").order_by()
    return {message.pk: message for message in rows}


def _from_database(allowed: QuerySet[Message], result: MessageSearch) -> MessageSearch:
    rows = allowed.filter(body__icontains=result.text) if result.text else allowed
    terms = parse_query(result.text).highlight_terms
    result.total = rows.count()
    start = (result.page - 1) * result.page_size
    page = rows.select_related("consultation__bureau", "sender").order_by("-created_at", "-pk")[
        start : start + result.page_size
    ]
    for message in page:
        result.hits.append(
            MessageHit(message, highlights({"body": message.body}, {"body": find_spans(message.body, terms)}))
        )
    result.degraded = True
    return result
