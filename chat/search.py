"""Search documents of consultation messages: pure functions from a message to a ``SearchDocument``.

Who may find a message (``acl``) is the consultations' access policy (``consult.desk.access.search_acl``).
A consultation's change (taken, transferred) re-indexes all its messages (an expansion).
Deleted messages and files without text are not indexed; a file is found by its name.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from chat.models import Message, MessageKind
from chat.voice import SOURCE_KIND as VOICE_SOURCE
from consult.desk.access import search_acl
from consult.models import Consultation, ConsultationTransfer
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


# --- transcripts of voice messages ("transcript"): the consultation's acl, the current text ----------------

TRANSCRIPT_DOC_TYPE = "transcript"


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
            "message": [str(message.pk)],
            "consultation": [str(consultation.pk)],
            "bureau": [str(consultation.bureau_id)],
            "sender": [str(message.sender_id)] if message.sender_id else [],
            "year": [str(message.created_at.year)],
        },
        acl=acl,
        date=message.created_at,
    )


def transcript_documents(ids: Sequence[int]) -> list[SearchDocument]:
    """Done transcripts of chat voice messages; one query each for transcripts, messages, consultations."""
    from transcription.models import Transcript, TranscriptStatus

    rows = Transcript.objects.filter(pk__in=ids, source_kind=VOICE_SOURCE, status=TranscriptStatus.DONE)
    texts = dict(rows.values_list("source_id", "text"))
    transcript_of = dict(rows.values_list("source_id", "pk"))
    found = Message.objects.filter(pk__in=list(texts)).values_list(*_MESSAGE_COLUMNS)
    messages = [
        MessageFacts(pk, consultation, sender, kind, body, file_name, created_at, deleted_at is not None)
        for pk, consultation, sender, kind, body, file_name, created_at, deleted_at in found
    ]
    consultations = _consultations({message.consultation_id for message in messages})
    built = (
        transcript_document(
            transcript_of[m.pk],
            texts[m.pk],
            m,
            consultations[m.consultation_id],
            consultation_acl(consultations[m.consultation_id]),
        )
        for m in messages
        if m.consultation_id in consultations
    )
    return [document for document in built if document is not None]


def all_transcript_ids(batch: int = 5000) -> Iterator[list[int]]:
    from transcription.models import Transcript

    last = 0
    while True:
        rows = Transcript.objects.filter(source_kind=VOICE_SOURCE, pk__gt=last).order_by("pk")
        ids = list(rows.values_list("pk", flat=True)[:batch])
        if not ids:
            return
        yield ids
        last = ids[-1]


TRANSCRIPT_SOURCE = DocumentSource(
    doc_type=TRANSCRIPT_DOC_TYPE, documents=transcript_documents, all_ids=all_transcript_ids
)
