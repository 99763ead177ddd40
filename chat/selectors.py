"""Reads of the chat: a consultation's messages after a number, read markers, message frames.
Who may read and write is ``consult.desk.access`` (``can_read``, ``can_post``)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.urls import reverse

from chat.models import Message, MessageKind, ReadMarker
from consult.models import Consultation


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
