"""Reads of the chat: a consultation's messages after a number, read markers, message frames.
Who may read and write is ``consult.desk.access`` (``can_read``, ``can_post``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import QuerySet
from django.urls import reverse

from chat.models import Message, MessageKind, ReadMarker
from consult.models import Consultation

_UNSET: Any = object()


def messages_after(consultation: Consultation, after_seq: int, limit: int = 200) -> QuerySet[Message]:
    return (
        Message.objects.filter(consultation=consultation, seq__gt=max(0, after_seq))
        .select_related("sender")
        .order_by("seq")[:limit]
    )


def read_state(consultation: Consultation) -> dict[int, int]:
    return dict(ReadMarker.objects.filter(consultation=consultation).values_list("user_id", "last_read_seq"))


def message_payload(message: Message, *, voice_ready: bool = False) -> dict[str, Any]:
    """The one shape of a message on the socket and in the REST history."""
    deleted = message.deleted_at is not None
    payload: dict[str, Any] = {
        "seq": message.seq,
        "id": message.pk,
        "kind": message.kind,
        "sender": message.sender_id,
        "sender_name": message.sender.full_name if message.sender_id and message.sender else "",
        "client_id": message.client_id,
        "body": "" if deleted else message.text,
        "created_at": message.created_at.isoformat(),
        "edited": message.edited_at is not None,
        "deleted": deleted,
    }
    if message.code:  # a platform line: each socket renders it again in its reader's language (chat.consumers)
        payload["code"], payload["params"] = message.code, message.params
    if message.kind in (MessageKind.FILE, MessageKind.IMAGE) and not deleted:
        payload["file"] = {
            "name": message.file_name,
            "size": message.file_size,
            "content_type": message.content_type,
            "url": reverse("api-chat-file", args=[message.consultation_id, message.pk]),
        }
    if message.kind == MessageKind.VOICE and not deleted and not voice_ready:
        payload["voice"] = voice_part(message)
    return payload


def message_payloads(messages: Sequence[Message]) -> list[dict[str, Any]]:
    """``message_payload`` of many, with the voice messages' transcripts and plays read in two queries."""
    from chat import voice

    ids = [m.pk for m in messages if m.kind == MessageKind.VOICE and m.deleted_at is None]
    transcripts, plays = voice.transcripts_of(ids), voice.plays_of(ids)
    payloads = []
    for message in messages:
        payload = message_payload(message, voice_ready=True)
        if message.pk in ids:
            payload["voice"] = voice_part(message, transcripts.get(message.pk), plays.get(message.pk, []))
        payloads.append(payload)
    return payloads


def voice_part(message: Message, transcript: Any = _UNSET, played_by: list[int] | None = None) -> dict[str, Any]:
    """A voice message's clip, level bar, who played it and its transcript (``chat.voice``)."""
    from chat import voice

    if transcript is _UNSET:
        transcript = voice.transcripts_of([message.pk]).get(message.pk)
    if played_by is None:
        played_by = voice.plays_of([message.pk]).get(message.pk, [])
    return {
        "duration": message.duration,
        "levels": message.levels,
        "size": message.file_size,
        "content_type": message.content_type,
        "url": reverse("api-chat-voice", args=[message.consultation_id, message.pk]),
        "played_by": sorted(played_by),
        "transcript": voice.transcript_payload(transcript),
    }
