"""The chat socket (``/ws/consultations/<id>/``): authenticate, check membership, relay; writes go to services.

Frames, error codes and close codes are in ``chat/PROTOCOL.md``.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.utils import translation

from chat import call_frames, hotpath, selectors, services
from chat.live_events import TYPING
from chat.models import Message
from consult.desk import access
from consult.kernel.exceptions import DomainError
from consult.kernel.texts import render
from consult.models import Consultation
from consult.realtime.catalogue import publish_now
from consult.realtime.frames import (
    FieldProblem,
    FrameProblem,
    decode_frame,
    int_field,
    socket_language,
    text_field,
)
from consult.realtime.socket_guard import CLOSE_TOO_MANY, FrameBudget, SessionGuard

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
            "changes": services.last_change(consultation_id),
        },
        "read": {str(user): seq for user, seq in selectors.read_state(consultation).items()},
    }


def _sync(consultation_id: int, after: int, changes_after: int | None) -> dict[str, Any]:
    changes = services.last_change(consultation_id)  # read first: what follows is at least this new
    consultation = Consultation.objects.get(pk=consultation_id)
    items = selectors.message_payloads(list(selectors.messages_after(consultation, after, SYNC_PAGE + 1)))
    page = {"items": items[:SYNC_PAGE], "more": len(items) > SYNC_PAGE, "last_seq": consultation.last_seq}
    if changes_after is not None:
        changed = list(
            Message.objects.filter(consultation_id=consultation_id, seq__lte=after, change__gt=changes_after)
            .select_related("sender")
            .order_by("change")[: SYNC_PAGE + 1]
        )
        if len(changed) > SYNC_PAGE:
            changed = changed[:SYNC_PAGE]
            changes = changed[-1].change  # the rest follows on the next sync from here
        page["changed"] = selectors.message_payloads(changed)
    return {**page, "changes": changes}


def _thread_state(consultation_id: int) -> dict[str, int]:
    """What ``hello`` and every ``pong`` carry: a client compares them with what it holds (rules 5 and 7)."""
    last_seq = Consultation.objects.filter(pk=consultation_id).values_list("last_seq", flat=True).first()
    return {"last_seq": int(last_seq or 0), "changes": services.last_change(consultation_id)}


def _send(user: Any, consultation_id: int, client_id: str, body: str) -> tuple[Any, bool]:
    """Rate check and post in one trip to a worker thread (each trip off the event loop costs).

    A resend of a stored message is answered with it even when the user is over the send rate.
    """
    wait = services.send_rate_wait(user.pk)
    if wait:
        stored = services.stored_message(consultation_id, user, client_id)
        if stored is not None:
            return stored, False
        raise services.RateLimited("too many messages; slow down", retry_after=services.retry_after_seconds(wait))
    return services.post_message(actor=user, consultation_id=consultation_id, client_id=client_id, body=body)


# Sends run on the executor's threads, not Channels' one thread-sensitive thread that every
# database call of the process would otherwise queue on (measured: ~120 msg/s per process).
_send_off_thread = database_sync_to_async(_send, thread_sensitive=False)

# Per socket and frame type: (frames per second, burst). PROTOCOL.md "Limits" lists them.
FRAME_BUDGET = {
    "send": (4.0, 20.0),
    "sync": (2.0, 10.0),
    "typing": (0.5, 2.0),
    "read": (2.0, 10.0),
    "edit": (1.0, 10.0),
    "delete": (1.0, 10.0),
    "ping": (1.0, 5.0),
    "other": (1.0, 10.0),
    **call_frames.FRAME_BUDGET,
}


class ChatConsumer(SessionGuard, AsyncWebsocketConsumer):
    async def dispatch(self, message: dict[str, Any]) -> None:
        # Channels closes old database connections before every handler, through the process's one sync
        # thread, so each fan-out event queued behind database writes. Our database calls go through
        # database_sync_to_async, which closes them itself: call the handler directly.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        with translation.override(socket_language(self.scope)):  # errors and platform lines in the reader's
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
        self.budget = FrameBudget(FRAME_BUDGET)
        if not await self.guard_open():
            return
        hello = await database_sync_to_async(_hello)(self.consultation_id)
        await self._frame("hello", you={"id": user.pk, "can_post": may_post}, **hello)

    async def disconnect(self, code: int) -> None:
        await call_frames.socket_closed(self)  # a call on this socket ends now, its Janus session with it
        await self.guard_close()
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def _refuse(self, code: int) -> None:
        # Accept first so the client sees the code (a close before accept is a bare HTTP 403).
        await self.accept()
        await self.close(code=code)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        frame = decode_frame(text_data, bytes_data, max_bytes=MAX_FRAME_BYTES)
        if isinstance(frame, FrameProblem) and frame.too_large:
            await self.close(code=CLOSE_FRAME_TOO_LARGE)
            return
        frame_type = frame["type"] if not isinstance(frame, FrameProblem) else "other"
        handler = self.handlers.get(frame_type) if not isinstance(frame, FrameProblem) else None
        if not await self._within_budget(frame_type if handler else "other", frame):
            return
        if isinstance(frame, FrameProblem):
            await self._error(frame.code, frame.message)
            return
        if handler is None:
            await self._error("unknown_type", f"unknown frame type {frame['type']!r}")
            return
        try:
            await handler(self, frame)
        except FieldProblem as problem:
            await self._error(problem.code, problem.message, field=problem.field, **_echo(frame))

    async def _within_budget(self, frame_type: str, frame: dict[str, Any] | FrameProblem) -> bool:
        wait = self.budget.spend(frame_type)
        if not wait:
            return True
        if self.budget.flooding:
            await self.close(code=CLOSE_TOO_MANY)
        elif frame_type != "typing" and self.budget.first_refusal(frame_type):
            echo = _echo(frame) if isinstance(frame, dict) else {}
            await self._error(
                "rate_limited",
                f"too many {frame_type!r} frames",
                frame=frame_type,
                retry_after=services.retry_after_seconds(wait),
                **echo,
            )
        return False

    async def _on_send(self, frame: dict[str, Any]) -> None:
        client_id, body = text_field(frame, "client_id").strip(), text_field(frame, "body")
        try:
            if hotpath.available():  # PostgreSQL and Redis: on the event loop, one statement
                message, created = await hotpath.send(self.user, self.consultation_id, client_id, body)
            else:
                message, created = await _send_off_thread(self.user, self.consultation_id, client_id, body)
        except services.RateLimited as error:
            await self._error(error.code, error.message, client_id=client_id, retry_after=error.retry_after)
            return
        except DomainError as error:
            await self._domain_error(error, client_id=client_id)
            return
        await self._frame("ack", client_id=client_id, seq=message.seq, id=message.pk, duplicate=not created)

    async def _on_sync(self, frame: dict[str, Any]) -> None:
        after = int_field(frame, "after", default=0, minimum=0)
        changes_after = int_field(frame, "changes_after", minimum=0) if "changes_after" in frame else None
        page = await database_sync_to_async(_sync)(self.consultation_id, after, changes_after)
        await self._frame("messages", **page)

    async def _on_typing(self, frame: dict[str, Any]) -> None:
        if not self.may_post:  # readers (the office, former experts) do not type
            return
        await publish_now(TYPING, self.consultation_id, {"user": self.user.pk, "name": self.user.full_name})

    async def _on_read(self, frame: dict[str, Any]) -> None:
        seq = int_field(frame, "seq")
        try:
            await database_sync_to_async(services.mark_read)(
                actor=self.user, consultation_id=self.consultation_id, seq=seq
            )
        except DomainError as error:
            await self._domain_error(error)

    async def _on_edit(self, frame: dict[str, Any]) -> None:
        message_id, body = int_field(frame, "id"), text_field(frame, "body")
        try:
            await database_sync_to_async(services.edit_message)(
                actor=self.user, consultation_id=self.consultation_id, message_id=message_id, body=body
            )
        except DomainError as error:
            await self._domain_error(error, id=message_id)

    async def _on_delete(self, frame: dict[str, Any]) -> None:
        message_id = int_field(frame, "id")
        try:
            await database_sync_to_async(services.delete_message)(
                actor=self.user, consultation_id=self.consultation_id, message_id=message_id
            )
        except DomainError as error:
            await self._domain_error(error, id=message_id)

    async def _on_ping(self, frame: dict[str, Any]) -> None:
        state = await database_sync_to_async(_thread_state)(self.consultation_id)
        await self._frame("pong", ref=frame.get("ref"), **state)

    handlers: ClassVar[dict[str, Callable[[ChatConsumer, dict[str, Any]], Awaitable[None]]]] = {
        "send": _on_send,
        "sync": _on_sync,
        "typing": _on_typing,
        "read": _on_read,
        "edit": _on_edit,
        "delete": _on_delete,
        "ping": _on_ping,
        **call_frames.HANDLERS,
    }

    async def chat_event(self, message: dict[str, Any]) -> None:
        event = message["event"]
        if event.get("type") == "typing" and event.get("user") == self.user.pk:
            return  # nobody needs to see their own typing
        line = event.get("message")
        if isinstance(line, dict) and line.get("code"):  # a platform line, published in its writer's language
            event = {**event, "message": {**line, "body": render(line["code"], line.get("params"), line["body"])}}
        await self.send(text_data=json.dumps({"v": PROTOCOL_VERSION, **event}, ensure_ascii=False))
        if event.get("type") == "call" and _guest_gone(event.get("call"), self.user.pk):
            # an invited expert reads the consultation only while in its call: once gone, this socket closes
            consultation, may_read, _may_post = await database_sync_to_async(_load)(self.consultation_id, self.user)
            if consultation is None or not may_read:
                await self.close(code=CLOSE_FORBIDDEN)

    async def _frame(self, frame_type: str, **fields: Any) -> None:
        await self.send(text_data=json.dumps({"v": PROTOCOL_VERSION, "type": frame_type, **fields}, ensure_ascii=False))

    async def _error(self, code: str, message: str, **fields: Any) -> None:
        await self._frame("error", code=code, message=message, **fields)

    async def _domain_error(self, error: DomainError, **fields: Any) -> None:
        extra = {"field": error.field} if error.field else {}
        await self._error(error.code, error.message, **fields, **extra)


def _guest_gone(call: Any, user_id: int) -> bool:
    """Whether this ``call`` payload shows ``user_id`` as an invited expert who has left it, or the call over."""
    if not isinstance(call, dict):
        return False
    over = call.get("state") not in ("ringing", "active")
    return any(
        p.get("user") == user_id and p.get("invited") and (p.get("left") or over) for p in call.get("participants", [])
    )


def _echo(frame: dict[str, Any]) -> dict[str, Any]:
    """The frame's own ``client_id`` (send) or ``id`` (edit, delete) for its error, when it is one."""
    if frame.get("type") == "send" and isinstance(frame.get("client_id"), str) and len(frame["client_id"]) <= 64:
        return {"client_id": frame["client_id"].strip()}
    if frame.get("type") in ("edit", "delete") and type(frame.get("id")) is int:
        return {"id": frame["id"]}
    return {}
