"""Sockets that obey the session, validate every field, stay inside their consultation and their budgets
(issue 11, items 1–6 and 8), end to end under the real server (``python -m consult.realtime.server``) and Redis.

No assertion here is on time: the tests wait for conditions (a close, a frame) with generous guards.
"""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.conf import settings
from django.test import Client
from websockets.exceptions import ConnectionClosed

from chat import services as chat
from chat.models import Message
from consult.desk import services as desk
from consult.kernel.exceptions import InvalidInput
from consult.models import Bureau, Consultation, User
from tests.chat.conftest import chat_socket, frames_until, greeted, of_type, open_consultation, receive, send
from tests.conftest import REPO_ROOT, LiveServer, child_env, free_port, stop, wait_until_serving
from tests.sockets import close_code_after, open_greeted, open_socket

pytestmark = pytest.mark.django_db(transaction=True)

GUARD_S = 30  # against hangs only
SERVER = [sys.executable, "-m", "consult.realtime.server"]


def signed_in(user: User) -> tuple[Client, str]:
    client = Client()
    client.force_login(user)
    return client, f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


async def closed_with(ws: Any) -> int | None:
    try:
        while True:
            await asyncio.wait_for(ws.recv(), GUARD_S)
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else None


async def pages_until_closed(ws: Any) -> tuple[int, bool]:
    pages = 0
    try:
        while True:
            frame = json.loads(await asyncio.wait_for(ws.recv(), GUARD_S))
            pages += frame["type"] == "messages"
    except ConnectionClosed:
        return pages, True


async def still_open(ws: Any) -> bool:
    await send(ws, {"type": "ping", "ref": "alive"})
    frames = await frames_until(ws, of_type("pong"))
    return frames[-1]["ref"] == "alive"


# --- 1. the session -----------------------------------------------------------------------------------------


async def test_logout_closes_that_sessions_chat_and_live_sockets_with_4401_and_no_other(
    daphne_server: LiveServer, consultation: Consultation, deputy: User
) -> None:
    client, cookie = await database_sync_to_async(signed_in)(deputy)
    _other_client, other_cookie = await database_sync_to_async(signed_in)(deputy)
    chat_ws, _ = await greeted(daphne_server, consultation.pk, cookie)
    live_ws = await open_greeted(daphne_server, cookie)
    other_ws, _ = await greeted(daphne_server, consultation.pk, other_cookie)

    await database_sync_to_async(client.logout)()

    assert await closed_with(chat_ws) == 4401
    assert await closed_with(live_ws) == 4401
    assert await still_open(other_ws)
    await other_ws.close()


@pytest.mark.parametrize("change", ["deactivate", "password"])
async def test_deactivation_or_a_password_change_closes_every_socket_of_the_user_with_4401(
    daphne_server: LiveServer, consultation: Consultation, deputy: User, change: str
) -> None:
    _client, cookie = await database_sync_to_async(signed_in)(deputy)
    chat_ws, _ = await greeted(daphne_server, consultation.pk, cookie)
    live_ws = await open_greeted(daphne_server, cookie)

    def save() -> None:
        user = User.objects.get(pk=deputy.pk)
        if change == "deactivate":
            user.is_active = False
        else:
            user.set_password("a-new-password-2026")
        user.save()

    await database_sync_to_async(save)()

    assert await closed_with(chat_ws) == 4401
    assert await closed_with(live_ws) == 4401


async def test_an_expired_session_closes_its_sockets_with_4401(
    daphne_server: LiveServer, consultation: Consultation, deputy: User
) -> None:
    def short_session() -> str:
        client, cookie = signed_in(deputy)
        session = client.session
        session.set_expiry(3)
        session.save()
        return cookie

    cookie = await database_sync_to_async(short_session)()
    chat_ws, _ = await greeted(daphne_server, consultation.pk, cookie)
    live_ws = await open_greeted(daphne_server, cookie)

    assert await closed_with(chat_ws) == 4401
    assert await closed_with(live_ws) == 4401


# --- 2. every field checked before a service sees it -------------------------------------------------------


@pytest.mark.parametrize(
    ("frame", "code", "field"),
    [
        ({"type": "send", "client_id": "nul-1", "body": "你好\u0000"}, "invalid_input", "body"),
        ({"type": "send", "client_id": "nul\u0000", "body": "你好"}, "invalid_input", "client_id"),
        ({"type": "send", "client_id": "esc", "body": "\u001b[31m红"}, "invalid_input", "body"),
        ({"type": "send", "client_id": "n-42", "body": 42}, "invalid_input", "body"),
        ({"type": "send", "client_id": "n-null", "body": None}, "invalid_input", "body"),
        ({"type": "send", "client_id": "n-obj", "body": {"x": 1}}, "invalid_input", "body"),
        ({"type": "send", "client_id": "n-true", "body": True}, "invalid_input", "body"),
        ({"type": "send", "client_id": 42, "body": "你好"}, "invalid_input", "client_id"),
        ({"type": "sync", "after": True}, "bad_frame", "after"),
        ({"type": "sync", "after": 0, "changes_after": "1"}, "bad_frame", "changes_after"),
        ({"type": "read", "seq": True}, "bad_frame", "seq"),
        ({"type": "edit", "id": True, "body": "改"}, "bad_frame", "id"),
        ({"type": "edit", "id": 1, "body": 42}, "invalid_input", "body"),
        ({"type": "delete", "id": 2**70}, "bad_frame", "id"),
    ],
)
async def test_a_field_of_the_wrong_type_or_with_control_characters_gets_one_error_and_the_socket_stays(
    daphne_server: LiveServer,
    consultation: Consultation,
    deputy_cookie: str,
    frame: dict[str, Any],
    code: str,
    field: str,
) -> None:
    async with chat_socket(daphne_server, consultation.pk, deputy_cookie) as ws:
        await receive(ws)
        await send(ws, frame)
        error = await receive(ws)
        alive = await still_open(ws)

    assert (error["type"], error["code"], error["field"]) == ("error", code, field)
    assert alive
    assert await database_sync_to_async(Message.objects.filter(consultation=consultation).count)() == 2


def test_the_services_refuse_control_characters_too(consultation: Consultation, deputy: User) -> None:
    with pytest.raises(InvalidInput) as refused:
        chat.post_message(actor=deputy, consultation_id=consultation.pk, client_id="rest", body="a\u0000b")

    assert refused.value.field == "body"


async def test_live_subscribe_with_a_non_string_topic_gets_bad_frame(
    daphne_server: LiveServer, deputy_cookie: str
) -> None:
    async with open_socket(daphne_server, deputy_cookie) as ws:
        await receive(ws)
        await send(ws, {"type": "subscribe", "topic": 42, "key": "1"})
        error = await receive(ws)
        await send(ws, {"type": "ping", "ref": "after"})
        pong = await receive(ws)

    assert (error["code"], error["field"]) == ("bad_frame", "topic")
    assert pong["type"] == "pong"


# --- 3. edit and delete only within the socket's consultation ----------------------------------------------


async def test_edit_or_delete_of_another_consultations_message_is_not_found(
    daphne_server: LiveServer, consultation: Consultation, deputy: User, expert: User, bureau_a: Bureau
) -> None:
    def elsewhere() -> Message:
        other = open_consultation(deputy, expert, bureau_a)
        return chat.post_message(actor=deputy, consultation_id=other.pk, client_id="there", body="另一件事")[0]

    message = await database_sync_to_async(elsewhere)()
    _client, cookie = await database_sync_to_async(signed_in)(deputy)
    async with chat_socket(daphne_server, consultation.pk, cookie) as ws:
        await receive(ws)
        await send(ws, {"type": "edit", "id": message.pk, "body": "改到别处"})
        edit = await receive(ws)
        await send(ws, {"type": "delete", "id": message.pk})
        delete = await receive(ws)

    kept = await database_sync_to_async(Message.objects.get)(pk=message.pk)
    assert (edit["code"], edit["id"], delete["code"], delete["id"]) == (
        "not_found",
        message.pk,
        "not_found",
        message.pk,
    )
    assert (kept.body, kept.deleted_at) == ("另一件事", None)


async def test_a_former_expert_can_no_longer_edit_or_delete_their_lines(
    daphne_server: LiveServer, consultation: Consultation, expert: User, bureau_b: Bureau, expert_cookie: str
) -> None:
    line = await database_sync_to_async(chat.post_message)(
        actor=expert, consultation_id=consultation.pk, client_id="mine", body="我的答复"
    )
    await database_sync_to_async(desk.transfer_consultation)(
        actor=expert, consultation_id=consultation.pk, note="转交通委", to_bureau_id=bureau_b.pk
    )
    async with chat_socket(daphne_server, consultation.pk, expert_cookie) as ws:
        await receive(ws)
        await send(ws, {"type": "edit", "id": line[0].pk, "body": "改"})
        edit = await receive(ws)
        await send(ws, {"type": "delete", "id": line[0].pk})
        delete = await receive(ws)

    assert (edit["code"], delete["code"]) == ("not_allowed", "not_allowed")


# --- 4. budgets, socket caps ---------------------------------------------------------------------------------


async def test_a_sync_flood_is_refused_beyond_its_budget_with_one_rate_limited_and_the_socket_stays(
    daphne_server: LiveServer, consultation: Consultation, deputy_cookie: str
) -> None:
    async with chat_socket(daphne_server, consultation.pk, deputy_cookie) as ws:
        await receive(ws)
        for _ in range(60):
            await send(ws, {"type": "sync", "after": 0})
        await send(ws, {"type": "ping", "ref": "end"})
        frames = await frames_until(ws, lambda f: f["type"] == "pong", limit=200)

    pages = [f for f in frames if f["type"] == "messages"]
    refusals = [f for f in frames if f["type"] == "error"]
    assert len(pages) < 60
    assert [(e["code"], e["frame"]) for e in refusals] == [("rate_limited", "sync")]
    assert refusals[0]["retry_after"] > 0


async def test_typing_is_throttled(
    daphne_server: LiveServer, consultation: Consultation, deputy_cookie: str, expert_cookie: str
) -> None:
    deputy_ws, _ = await greeted(daphne_server, consultation.pk, deputy_cookie)
    expert_ws, _ = await greeted(daphne_server, consultation.pk, expert_cookie)
    for _ in range(30):
        await send(deputy_ws, {"type": "typing"})
    await send(deputy_ws, {"type": "send", "client_id": "after-typing", "body": "好"})
    seen = await frames_until(expert_ws, lambda f: f["type"] == "message", limit=50)
    await deputy_ws.close()
    await expert_ws.close()

    assert 1 <= len([f for f in seen if f["type"] == "typing"]) < 30


async def test_a_socket_that_keeps_flooding_is_closed_with_4429(
    daphne_server: LiveServer, consultation: Consultation, deputy_cookie: str
) -> None:
    async with chat_socket(daphne_server, consultation.pk, deputy_cookie) as ws:
        await receive(ws)
        for _ in range(settings.SOCKET_FLOOD_CLOSE_AFTER + 50):
            await ws.send('{"type": "nonsense"}')
        code = await closed_with(ws)

    assert code == 4429


async def test_more_sockets_than_the_cap_per_user_are_closed_with_4429(
    daphne_server: LiveServer, deputy_cookie: str
) -> None:
    sockets = [await open_greeted(daphne_server, deputy_cookie) for _ in range(settings.SOCKETS_PER_USER)]
    async with open_socket(daphne_server, deputy_cookie) as extra:
        code = await close_code_after(extra)
    await sockets[0].close()
    async with open_socket(daphne_server, deputy_cookie) as after_one_left:
        hello = json.loads(await asyncio.wait_for(after_one_left.recv(), GUARD_S))
    for ws in sockets[1:]:
        await ws.close()

    assert code == 4429
    assert hello["type"] == "hello"


async def test_a_client_that_does_not_read_is_disconnected(
    daphne_server: LiveServer, consultation: Consultation, deputy: User, deputy_cookie: str
) -> None:
    def long_thread() -> None:
        Message.objects.bulk_create(
            Message(consultation=consultation, seq=seq, sender=deputy, client_id=f"l{seq}", body="长" * 2000)
            for seq in range(3, 203)
        )
        Consultation.objects.filter(pk=consultation.pk).update(last_seq=202)

    await database_sync_to_async(long_thread)()
    async with chat_socket(daphne_server, consultation.pk, deputy_cookie, max_queue=1) as ws:
        await receive(ws)
        for _ in range(10):  # ten pages of ~1.2 MB each, never read
            await send(ws, {"type": "sync", "after": 0})
        await asyncio.sleep(5)  # not an assertion: leave the server time to notice
        pages, closed = await pages_until_closed(ws)

    assert closed
    assert pages < 10


# --- 5. see test_consumer.py (sliding window, duplicate ack, retry_after) ------------------------------------
# --- 6. frames over the limit, SIGTERM, slow headers --------------------------------------------------------


@pytest.mark.parametrize("size", [100 * 1024, 2 * 1024 * 1024])
async def test_a_frame_far_over_the_limit_closes_with_4413_not_a_drop(
    daphne_server: LiveServer, consultation: Consultation, deputy_cookie: str, size: int
) -> None:
    async with chat_socket(daphne_server, consultation.pk, deputy_cookie) as ws:
        await receive(ws)
        await send(ws, {"type": "send", "client_id": "huge", "body": "x" * size})
        code = await closed_with(ws)

    assert code == 4413


@pytest.fixture
def own_server(django_db_setup: None) -> Iterator[LiveServer]:
    """A server of this test's own (it is stopped by the test), with a 2-second header timeout."""
    port = free_port()
    log = open(Path(settings.VAR_DIR) / f"server-{port}.log", "wb")  # noqa: SIM115 (closed below)
    process = subprocess.Popen(
        [*SERVER, "--http-idle-timeout", "2", "-b", "127.0.0.1", "-p", str(port), "consult.asgi:application"],
        cwd=REPO_ROOT,
        env=child_env(),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_until_serving(f"http://127.0.0.1:{port}/accounts/login/", process)
        yield LiveServer(f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}", process)
    finally:
        stop(process)
        log.close()


async def test_sigterm_closes_open_sockets_with_1001(
    own_server: LiveServer, consultation: Consultation, deputy_cookie: str
) -> None:
    chat_ws, _ = await greeted(own_server, consultation.pk, deputy_cookie)
    live_ws = await open_greeted(own_server, deputy_cookie)

    own_server.process.send_signal(signal.SIGTERM)

    assert await closed_with(chat_ws) == 1001
    assert await closed_with(live_ws) == 1001


async def test_slow_request_headers_are_cut_off_but_an_idle_websocket_stays(
    own_server: LiveServer, consultation: Consultation, deputy_cookie: str
) -> None:
    ws, _ = await greeted(own_server, consultation.pk, deputy_cookie)

    def half_sent_request() -> bytes:
        with socket.create_connection(("127.0.0.1", int(own_server.url.rsplit(":", 1)[1])), timeout=GUARD_S) as conn:
            conn.sendall(b"GET /accounts/login/ HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # never finished
            return conn.recv(1024)  # b"" once the server closes it

    answer = await asyncio.to_thread(half_sent_request)
    alive = await still_open(ws)  # the WebSocket outlived the header timeout
    await ws.close()

    assert answer == b""
    assert alive


# --- 8. catching up: pong carries the numbers, sync returns what changed while away ------------------------


async def test_pong_carries_the_last_number_and_the_change_counter(
    daphne_server: LiveServer, consultation: Consultation, deputy: User, deputy_cookie: str
) -> None:
    ws, hello = await greeted(daphne_server, consultation.pk, deputy_cookie)

    def behind_the_sockets_back() -> None:
        message = chat.post_message(actor=deputy, consultation_id=consultation.pk, client_id="q", body="问")[0]
        chat.edit_message(actor=deputy, consultation_id=consultation.pk, message_id=message.pk, body="问题")

    await database_sync_to_async(behind_the_sockets_back)()
    await send(ws, {"type": "ping", "ref": 1})
    pong = (await frames_until(ws, of_type("pong")))[-1]
    await ws.close()

    assert (hello["consultation"]["last_seq"], hello["consultation"]["changes"]) == (2, 0)
    assert (pong["last_seq"], pong["changes"]) == (3, 1)


async def test_sync_returns_the_edits_and_deletions_made_while_the_client_was_away(
    daphne_server: LiveServer, consultation: Consultation, deputy: User, deputy_cookie: str
) -> None:
    def two_lines() -> list[Message]:
        return [
            chat.post_message(actor=deputy, consultation_id=consultation.pk, client_id=c, body=b)[0]
            for c, b in (("a", "第一句"), ("b", "第二句"))
        ]

    first, second = await database_sync_to_async(two_lines)()
    ws, hello = await greeted(daphne_server, consultation.pk, deputy_cookie)
    await ws.close()  # the client holds 1..4 and change 0

    def while_away() -> None:
        chat.edit_message(actor=deputy, consultation_id=consultation.pk, message_id=first.pk, body="第一句(改)")
        chat.delete_message(actor=deputy, consultation_id=consultation.pk, message_id=second.pk)
        chat.post_message(actor=deputy, consultation_id=consultation.pk, client_id="c", body="第三句")

    await database_sync_to_async(while_away)()
    ws, again = await greeted(daphne_server, consultation.pk, deputy_cookie)
    await send(ws, {"type": "sync", "after": 4, "changes_after": hello["consultation"]["changes"]})
    page = await receive(ws)
    await ws.close()

    assert again["consultation"]["changes"] == 2
    assert [m["seq"] for m in page["items"]] == [5]
    assert [(m["seq"], m["body"], m["edited"], m["deleted"]) for m in page["changed"]] == [
        (3, "第一句(改)", True, False),
        (4, "", False, True),
    ]
    assert page["changes"] == 2
