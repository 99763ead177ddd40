"""Search documents of consultation messages: pure functions from a message to a ``SearchDocument``.

Who may find a message (``acl``) is the consultations' access policy (``consult.desk.access.search_acl``).
A consultation's change (taken, transferred) re-indexes all its messages (an expansion).
Deleted messages and files without text are not indexed; a file is found by its name.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, TypeVar

from django.conf import settings
from django.utils import translation

from chat.calls import SOURCE_KIND as CALL_SOURCE
from chat.models import CallParticipant, CallTrack, Message, MessageKind
from chat.voice import SOURCE_KIND as VOICE_SOURCE
from consult.desk.access import search_acl
from consult.models import Consultation, ConsultationTransfer
from consult.people.roles import Role
from search.documents import SearchDocument
from search.registry import DocumentSource

DOC_TYPE = "message"


@dataclass(frozen=True)
class ConsultationFacts:
    """What a message's document needs of its consultation (read once per consultation, not per message)."""

    pk: int
    deputy_id: int
    bureau_id: int
    status: str
    expert_user_id: int | None
    earlier_expert_user_ids: tuple[int, ...]  # experts who handled it before a transfer
    requested_expert_user_id: int | None = None  # the expert named (点将) while it waits


def consultation_acl(consultation: ConsultationFacts) -> list[str]:
    """``consult.desk.access.search_acl``: the access policy's own answer."""
    return search_acl(
        deputy_id=consultation.deputy_id,
        bureau_id=consultation.bureau_id,
        status=consultation.status,
        expert_user_id=consultation.expert_user_id,
        earlier_expert_user_ids=consultation.earlier_expert_user_ids,
        requested_expert_user_id=consultation.requested_expert_user_id,
    )


@dataclass(frozen=True)
class MessageFacts:
    pk: int
    consultation_id: int
    sender_id: int | None
    kind: str
    body: str
    file_name: str
    created_at: datetime
    deleted: bool

    @property
    def text(self) -> str:
        if self.deleted:
            return ""
        if self.kind in (MessageKind.FILE, MessageKind.IMAGE):
            return self.file_name
        return self.body


def message_document(
    message: MessageFacts, consultation: ConsultationFacts, acl: Sequence[str]
) -> SearchDocument | None:
    text = message.text
    if not text.strip():
        return None
    return SearchDocument.of(
        DOC_TYPE,
        message.pk,
        texts={"body": text},
        keywords={
            "kind": [message.kind],
            "consultation": [str(consultation.pk)],
            "bureau": [str(consultation.bureau_id)],
            "sender": [str(message.sender_id)] if message.sender_id else [],
            "year": [str(message.created_at.year)],
        },
        acl=acl,
        date=message.created_at,
    )


_MESSAGE_COLUMNS = ("pk", "consultation_id", "sender_id", "kind", "body", "file_name", "created_at", "deleted_at")


def _consultations(ids: set[int]) -> dict[int, ConsultationFacts]:
    earlier: dict[int, list[int]] = defaultdict(list)
    transfers = ConsultationTransfer.objects.filter(consultation_id__in=ids).order_by("pk")
    for consultation_id, user_id in transfers.values_list("consultation_id", "from_expert__user_id"):
        earlier[consultation_id].append(user_id)
    rows = Consultation.objects.filter(pk__in=ids).values_list(
        "pk", "deputy_id", "bureau_id", "status", "expert__user_id", "requested_expert__user_id"
    )
    return {
        pk: ConsultationFacts(pk, deputy, bureau, status, expert_user, tuple(earlier[pk]), requested_user)
        for pk, deputy, bureau, status, expert_user, requested_user in rows
    }


def documents(ids: Sequence[int]) -> list[SearchDocument]:
    """Plain rows, one query for the messages and one each for their consultations and transfers."""
    rows = Message.objects.filter(pk__in=ids).values_list(*_MESSAGE_COLUMNS)
    messages = [
        MessageFacts(pk, consultation, sender, kind, body, file_name, created_at, deleted_at is not None)
        for pk, consultation, sender, kind, body, file_name, created_at, deleted_at in rows
    ]
    consultations = _consultations({message.consultation_id for message in messages})
    acl = {pk: consultation_acl(facts) for pk, facts in consultations.items()}
    built = (
        message_document(message, consultations[message.consultation_id], acl[message.consultation_id])
        for message in messages
        if message.consultation_id in consultations
    )
    return [document for document in built if document is not None]


def all_ids(batch: int = 5000) -> Iterator[list[int]]:
    last = 0
    while True:
        ids = list(Message.objects.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:batch])
        if not ids:
            return
        yield ids
        last = ids[-1]


def messages_of_consultations(consultation_ids: Sequence[int]) -> list[int]:
    return list(Message.objects.filter(consultation_id__in=consultation_ids).values_list("pk", flat=True))


SOURCE = DocumentSource(doc_type=DOC_TYPE, documents=documents, all_ids=all_ids)


# --- transcripts ("transcript"): voice messages' and call tracks', the consultation's acl, the current text ----
# One document type for both (a Transcript's id is unique across its source kinds): ``kind`` says which. A call
# track's document names its speaker (``title``: the name and role as of the call; ``sender``: the user).

TRANSCRIPT_DOC_TYPE = "transcript"
TRANSCRIPT_SOURCES = (VOICE_SOURCE, CALL_SOURCE)


def transcript_document(
    transcript_id: int, text: str, message: MessageFacts, consultation: ConsultationFacts, acl: Sequence[str]
) -> SearchDocument | None:
    if message.deleted or not text.strip():
        return None
    return SearchDocument.of(
        TRANSCRIPT_DOC_TYPE,
        transcript_id,
        texts={"body": text},
        keywords={
            "kind": ["voice"],
            "message": [str(message.pk)],
            "consultation": [str(consultation.pk)],
            "bureau": [str(consultation.bureau_id)],
            "sender": [str(message.sender_id)] if message.sender_id else [],
            "year": [str(message.created_at.year)],
        },
        acl=acl,
        date=message.created_at,
    )


@dataclass(frozen=True)
class TrackFacts:
    """What a call track's transcript document needs: the call, its time, the speaker as of the call."""

    pk: int
    call_id: int
    consultation_id: int
    speaker_id: int
    speaker: str  # "王伟 · 代表": the name and the role
    started_at: datetime


def call_track_document(
    transcript_id: int, text: str, track: TrackFacts, consultation: ConsultationFacts, acl: Sequence[str]
) -> SearchDocument | None:
    if not text.strip():
        return None
    return SearchDocument.of(
        TRANSCRIPT_DOC_TYPE,
        transcript_id,
        texts={"title": track.speaker, "body": text},
        keywords={
            "kind": ["call"],
            "consultation": [str(consultation.pk)],
            "bureau": [str(consultation.bureau_id)],
            "sender": [str(track.speaker_id)],
            "year": [str(track.started_at.year)],
        },
        acl=acl,
        date=track.started_at,
    )


class _Facts(Protocol):
    @property
    def pk(self) -> int: ...
    @property
    def consultation_id(self) -> int: ...


_F = TypeVar("_F", bound=_Facts)


def _voice_documents(texts: dict[int, str], transcript_of: dict[int, int]) -> list[SearchDocument]:
    found = Message.objects.filter(pk__in=list(texts)).values_list(*_MESSAGE_COLUMNS)
    messages = [
        MessageFacts(pk, consultation, sender, kind, body, file_name, created_at, deleted_at is not None)
        for pk, consultation, sender, kind, body, file_name, created_at, deleted_at in found
    ]
    return _transcript_documents(messages, transcript_document, texts, transcript_of)


def _tracks(track_ids: Sequence[int]) -> list[TrackFacts]:
    rows = CallTrack.objects.filter(pk__in=track_ids).values_list(
        "pk", "call_id", "call__consultation_id", "user_id", "user__full_name", "user__username", "call__started_at"
    )
    roles = {
        (call_id, user_id): role
        for call_id, user_id, role in CallParticipant.objects.filter(call__tracks__pk__in=track_ids).values_list(
            "call_id", "user_id", "role"
        )
    }
    with translation.override(settings.LANGUAGE_CODE):  # documents are built in the site's first language
        labels = {value: str(label) for value, label in Role.choices}
        return [
            TrackFacts(
                pk, call, consultation, user, _speaker(name or username, labels.get(roles.get((call, user), ""))), at
            )
            for pk, call, consultation, user, name, username, at in rows
        ]


def _speaker(name: str, role: str | None) -> str:
    return f"{name} · {role}" if role else name


def _call_documents(texts: dict[int, str], transcript_of: dict[int, int]) -> list[SearchDocument]:
    return _transcript_documents(_tracks(list(texts)), call_track_document, texts, transcript_of)


def _transcript_documents(
    facts: Sequence[_F],
    build: Callable[[int, str, _F, ConsultationFacts, Sequence[str]], SearchDocument | None],
    texts: dict[int, str],
    transcript_of: dict[int, int],
) -> list[SearchDocument]:
    """The transcript documents of voice messages or call tracks, each under its consultation's acl."""
    consultations = _consultations({fact.consultation_id for fact in facts})
    built = (
        build(
            transcript_of[f.pk],
            texts[f.pk],
            f,
            consultations[f.consultation_id],
            consultation_acl(consultations[f.consultation_id]),
        )
        for f in facts
        if f.consultation_id in consultations
    )
    return [document for document in built if document is not None]


def transcript_documents(ids: Sequence[int]) -> list[SearchDocument]:
    """Done transcripts of voice messages and of call tracks; a few queries per kind, whatever the number."""
    from transcription.models import Transcript, TranscriptStatus

    rows = Transcript.objects.filter(pk__in=ids, source_kind__in=TRANSCRIPT_SOURCES, status=TranscriptStatus.DONE)
    by_kind: dict[str, tuple[dict[int, str], dict[int, int]]] = {kind: ({}, {}) for kind in TRANSCRIPT_SOURCES}
    for pk, kind, source_id, text in rows.values_list("pk", "source_kind", "source_id", "text"):
        texts, transcript_of = by_kind[kind]
        texts[int(source_id)], transcript_of[int(source_id)] = text, pk
    return [*_voice_documents(*by_kind[VOICE_SOURCE]), *_call_documents(*by_kind[CALL_SOURCE])]


def all_transcript_ids(batch: int = 5000) -> Iterator[list[int]]:
    from transcription.models import Transcript

    last = 0
    while True:
        rows = Transcript.objects.filter(source_kind__in=TRANSCRIPT_SOURCES, pk__gt=last).order_by("pk")
        ids = list(rows.values_list("pk", flat=True)[:batch])
        if not ids:
            return
        yield ids
        last = ids[-1]


def transcripts_of_consultations(consultation_ids: Sequence[int]) -> list[int]:
    """The transcripts whose acl follows these consultations (a transfer changes who may find them)."""
    from transcription.models import Transcript

    messages = Message.objects.filter(consultation_id__in=consultation_ids, kind=MessageKind.VOICE)
    tracks = CallTrack.objects.filter(call__consultation_id__in=consultation_ids)
    voice = Transcript.objects.filter(source_kind=VOICE_SOURCE, source_id__in=messages.values("pk"))
    calls = Transcript.objects.filter(source_kind=CALL_SOURCE, source_id__in=tracks.values("pk"))
    return [*voice.values_list("pk", flat=True), *calls.values_list("pk", flat=True)]


TRANSCRIPT_SOURCE = DocumentSource(
    doc_type=TRANSCRIPT_DOC_TYPE, documents=transcript_documents, all_ids=all_transcript_ids
)
