"""The catalogue of live events, and the one function that publishes them.

Every event a socket can receive is declared once, in its app's ``live_events`` module, with its name (the
frame's ``type``), the socket that carries it (``live``: ``/ws/live/`` topics; ``chat``: a consultation's chat
socket), its topic, its payload type and a sentence for the protocol documents. Every event goes out through
:func:`publish` (after the surrounding transaction commits), :func:`publish_committed` (from the event loop,
after a write that has committed: the chat socket's send) or, for what is never stored (typing), through
:func:`publish_now` from a socket. ``tests/consult/test_live_catalogue.py`` checks the protocol documents
(``chat/PROTOCOL.md``, README's live section) against this catalogue.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)

PROTOCOL_VERSION = 1
Socket = Literal["live", "chat"]


@dataclass(frozen=True)
class LiveEvent:
    name: str  # the frame's "type"
    socket: Socket
    topic: str  # a live topic ("user", "bureau", "proposal", "consultation"), or "chat"
    payload: type  # a TypedDict: the frame's "data" (live) or its fields beside "type" (chat)
    doc: str

    def group(self, key: str | int) -> str:
        return group_of(self.socket, self.topic, key)

    def message(self, key: str | int, data: Mapping[str, Any]) -> dict[str, Any]:
        """The channel-layer message the consumers relay (``live.event`` / ``chat.event``)."""
        if self.socket == "live":
            frame = {"v": PROTOCOL_VERSION, "type": self.name, "topic": self.topic, "key": str(key), "data": data}
            return {"type": "live.event", "event": frame}
        return {"type": "chat.event", "event": {"type": self.name, **data}}


def group_of(socket: Socket, topic: str, key: str | int) -> str:
    """The channel-layer group of a topic's key: sockets join it, events are sent to it."""
    if socket == "live":
        return f"live.{topic}.{key}"
    return f"chat.{key}" if topic == "chat" else f"chat.{topic}.{key}"  # e.g. a call's participants: chat.call.<id>


_CATALOGUE: dict[tuple[Socket, str, str], LiveEvent] = {}


def declare(name: str, *, socket: Socket, topic: str, payload: type, doc: str) -> LiveEvent:
    """Declare an event once; a second declaration of the same name on the same socket is a programming error."""
    key = (socket, topic, name)
    if key in _CATALOGUE and _CATALOGUE[key] != LiveEvent(name, socket, topic, payload, doc):
        raise ValueError(f"live event {name!r} on {socket} topic {topic!r} is declared twice")
    event = LiveEvent(name, socket, topic, payload, doc)
    _CATALOGUE[key] = event
    return event


def catalogue() -> list[LiveEvent]:
    """Every declared event (the apps' ``live_events`` modules are imported by their AppConfig.ready)."""
    return sorted(_CATALOGUE.values(), key=lambda e: (e.socket, e.topic, e.name))


def publish(event: LiveEvent, key: str | int, data: Mapping[str, Any]) -> None:
    """Send ``event`` to everyone listening on its topic ``key`` once the transaction commits.

    The channel layer is a notification bus, never the record: a lost event is recovered by clients re-reading
    state (chat: by number), so a Redis hiccup is logged and never fails the request.
    """
    message = event.message(key, data)
    group = event.group(key)
    transaction.on_commit(lambda: _send(group, message))


async def publish_now(event: LiveEvent, key: str | int, data: Mapping[str, Any]) -> None:
    """For what is never stored (typing): sent at once, from a socket's own event loop."""
    layer = get_channel_layer()
    if layer is not None:
        await layer.group_send(event.group(key), event.message(key, data))


async def publish_committed(event: LiveEvent, key: str | int, data: Mapping[str, Any]) -> None:
    """``publish`` for a caller on the event loop whose write has already committed (``chat.hotpath``).

    Sent at once; like ``publish``, a Redis hiccup is logged and never fails the caller.
    """
    layer = get_channel_layer()
    if layer is None:
        return
    group = event.group(key)
    try:
        await layer.group_send(group, event.message(key, data))
    except Exception:
        logger.exception("live event to %s could not be sent", group)


def _send(group: str, message: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group, message)
    except Exception:
        logger.exception("live event to %s could not be sent", group)
