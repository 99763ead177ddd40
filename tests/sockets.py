"""Helpers for tests that talk to the app's WebSockets under a real Daphne (``daphne_server``).

Events are published from the test process with :func:`consult.realtime.catalogue.publish` on the same Redis channel
layer the server listens on (both share ``CHANNEL_LAYER_PREFIX``, set by ``tests/services_plugin.py``).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connection, transaction
from django.test import Client
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Origin

from consult.models import User
from consult.realtime import catalogue
from consult.realtime.catalogue import LiveEvent
from tests.conftest import LiveServer

# A guard against hangs only; nothing here asserts on time.
HANG_GUARD_S = 10


def session_cookie(user: User) -> str:
    """A ``Cookie`` header value carrying a committed session for ``user``."""
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def origin_of(server: LiveServer) -> str:
    return server.url


def open_socket(server: LiveServer, cookie: str | None = None, origin: str | None = None) -> connect:
    headers = {"Cookie": cookie} if cookie else None
    return connect(
        f"{server.ws_url}/ws/live/",
        origin=Origin(origin or origin_of(server)),
        additional_headers=headers,
        open_timeout=HANG_GUARD_S,
    )


async def next_frame(ws: ClientConnection) -> dict[str, Any]:
    raw = await asyncio.wait_for(ws.recv(), HANG_GUARD_S)
    frame: dict[str, Any] = json.loads(raw)
    return frame


async def send_frame(ws: ClientConnection, frame: dict[str, Any]) -> dict[str, Any]:
    """Send one frame and return the server's reply to it."""
    await ws.send(json.dumps(frame))
    return await next_frame(ws)


async def close_code_after(ws: ClientConnection) -> int | None:
    """Read until the server closes the socket; the close code it sent."""
    try:
        while True:
            await asyncio.wait_for(ws.recv(), HANG_GUARD_S)
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else None


def _event(topic: str, event_type: str) -> LiveEvent:
    """An event of the test's own making, published through the one path (not declared in the catalogue)."""
    return LiveEvent(event_type, "live", topic, dict, "a test event")


def _publish_now(topic: str, key: str | int, event_type: str, payload: dict[str, Any]) -> None:
    try:
        catalogue.publish(_event(topic, event_type), key, payload)
    finally:
        connection.close()  # this worker thread's connection; the test database is dropped at the end


def _publish_then_roll_back(topic: str, key: str | int, event_type: str, payload: dict[str, Any]) -> None:
    try:
        with transaction.atomic():
            catalogue.publish(_event(topic, event_type), key, payload)
            transaction.set_rollback(True)
    finally:
        connection.close()


async def publish(topic: str, key: str | int, event_type: str, payload: dict[str, Any]) -> None:
    """Publish from this process outside any transaction, so the event is sent at once."""
    await sync_to_async(_publish_now)(topic, key, event_type, payload)


async def publish_rolled_back(topic: str, key: str | int, event_type: str, payload: dict[str, Any]) -> None:
    await sync_to_async(_publish_then_roll_back)(topic, key, event_type, payload)


async def expect_only_marker_next(ws: ClientConnection, user_pk: int) -> None:
    """Publish a marker on the listener's own topic; it must be the very next frame."""
    await publish("user", user_pk, "marker.test", {"n": 1})
    frame = await next_frame(ws)
    assert frame["type"] == "marker.test", f"expected the marker, got {frame}"


async def open_greeted(server: LiveServer, cookie: str) -> ClientConnection:
    ws = await open_socket(server, cookie)
    hello = await next_frame(ws)
    assert hello["type"] == "hello"
    return ws
