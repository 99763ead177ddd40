"""Search in what was said: the transcripts of voice messages (语音转写) and of calls (通话转写), the doc type
``"transcript"`` of ``chat.search``.

Found by whoever may read the consultation (the index's acl is ``consult.desk.access.search_acl``; every hit is
checked again against ``consultations_visible_to``). Each hit names where it was said and the moment of the first
segment that holds a searched word: a voice message (the room opens the clip there), or a call's track with its
speaker (name and role) and the call (the replay page opens at that second of the call). Engine down: answered
from the database, marked ``degraded``.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from math import ceil

from django.db.models import Min, Q, QuerySet
from django.http import QueryDict
from django.urls import reverse

from chat.calls import SOURCE_KIND as CALL_SOURCE
from chat.models import CallParticipant, CallTrack, Message, MessageKind
from chat.search import TRANSCRIPT_DOC_TYPE
from chat.searching import search_args
from chat.voice import SOURCE_KIND as VOICE_SOURCE
from consult.desk.access import consultations_visible_to, search_keys
from consult.models import Consultation
from consult.people.selectors import Viewer
from search.analysis import parse_query
from search.backends import get_backend
from search.documents import SearchQuery, SearchUnavailable, Sort
from search.highlight import find_spans, highlights
from transcription.models import Transcript, TranscriptStatus
from transcription.services import segment_texts

logger = logging.getLogger(__name__)

PER_PAGE = 20
MAX_PAGE_SIZE = 50


@dataclass(frozen=True)
class Said:
    """Where a transcript's words were said: a voice message, or one speaker's track of a call."""

    consultation: Consultation
    speaker_name: str
    at: datetime
    message: Message | None = None
    track: CallTrack | None = None
    speaker_role: str = ""  # a call's: "deputy" | "expert", as of the call
    offset: float = 0.0  # a call track's start on the call's timeline (seconds)


@dataclass(frozen=True)
class TranscriptHit:
    transcript: Transcript
    said: Said
    highlights: Mapping[str, str]
    start: float  # seconds: the first matching segment's start, in the clip or on the call's timeline

    @property
    def kind(self) -> str:
        return "call" if self.said.track is not None else "voice"

    @property
    def message(self) -> Message | None:
        return self.said.message

    @property
    def url(self) -> str:
        """The room opening the clip at ``start``, or the call's replay page at that second."""
        consultation_id = self.said.consultation.pk
        if self.said.track is not None:
            replay = reverse("desk-call-replay", args=[consultation_id, self.said.track.call_id])
            return f"{replay}#t={self.start:g}"
        room = reverse("desk-room", args=[consultation_id])
        message_id = self.said.message.pk if self.said.message is not None else 0
        return f"{room}#voice={message_id}&t={self.start:g}"


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


def _allowed(user: Viewer, filters: Mapping[str, Sequence[str]]) -> QuerySet[Transcript]:
    """Done transcripts of voice messages and call tracks in consultations the user reads (and the filters)."""
    consultations = consultations_visible_to(user)
    for name, values in filters.items():
        consultations = consultations.filter(**{f"{'pk' if name == 'consultation' else 'bureau_id'}__in": values})
    visible = consultations.values("pk")
    messages = Message.objects.filter(consultation__in=visible, kind=MessageKind.VOICE, deleted_at=None)
    tracks = CallTrack.objects.filter(call__consultation__in=visible)
    return Transcript.objects.filter(
        Q(source_kind=VOICE_SOURCE, source_id__in=messages.values("pk"))
        | Q(source_kind=CALL_SOURCE, source_id__in=tracks.values("pk")),
        status=TranscriptStatus.DONE,
    )


def search_transcripts(user: Viewer, params: QueryDict) -> TranscriptSearch:
    text, page, page_size, filters = search_args(params, PER_PAGE, MAX_PAGE_SIZE)
    result = TranscriptSearch(text=text, page=page, page_size=page_size)
    allowed = _allowed(user, filters)
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


def _rows(transcripts: QuerySet[Transcript]) -> dict[int, tuple[Transcript, Said]]:
    rows = list(transcripts.prefetch_related("segments"))
    voice = [int(row.source_id) for row in rows if row.source_kind == VOICE_SOURCE]
    calls = [int(row.source_id) for row in rows if row.source_kind == CALL_SOURCE]
    said = {(VOICE_SOURCE, pk): place for pk, place in _voice_places(voice).items()}
    said.update({(CALL_SOURCE, pk): place for pk, place in _call_places(calls).items()})
    return {
        row.pk: (row, said[(row.source_kind, int(row.source_id))])
        for row in rows
        if (row.source_kind, int(row.source_id)) in said
    }


def _voice_places(message_ids: Sequence[int]) -> dict[int, Said]:
    messages = Message.objects.filter(pk__in=message_ids).select_related("consultation__bureau", "sender")
    return {
        m.pk: Said(m.consultation, m.sender.get_full_name() if m.sender else "", m.created_at, message=m)
        for m in messages
    }


def _call_places(track_ids: Sequence[int]) -> dict[int, Said]:
    tracks = list(CallTrack.objects.filter(pk__in=track_ids).select_related("call__consultation__bureau", "user"))
    call_ids = {track.call_id for track in tracks}
    origins = dict(
        CallTrack.objects.filter(call_id__in=call_ids)
        .values("call_id")
        .annotate(origin=Min("started_us"))
        .values_list("call_id", "origin")
    )
    roles: dict[int, dict[int, str]] = defaultdict(dict)
    for call_id, user_id, role in CallParticipant.objects.filter(call_id__in=call_ids).values_list(
        "call_id", "user_id", "role"
    ):
        roles[call_id][user_id] = role
    return {
        track.pk: Said(
            track.call.consultation,
            track.user.get_full_name(),
            track.call.started_at,
            track=track,
            speaker_role=roles[track.call_id].get(track.user_id, ""),
            offset=(track.started_us - origins.get(track.call_id, track.started_us)) / 1e6,
        )
        for track in tracks
    }


def _hit(row: tuple[Transcript, Said], found: Mapping[str, str], terms: Sequence[str]) -> TranscriptHit:
    transcript, said = row
    return TranscriptHit(transcript, said, found, _start_of(transcript, said, terms))


def _start_of(transcript: Transcript, said: Said, terms: Sequence[str]) -> float:
    """The start of the first segment whose current text holds a searched word (a call's: on its timeline)."""
    texts = segment_texts(transcript) if said.track is not None else {}
    for segment in transcript.segments.all():
        if terms and find_spans(texts.get(segment.index, segment.text), terms):
            return round(said.offset + float(segment.start), 2)
    return round(said.offset, 2) if said.track is not None else 0.0


def _from_database(allowed: QuerySet[Transcript], result: TranscriptSearch) -> TranscriptSearch:
    rows = allowed.filter(text__icontains=result.text) if result.text else allowed
    terms = parse_query(result.text).highlight_terms
    result.total = rows.count()
    start = (result.page - 1) * result.page_size
    page = _rows(rows.order_by("-queued_at", "-pk")[start : start + result.page_size])
    for transcript, said in page.values():
        marked = highlights({"body": transcript.text}, {"body": find_spans(transcript.text, terms)})
        result.hits.append(TranscriptHit(transcript, said, marked, _start_of(transcript, said, terms)))
    result.degraded = True
    return result
