"""Shared pieces of the chat tests: an open consultation, and a client for ``/ws/consultations/<id>/``."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Origin

from consult.desk import services as desk
from consult.models import Bureau, Consultation, ConsultationStatus, ExpertPresence, PresenceStatus, User
from tests.conftest import LiveServer
from tests.sockets import HANG_GUARD_S

Frame = dict[str, Any]


def open_consultation(deputy: User, expert: User, bureau: Bureau) -> Consultation:
    """The deputy's consultation with the bureau, taken by ``expert``: system lines 1 (started) and 2 (joined)."""
    ExpertPresence.objects.update_or_create(
        expert=expert.expert_profile,
        defaults={"status": PresenceStatus.ONLINE, "connections": 1, "last_seen": timezone.now()},
    )
    started = desk.start_consultation(actor=deputy, bureau_id=bureau.pk, topic="课后服务收费标准")
    desk.route_bureau(bureau_id=bureau.pk)
    consultation = Consultation.objects.select_related("expert").get(pk=started.pk)
    assert (consultation.status, consultation.expert.user, consultation.last_seq) == (
        ConsultationStatus.ACTIVE,
        expert,
        2,
    )
    return consultation


@pytest.fixture
def consultation(deputy: User, expert: User, bureau_a: Bureau) -> Consultation:
    return open_consultation(deputy, expert, bureau_a)


def chat_socket(
    server: LiveServer, consultation_id: int, cookie: str | None = None, origin: str | None = None, **options: Any
) -> connect:
    return connect(
        f"{server.ws_url}/ws/consultations/{consultation_id}/",
        origin=Origin(origin or server.url),
        additional_headers={"Cookie": cookie} if cookie else None,
        open_timeout=HANG_GUARD_S,
        **options,
    )


async def receive(ws: ClientConnection, wait_s: float = HANG_GUARD_S) -> Frame:
    frame: Frame = json.loads(await asyncio.wait_for(ws.recv(), wait_s))
    return frame


async def greeted(server: LiveServer, consultation_id: int, cookie: str) -> tuple[ClientConnection, Frame]:
    ws = await chat_socket(server, consultation_id, cookie)
    hello = await receive(ws)
    assert hello["type"] == "hello", hello
    return ws, hello


async def frames_until(ws: ClientConnection, done: Callable[[Frame], bool], limit: int = 100) -> list[Frame]:
    """Read frames up to and including the first one ``done`` accepts (at most ``limit`` frames)."""
    frames: list[Frame] = []
    for _ in range(limit):
        frames.append(await receive(ws))
        if done(frames[-1]):
            return frames
    raise AssertionError(f"no expected frame among {limit}: {frames[-5:]}")


def is_message(seq: int) -> Callable[[Frame], bool]:
    return lambda frame: frame["type"] == "message" and frame["message"]["seq"] == seq


def of_type(frame_type: str) -> Callable[[Frame], bool]:
    return lambda frame: frame["type"] == frame_type


async def send(ws: ClientConnection, frame: Frame) -> None:
    await ws.send(json.dumps(frame, ensure_ascii=False))
