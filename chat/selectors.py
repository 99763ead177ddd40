"""Reads of the chat, scoped: who may read and write a consultation, and its messages after a number.

- The deputy and the expert now handling it read and write.
- Experts who handled it before a transfer, the bureau's experts while it waits in their queue, and the
  office read only (the office's role allows it).
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.urls import reverse

from chat.models import Message, MessageKind, ReadMarker
from consult.models import Consultation, ConsultationTransfer
from consult.selectors import Viewer, bureau_id_of, is_office, role_of


def can_post(user: Viewer, consultation: Consultation) -> bool:
    if not user.is_authenticated:
        return False
    if user.pk == consultation.deputy_id:
        return True
    expert = consultation.expert
    return expert is not None and expert.user_id == user.pk


def can_read(user: Viewer, consultation: Consultation) -> bool:
    if can_post(user, consultation) or is_office(user):
        return True
    if not user.is_authenticated:
        return False
    if consultation.status == "queued" and bureau_id_of(user) == consultation.bureau_id and role_of(user) == "expert":
        return True  # the bureau's experts read what waits in their queue before one takes it
    return ConsultationTransfer.objects.filter(consultation=consultation, from_expert__user_id=user.pk).exists()


def messages_after(consultation: Consultation, after_seq: int, limit: int = 200) -> QuerySet[Message]:
    return (
        Message.objects.filter(consultation=consultation, seq__gt=max(0, after_seq))
        .select_related("sender")
        .order_by("seq")[:limit]
    )


def read_state(consultation: Consultation) -> dict[int, int]:
    return dict(ReadMarker.objects.filter(consultation=consultation).values_list("user_id", "last_read_seq"))


def message_payload(message: Message) -> dict[str, Any]:
    """The one shape of a message on the socket and in the REST history."""
    deleted = message.deleted_at is not None
    payload: dict[str, Any] = {
        "seq": message.seq,
        "id": message.pk,
        "kind": message.kind,
        "sender": message.sender_id,
        "sender_name": message.sender.full_name if message.sender_id and message.sender else "",
        "client_id": message.client_id,
        "body": "" if deleted else message.body,
        "created_at": message.created_at.isoformat(),
        "edited": message.edited_at is not None,
        "deleted": deleted,
    }
    if message.kind in (MessageKind.FILE, MessageKind.IMAGE) and not deleted:
        payload["file"] = {
            "name": message.file_name,
            "size": message.file_size,
            "content_type": message.content_type,
            "url": reverse("api-chat-file", args=[message.consultation_id, message.pk]),
        }
    return payload
