"""Search in the transcripts of voice messages (语音转写): the doc type ``"transcript"`` of ``chat.search``.

Found by whoever may read the consultation (the index's acl is ``consult.desk.access.search_acl``; every hit is
checked again against ``consultations_visible_to``). Each hit names its voice message and the start of the first
segment that holds a searched word, so the page opens the clip at that moment. Engine down: answered from the
database, marked ``degraded``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from math import ceil

from django.db.models import QuerySet
from django.http import QueryDict

from chat.models import Message, MessageKind
from chat.search import TRANSCRIPT_DOC_TYPE
from chat.searching import search_args
from chat.voice import SOURCE_KIND as VOICE_SOURCE
from consult.desk.access import consultations_visible_to, search_keys
from consult.people.selectors import Viewer
from search.analysis import parse_query
from search.backends import get_backend
from search.documents import SearchQuery, SearchUnavailable, Sort
from search.highlight import find_spans, highlights
from transcription.models import Transcript, TranscriptStatus

logger = logging.getLogger(__name__)

PER_PAGE = 20
MAX_PAGE_SIZE = 50


@dataclass(frozen=True)
class TranscriptHit:
    transcript: Transcript
    message: Message
    highlights: Mapping[str, str]
    start: float  # seconds: where the first matching segment starts (0 when none matches by itself)


@dataclass
class TranscriptSearch:
    text: str
    page: int
    page_size: int = PER_PAGE
    total: int = 0
    hits: list[TranscriptHit] = field(default_factory=list)
    degraded: bool = False

    @property
    def num_pages(self) -> int:
        return max(1, ceil(self.total / self.page_size))


def search_transcripts(user: Viewer, params: QueryDict) -> TranscriptSearch:
    text, page, page_size, filters = search_args(params, PER_PAGE, MAX_PAGE_SIZE)
    result = TranscriptSearch(text=text, page=page, page_size=page_size)
    messages = Message.objects.filter(
        consultation__in=consultations_visible_to(user).values("pk"), kind=MessageKind.VOICE, deleted_at=None
    )
    for name, values in filters.items():
        messages = messages.filter(**{f"consultation__{'pk' if name == 'consultation' else 'bureau_id'}__in": values})
    allowed = Transcript.objects.filter(
        source_kind=VOICE_SOURCE, status=TranscriptStatus.DONE, source_id__in=messages.values("pk")
    )
    sort: Sort = "relevance" if text else "newest"
    query = SearchQuery(TRANSCRIPT_DOC_TYPE, text, filters, search_keys(user), sort, (page - 1) * page_size, page_size)
    try:
        found = get_backend().search(query)
    except SearchUnavailable:
        logger.warning("search engine unavailable: answering transcripts from the database", exc_info=True)
        return _from_database(allowed, result)
    visible = _rows(allowed.filter(pk__in=[hit.object_id for hit in found.hits]))
    terms = parse_query(text).highlight_terms
    result.hits = [
        _hit(visible[hit.object_id], hit.highlights, terms) for hit in found.hits if hit.object_id in visible
    ]
    result.total = found.total
    return result


def _rows(transcripts: QuerySet[Transcript]) -> dict[int, tuple[Transcript, Message]]:
    rows = list(transcripts.prefetch_related("segments"))
    messages = Message.objects.filter(pk__in=[row.source_id for row in rows]).select_related(
        "consultation__bureau", "sender"
    )
    by_id = {message.pk: message for message in messages}
    return {row.pk: (row, by_id[int(row.source_id)]) for row in rows if int(row.source_id) in by_id}


def _hit(row: tuple[Transcript, Message], found: Mapping[str, str], terms: Sequence[str]) -> TranscriptHit:
    transcript, message = row
    return TranscriptHit(transcript, message, found, _start_of(transcript, terms))


def _start_of(transcript: Transcript, terms: Sequence[str]) -> float:
    """The start of the first segment holding a searched word (the machine's segments carry the times)."""
    for segment in transcript.segments.all():
        if terms and find_spans(segment.text, terms):
            return round(float(segment.start), 2)
    return 0.0


def _from_database(allowed: QuerySet[Transcript], result: TranscriptSearch) -> TranscriptSearch:
    rows = allowed.filter(text__icontains=result.text) if result.text else allowed
    terms = parse_query(result.text).highlight_terms
    result.total = rows.count()
    start = (result.page - 1) * result.page_size
    page = _rows(rows.order_by("-queued_at", "-pk")[start : start + result.page_size])
    for transcript, message in page.values():
        marked = highlights({"body": transcript.text}, {"body": find_spans(transcript.text, terms)})
        result.hits.append(TranscriptHit(transcript, message, marked, _start_of(transcript, terms)))
    result.degraded = True
    return result
