"""The chat socket (``/ws/consultations/<id>/``): authenticate, check membership, relay; writes go to services.

Frames, error codes and close codes are in ``chat/PROTOCOL.md``.
"""

from __future__ import annotations

import json
from typing import Any

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from chat import selectors, services
from consult.desk import access
from consult.exceptions import DomainError, InvalidInput
from consult.frames import FrameProblem, decode_frame
from consult.models import Consultation

PROTOCOL_VERSION = 1
MAX_FRAME_BYTES = 16 * 1024
SYNC_PAGE = 200

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404
CLOSE_FRAME_TOO_LARGE = 4413


def _load(consultation_id: int, user: Any) -> tuple[Consultation | None, bool, bool]:
    consultation = Consultation.objects.select_related("expert").filter(pk=consultation_id).first()
    if consultation is None:
        return None, False, False
    return consultation, access.can_read(user, consultation), access.can_post(user, consultation)


def _hello(consultation_id: int) -> dict[str, Any]:
    consultation = Consultation.objects.get(pk=consultation_id)  # read after joining the group: nothing falls between
    return {
        "consultation": {
            "id": consultation.pk,
            "status": consultation.status,
            "topic": consultation.topic,
            "last_seq": consultation.last_seq,
        },
        "read": {str(user): seq for user, seq in selectors.read_state(consultation).items()},
    }


def _sync(consultation_id: int, after: int) -> dict[str, Any]:
    consultation = Consultation.objects.get(pk=consultation_id)
    items = [selectors.message_payload(m) for m in selectors.messages_after(consultation, after, SYNC_PAGE + 1)]
    return {"items": items[:SYNC_PAGE], "more": len(items) > SYNC_PAGE, "last_seq": consultation.last_seq}


def _within_rate(user_id: int) -> bool:
    return services.within_send_rate(user_id)


class RateLimited(DomainError):
    code = "rate_limited"


def _send(user: Any, consultation_id: int, client_id: str, body: str) -> tuple[Any, bool]:
    """Rate check and post in one trip to a worker thread (each trip off the event loop costs)."""
    if not services.within_send_rate(user.pk):
        raise RateLimited("too many messages; slow down")
    return services.post_message(actor=user, consultation_id=consultation_id, client_id=client_id, body=body)


# Sends run on the executor's threads, not Channels' one thread-sensitive thread that every
# database call of the process would otherwise queue on (measured: ~120 msg/s per process).
_send_off_thread = database_sync_to_async(_send, thread_sensitive=False)


def _frame_id(frame: dict[str, Any]) -> int:
    value = frame.get("id")
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidInput("'id' must be an integer", code="bad_frame", field="id")
    return value


class ChatConsumer(AsyncWebsocketConsumer):
    async def dispatch(self, message: dict[str, Any]) -> None:
        # Channels closes old database connections before every handler, through the process's one sync
        # thread, so each fan-out event queued behind database writes. Our database calls go through
        # database_sync_to_async, which closes them itself: call the handler directly.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self._refuse(CLOSE_UNAUTHENTICATED)
            return
        self.user = user
        self.consultation_id = int(self.scope["url_route"]["kwargs"]["consultation_id"])
        consultation, may_read, may_post = await database_sync_to_async(_load)(self.consultation_id, user)
        if consultation is None:
            await self._refuse(CLOSE_NOT_FOUND)
            return
        if not may_read:
            await self._refuse(CLOSE_FORBIDDEN)
            return
        self.group = services.group_name(self.consultation_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        self.may_post = may_post
        hello = await database_sync_to_async(_hello)(self.consultation_id)
        await self._frame("hello", you={"id": user.pk, "can_post": may_post}, **hello)

    async def disconnect(self, code: int) -> None:
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def _refuse(self, code: int) -> None:
        # Accept first so the client sees the code (a close before accept is a bare HTTP 403).
        await self.accept()
        await self.close(code=code)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        frame = decode_frame(text_data, bytes_data, max_bytes=MAX_FRAME_BYTES)
        if isinstance(frame, FrameProblem):
            if frame.too_large:
                await self.close(code=CLOSE_FRAME_TOO_LARGE)
            else:
                await self._error(frame.code, frame.message)
            return
        handler = {
            "send": self._on_send,
            "sync": self._on_sync,
            "typing": self._on_typing,
            "read": self._on_read,
            "edit": self._on_edit,
            "delete": self._on_delete,
            "ping": self._on_ping,
        }.get(frame["type"])
        if handler is None:
            await self._error("unknown_type", f"unknown frame type {frame['type']!r}")
            return
        await handler(frame)

    async def _on_send(self, frame: dict[str, Any]) -> None:
        client_id = str(frame.get("client_id", "")).strip()
        try:
            message, created = await _send_off_thread(
                self.user, self.consultation_id, client_id, str(frame.get("body", ""))
            )
        except DomainError as error:
            await self._domain_error(error, client_id=client_id)
            return
        await self._frame("ack", client_id=client_id, seq=message.seq, id=message.pk, duplicate=not created)

    async def _on_sync(self, frame: dict[str, Any]) -> None:
        after = frame.get("after", 0)
        if not isinstance(after, int) or after < 0:
            await self._error("bad_frame", "'after' must be a non-negative integer")
            return
        page = await database_sync_to_async(_sync)(self.consultation_id, after)
        await self._frame("messages", **page)

    async def _on_typing(self, frame: dict[str, Any]) -> None:
        if not self.may_post:  # readers (the office, former experts) do not type
            return
        event = {"type": "typing", "user": self.user.pk, "name": self.user.full_name}
        await self.channel_layer.group_send(self.group, {"type": "chat.event", "event": event})

    async def _on_read(self, frame: dict[str, Any]) -> None:
        seq = frame.get("seq")
        if not isinstance(seq, int):
            await self._error("bad_frame", "'seq' must be an integer")
            return
        try:
            await database_sync_to_async(services.mark_read)(
                actor=self.user, consultation_id=self.consultation_id, seq=seq
            )
        except DomainError as error:
            await self._domain_error(error)

    async def _on_edit(self, frame: dict[str, Any]) -> None:
        try:
            await database_sync_to_async(services.edit_message)(
                actor=self.user, message_id=_frame_id(frame), body=str(frame.get("body", ""))
            )
        except DomainError as error:
            await self._domain_error(error, id=frame.get("id"))

    async def _on_delete(self, frame: dict[str, Any]) -> None:
        try:
            await database_sync_to_async(services.delete_message)(actor=self.user, message_id=_frame_id(frame))
        except DomainError as error:
            await self._domain_error(error, id=frame.get("id"))

    async def _on_ping(self, frame: dict[str, Any]) -> None:
        await self._frame("pong", ref=frame.get("ref"))

    async def chat_event(self, message: dict[str, Any]) -> None:
        event = message["event"]
        if event.get("type") == "typing" and event.get("user") == self.user.pk:
            return  # nobody needs to see their own typing
        await self.send(text_data=json.dumps({"v": PROTOCOL_VERSION, **event}, ensure_ascii=False))

    async def _frame(self, frame_type: str, **fields: Any) -> None:
        await self.send(text_data=json.dumps({"v": PROTOCOL_VERSION, "type": frame_type, **fields}, ensure_ascii=False))

    async def _error(self, code: str, message: str, **fields: Any) -> None:
        await self._frame("error", code=code, message=message, **fields)

    async def _domain_error(self, error: DomainError, **fields: Any) -> None:
        extra = {"field": error.field} if error.field else {}
        await self._error(error.code, error.message, **fields, **extra)
