"""Search documents of consultation messages: pure functions from a message to a ``SearchDocument``.

Who may find a message (``acl``) mirrors ``consultations_visible_to``: the office, the deputy, the expert
answering and every expert who handled it before a transfer, and the bureau's experts while it waits in
their queue. A consultation's change (taken, transferred) re-indexes all its messages (an expansion).
Deleted messages and files without text are not indexed; a file is found by its name.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from django.db.models import Prefetch

from chat.models import Message, MessageKind
from consult.models import Consultation, ConsultationTransfer
from search.documents import SearchDocument
from search.registry import DocumentSource

DOC_TYPE = "message"


def consultation_acl(consultation: Consultation) -> list[str]:
    keys = {"office", f"user:{consultation.deputy_id}"}
    if consultation.expert is not None:
        keys.add(f"user:{consultation.expert.user_id}")
    keys.update(f"user:{transfer.from_expert.user_id}" for transfer in consultation.transfers.all())
    if consultation.status == "queued":
        keys.add(f"bureau-queue:{consultation.bureau_id}")
    return sorted(keys)


def message_text(message: Message) -> str:
    if message.deleted_at is not None:
        return ""
    if message.kind in (MessageKind.FILE, MessageKind.IMAGE):
        return message.file_name
    return message.body


def message_document(message: Message) -> SearchDocument | None:
    text = message_text(message)
    if not text.strip():
        return None
    consultation = message.consultation
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
        acl=consultation_acl(consultation),
        date=message.created_at,
    )


def documents(ids: Sequence[int]) -> list[SearchDocument]:
    transfers = Prefetch("consultation__transfers", queryset=ConsultationTransfer.objects.select_related("from_expert"))
    messages = (
        Message.objects.filter(pk__in=ids)
        .select_related("consultation__expert")
        .prefetch_related(transfers)
        .defer("client_id")
    )
    built = (message_document(message) for message in messages)
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
