"""The live-events socket (``/ws/live/``): authenticate, subscribe after a check, relay.

It never changes domain state; services publish through :mod:`consult.realtime.topics`.
Frames and close codes are documented in README ("Live events").
"""

from __future__ import annotations

import json
import math
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.utils import translation

from consult.desk import services as desk
from consult.notifications.kinds import render_title
from consult.people.roles import Role
from consult.realtime import topics as live
from consult.realtime.frames import FieldProblem, FrameProblem, decode_frame, socket_language, text_field
from consult.realtime.socket_guard import CLOSE_TOO_MANY, FrameBudget, SessionGuard

MAX_FRAME_BYTES = 4096
MAX_SUBSCRIPTIONS = 50

CLOSE_UNAUTHENTICATED = 4401
# Per socket and frame type: (frames per second, burst); README "Live events" lists them.
FRAME_BUDGET = {"ping": (1.0, 5.0), "subscribe": (5.0, 60.0), "unsubscribe": (5.0, 60.0), "other": (1.0, 10.0)}
CLOSE_BAD_FRAME = 4400
CLOSE_FRAME_TOO_LARGE = 4413


class LiveConsumer(SessionGuard, AsyncWebsocketConsumer):
    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            # Accept first: a close before accept becomes a bare HTTP 403 and the client never
            # sees 4401, so it could not tell "signed out" (stop) from a network error (retry).
            await self.accept()
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.user = user
        self.groups_joined: set[str] = set()
        self.budget = FrameBudget(FRAME_BUDGET)
        await self.accept()
        if not await self.guard_open():
            return
        await self._join(live.group_name("user", str(user.pk)))
        self.is_expert = user.role == Role.EXPERT
        if self.is_expert:
            await database_sync_to_async(desk.expert_connected)(actor=user)
        await self._send_frame("hello", user=user.pk, topics=sorted(live.known_topics()))

    async def disconnect(self, code: int) -> None:
        await self.guard_close()
        for group in getattr(self, "groups_joined", set()):
            await self.channel_layer.group_discard(group, self.channel_name)
        if getattr(self, "is_expert", False):
            await database_sync_to_async(desk.expert_disconnected)(actor=self.user)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        frame = decode_frame(text_data, bytes_data, max_bytes=MAX_FRAME_BYTES)
        if isinstance(frame, FrameProblem) and frame.too_large:
            await self.close(code=CLOSE_FRAME_TOO_LARGE)
            return
        handler = {"ping": self._on_ping, "subscribe": self._on_subscribe, "unsubscribe": self._on_unsubscribe}
        action = None if isinstance(frame, FrameProblem) else handler.get(frame["type"])
        frame_type = frame["type"] if action is not None and isinstance(frame, dict) else "other"
        wait = self.budget.spend(frame_type)
        if wait:
            if self.budget.flooding:
                await self.close(code=CLOSE_TOO_MANY)
            elif self.budget.first_refusal(frame_type):
                retry = math.ceil(wait * 1000) / 1000
                await self._send_error("rate_limited", f"too many {frame_type!r} frames", retry_after=retry)
            return
        if isinstance(frame, FrameProblem):
            await self._send_error(frame.code, frame.message)
            return
        if action is None:
            await self._send_error("unknown_type", f"unknown frame type {frame['type']!r}")
            return
        try:
            await action(frame)
        except FieldProblem as problem:
            await self._send_error("bad_frame", problem.message, field=problem.field)

    async def live_event(self, message: dict[str, Any]) -> None:
        event = message["event"]
        data = event.get("data")
        if event.get("type") == "notification.new" and isinstance(data, dict) and data.get("params"):
            with translation.override(socket_language(self.scope)):  # worded in this socket's reader's language
                data = {**data, "title": render_title(data["kind"], data["params"], data["title"])}
            event = {**event, "data": data}
        await self.send(text_data=json.dumps(event, ensure_ascii=False))

    async def _on_ping(self, frame: dict[str, Any]) -> None:
        if self.is_expert:  # the workbench pings: the expert is still there
            await database_sync_to_async(desk.touch_presence)(actor=self.user)
        await self._send_frame("pong", ref=frame.get("ref"))

    async def _on_subscribe(self, frame: dict[str, Any]) -> None:
        topic, key = text_field(frame, "topic", code="bad_frame"), text_field(frame, "key", code="bad_frame")
        if len(self.groups_joined) >= MAX_SUBSCRIPTIONS:
            await self._send_error("too_many_subscriptions", f"at most {MAX_SUBSCRIPTIONS}", topic=topic, key=key)
            return
        allowed = await database_sync_to_async(live.can_subscribe)(self.user, topic, key)
        if not allowed:
            await self._send_error("forbidden", "you may not subscribe to this topic", topic=topic, key=key)
            return
        await self._join(live.group_name(topic, key))
        await self._send_frame("subscribed", topic=topic, key=key)

    async def _on_unsubscribe(self, frame: dict[str, Any]) -> None:
        topic, key = text_field(frame, "topic", code="bad_frame"), text_field(frame, "key", code="bad_frame")
        group = live.group_name(topic, key)
        if group == live.group_name("user", str(self.user.pk)):
            await self._send_error("forbidden", "your own user topic cannot be left", topic=topic, key=key)
            return
        if group in self.groups_joined:
            await self.channel_layer.group_discard(group, self.channel_name)
            self.groups_joined.discard(group)
        await self._send_frame("unsubscribed", topic=topic, key=key)

    async def _join(self, group: str) -> None:
        await self.channel_layer.group_add(group, self.channel_name)
        self.groups_joined.add(group)

    async def _send_frame(self, frame_type: str, **fields: Any) -> None:
        await self.send(text_data=json.dumps({"v": live.PROTOCOL_VERSION, "type": frame_type, **fields}))

    async def _send_error(self, code: str, message: str, **fields: Any) -> None:
        await self._send_frame("error", code=code, message=message, **fields)
