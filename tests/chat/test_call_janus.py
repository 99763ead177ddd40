"""Calls against a real Janus (Debian ``janus``, started on free ports with its own configuration): the client
creates and destroys rooms with the API secret, a socket's Janus session dies with it, and on the chat socket a
call rings, is answered, and ends at once for the other side when one socket closes."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from channels.db import database_sync_to_async
from websockets.exceptions import ConnectionClosed

from chat import calls
from chat.janus import JanusAdmin, JanusError, JanusSession
from chat.models import Call, CallState
from consult.models import Bureau, Consultation, User
from tests.chat.conftest import Frame, chat_socket, greeted, open_consultation, receive, send
from tests.conftest import LiveServer, stop
from tests.factories import DeputyProfileFactory, ExpertProfileFactory
from tests.janus_support import (  # noqa: F401 (fixtures)
    JanusServer,
    call_server,
    janus,
    start_janus,
    wait_for_idle_database,
)
from tests.sockets import session_cookie

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _server_done_before_teardown() -> Iterator[None]:
    """Each test's sockets close at its end; the server finishes their work before the tables are emptied."""
    yield
    wait_for_idle_database()


def test_rooms_are_created_recorded_and_destroyed_with_the_api_secret(janus: JanusServer) -> None:  # noqa: F811
    admin = JanusAdmin(janus.url, janus.secret)
    rec_dir = janus.folder / "rec-1"

    admin.create_room(424242, rec_dir=str(rec_dir))
    assert admin.room_exists(424242)
    admin.destroy_room(424242)
    assert not admin.room_exists(424242)
    admin.destroy_room(424242)  # destroying twice is not an error (the call may end twice: hang-up and close)

    with pytest.raises(JanusError) as refused:
        JanusAdmin(janus.url, "not-the-secret").create_room(1, rec_dir=str(rec_dir))
    assert refused.value.code == 403


def test_an_unreachable_janus_is_a_janus_error() -> None:
    with pytest.raises(JanusError):
        JanusAdmin("ws://127.0.0.1:9", "x", timeout=3).create_room(1, rec_dir="unused")


async def test_a_sessions_close_destroys_it_in_janus_at_once(janus: JanusServer) -> None:  # noqa: F811
    events: list[Frame] = []

    async def on_event(message: Frame) -> None:
        events.append(message)

    session = JanusSession(janus.url, janus.secret, on_event)
    await session.open()
    handle = await session.attach()
    assert session.session_id
    assert handle
    await session.close()

    probe = JanusSession(janus.url, janus.secret, on_event)
    await probe.open()
    with pytest.raises(JanusError) as gone:
        await probe.request({"janus": "keepalive", "session_id": session.session_id})
    assert gone.value.code == 458  # no such session: destroyed when its socket went, not after Janus's 60 s
    await probe.close()


def _cookies(deputy: User, expert: User) -> tuple[str, str]:
    return session_cookie(deputy), session_cookie(expert)


async def _until(ws: object, frame_type: str, state: str | None = None) -> Frame:
    for _ in range(50):
        frame = await receive(ws, 30)  # type: ignore[arg-type]
        if frame["type"] == frame_type and (state is None or frame["call"]["state"] == state):
            return frame
    raise AssertionError(f"no {frame_type} {state}")


async def test_a_call_rings_is_answered_and_ends_when_a_socket_closes(
    call_server: LiveServer,  # noqa: F811
    janus: JanusServer,  # noqa: F811
    consultation: Consultation,
    deputy: User,
    expert: User,
) -> None:
    deputy_cookie, expert_cookie = await database_sync_to_async(_cookies)(deputy, expert)
    deputy_ws, _ = await greeted(call_server, consultation.pk, deputy_cookie)
    expert_ws, _ = await greeted(call_server, consultation.pk, expert_cookie)

    await send(deputy_ws, {"type": "call.start"})
    ringing = await _until(expert_ws, "call", "ringing")
    call_id = ringing["call"]["id"]
    assert ringing["call"]["recorded"] is True
    call = await database_sync_to_async(Call.objects.get)(pk=call_id)
    assert JanusAdmin(janus.url, janus.secret).room_exists(call.room)

    await send(deputy_ws, {"type": "call.start"})
    busy = await _until(deputy_ws, "error")
    assert busy["code"] == "busy"

    await send(expert_ws, {"type": "call.accept", "call": call_id})
    await _until(deputy_ws, "call", "active")

    await send(expert_ws, {"type": "call.offer", "call": call_id, "sdp": "not an sdp"})
    refused = await _until(expert_ws, "error")
    assert (refused["code"], refused["field"]) == ("invalid_input", "sdp")

    await expert_ws.close()
    ended = await _until(deputy_ws, "call", "ended")
    assert ended["call"]["ended_at"]
    await asyncio.sleep(0)
    for _ in range(50):  # the room is destroyed after the commit; never a timed assertion, only a bounded wait
        if not JanusAdmin(janus.url, janus.secret).room_exists(call.room):
            break
        await asyncio.sleep(0.2)
    assert not JanusAdmin(janus.url, janus.secret).room_exists(call.room)
    state = await database_sync_to_async(lambda: Call.objects.get(pk=call_id).state)()
    assert state == CallState.ENDED
    await deputy_ws.close()
    await database_sync_to_async(wait_for_idle_database)()  # the server's disconnect work ends before teardown


def test_rooms_go_to_the_least_loaded_janus_that_answers_and_skip_a_stopped_one(
    janus: JanusServer,  # noqa: F811
    expert: User,
    bureau_a: Bureau,
    settings: Any,
    tmp_path: Path,
) -> None:
    """Two real Janus processes: calls alternate by load; one stopped is skipped, whether it is known to be down
    (its ``info`` unanswered) or still believed up (its room cannot be created: marked down, the next one used)."""
    second = start_janus(Path(tempfile.mkdtemp(prefix="janus-b-", dir=tmp_path)), secret=janus.secret)
    try:
        settings.JANUS_URLS = [janus.url, second.url]
        settings.JANUS_API_SECRET = janus.secret
        settings.MEDIA_ROOT = str(tmp_path / "media")
        calls.forget_janus_answers()
        type(expert.expert_profile).objects.filter(user=expert).update(capacity=4)  # four consultations at once
        consultations = [
            open_consultation(DeputyProfileFactory(user__username=f"d{n}").user, expert, bureau_a) for n in range(4)
        ]

        def ring(n: int) -> Call:
            consultation = consultations[n]
            return calls.start_call(actor=consultation.deputy, consultation_id=consultation.pk)

        first, other = ring(0), ring(1)
        assert (first.janus_url, other.janus_url) == (janus.url, second.url)  # 0 live calls each, then 1 vs 0
        assert JanusAdmin(second.url, janus.secret).room_exists(other.room)
        assert calls.hosts_by_load() == [janus.url, second.url]  # 1 live call each: the order of JANUS_URLS

        Call.objects.filter(pk=other.pk).update(state=CallState.ENDED)  # the second host is the least loaded now
        assert calls.hosts_by_load() == [second.url, janus.url]
        stop(second.process)  # still believed up (its answer is remembered): creating the room fails there
        third = ring(2)
        assert third.janus_url == janus.url
        assert JanusAdmin(janus.url, janus.secret).room_exists(third.room)
        assert calls.hosts_by_load() == [janus.url]  # marked down

        calls.forget_janus_answers()  # asked afresh: it does not answer
        assert calls.hosts_by_load() == [janus.url]
        assert ring(3).janus_url == janus.url
        assert calls.media_available()
    finally:
        stop(second.process)
        calls.forget_janus_answers()
        admin = JanusAdmin(janus.url, janus.secret)
        for room in Call.objects.filter(janus_url=janus.url).values_list("room", flat=True):
            admin.destroy_room(room)


async def _close_code(ws: Any) -> int | None:
    """Read until the server closes this socket: its close code."""
    try:
        for _ in range(50):
            await receive(ws, 30)
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else None
    raise AssertionError("the socket stayed open")


async def test_a_second_expert_is_invited_joins_reads_and_loses_the_consultation_on_leaving(
    call_server: LiveServer,  # noqa: F811
    janus: JanusServer,  # noqa: F811
    consultation: Consultation,
    deputy: User,
    expert: User,
    bureau_b: Bureau,
) -> None:
    def make_colleague() -> tuple[User, str, str, str]:
        colleague = ExpertProfileFactory(user__username="colleague", user__full_name="孙晓峰", bureau=bureau_b).user
        return colleague, session_cookie(deputy), session_cookie(expert), session_cookie(colleague)

    colleague, deputy_cookie, expert_cookie, colleague_cookie = await database_sync_to_async(make_colleague)()
    deputy_ws, _ = await greeted(call_server, consultation.pk, deputy_cookie)
    expert_ws, _ = await greeted(call_server, consultation.pk, expert_cookie)
    outside = await chat_socket(call_server, consultation.pk, colleague_cookie)
    assert await _close_code(outside) == 4403  # not a reader before the invitation

    await send(deputy_ws, {"type": "call.start"})
    call_id = (await _until(expert_ws, "call", "ringing"))["call"]["id"]
    await send(expert_ws, {"type": "call.accept", "call": call_id})
    await _until(deputy_ws, "call", "active")
    await send(deputy_ws, {"type": "call.invite", "call": call_id, "expert": colleague.pk})
    refused = await _until(deputy_ws, "error")
    assert refused["code"] == "not_allowed"  # only the expert answering invites
    await send(expert_ws, {"type": "call.invite", "call": call_id, "expert": colleague.pk})
    invited = await _until(deputy_ws, "call", "active")
    assert [(p["user"], p["invited"], p["joined"]) for p in invited["call"]["participants"]][-1] == (
        colleague.pk,
        True,
        False,
    )

    colleague_ws, hello = await greeted(call_server, consultation.pk, colleague_cookie)  # reads it while invited
    assert hello["you"]["can_post"] is False
    await send(colleague_ws, {"type": "call.accept", "call": call_id})
    joined = await _until(deputy_ws, "call", "active")
    assert joined["call"]["participants"][-1]["joined"] is True
    await send(colleague_ws, {"type": "send", "client_id": "c1", "body": "我也在"})
    assert (await _until(colleague_ws, "error"))["client_id"] == "c1"  # never writes in the thread

    await send(colleague_ws, {"type": "call.hangup", "call": call_id})
    after = await _until(deputy_ws, "call", "active")  # three → two: the call goes on
    assert after["call"]["participants"][-1]["left"] is True
    assert await _close_code(colleague_ws) == 4403  # no longer a reader: the socket is closed

    await send(deputy_ws, {"type": "call.hangup", "call": call_id})
    await _until(expert_ws, "call", "ended")
    await deputy_ws.close()
    await expert_ws.close()
    await database_sync_to_async(wait_for_idle_database)()
