"""The chat socket (``/ws/consultations/<id>/``) end to end: real clients against the app under Daphne.

Data is set up with the services in this process and committed (``transactional_db``); the server shares the
test database and the Redis channel layer and cache (same prefix, see ``tests/services_plugin.py``).
To show that a frame does *not* arrive, a later message is sent as a marker: one Redis connection delivers
in publishing order, so the marker must come before anything published after it and after anything before.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.layers import InMemoryChannelLayer
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.core.cache import cache
from websockets.exceptions import InvalidStatus

from chat import services as chat
from chat.models import Message
from consult.desk import services as desk
from consult.models import Bureau, Consultation, ConsultationStatus, ExpertPresence, User
from consult.routing import websocket_urlpatterns
from tests.chat.conftest import Frame, chat_socket, frames_until, greeted, is_message, of_type, receive, send
from tests.conftest import LiveServer
from tests.sockets import close_code_after, open_greeted

pytestmark = pytest.mark.django_db(transaction=True)


def stored(consultation: Consultation) -> list[tuple[int, str]]:
    return list(Message.objects.filter(consultation=consultation).order_by("seq").values_list("seq", "client_id"))


async def stored_now(consultation: Consultation) -> list[tuple[int, str]]:
    return await database_sync_to_async(stored)(consultation)


def post(actor: User, consultation: Consultation, client_id: str, body: str = "你好") -> Message:
    return chat.post_message(actor=actor, consultation_id=consultation.pk, client_id=client_id, body=body)[0]


# --- who may connect ---------------------------------------------------------------------------------------


async def test_anonymous_visitor_is_closed_with_4401(daphne_server: LiveServer, consultation: Consultation) -> None:
    async with chat_socket(daphne_server, consultation.pk) as ws:
        code = await close_code_after(ws)

    assert code == 4401


async def test_a_deputy_of_another_consultation_is_closed_with_4403(
    daphne_server: LiveServer, consultation: Consultation, cosigner_cookie: str
) -> None:
    async with chat_socket(daphne_server, consultation.pk, cosigner_cookie) as ws:
        code = await close_code_after(ws)

    assert code == 4403


async def test_an_unknown_consultation_is_closed_with_4404(
    daphne_server: LiveServer, consultation: Consultation, deputy_cookie: str
) -> None:
    async with chat_socket(daphne_server, consultation.pk + 1000, deputy_cookie) as ws:
        code = await close_code_after(ws)

    assert code == 4404


@pytest.mark.parametrize("origin", ["http://evil.example", "http://127.0.0.1.evil.example"])
async def test_a_foreign_origin_is_refused_at_handshake(
    daphne_server: LiveServer, consultation: Consultation, deputy_cookie: str, origin: str
) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with chat_socket(daphne_server, consultation.pk, deputy_cookie, origin=origin):
            pass

    assert refused.value.response.status_code == 403


async def test_hello_shows_the_last_number_and_that_the_deputy_may_write(
    daphne_server: LiveServer, consultation: Consultation, deputy: User, deputy_cookie: str
) -> None:
    ws, hello = await greeted(daphne_server, consultation.pk, deputy_cookie)
    await ws.close()

    assert hello == {
        "v": 1,
        "type": "hello",
        "you": {"id": deputy.pk, "can_post": True},
        "consultation": {
            "id": consultation.pk,
            "status": ConsultationStatus.ACTIVE,
            "topic": "课后服务收费标准",
            "last_seq": 2,
            "changes": 0,
        },
        "read": {},
    }


# --- sending -----------------------------------------------------------------------------------------------


async def test_a_sent_message_is_acked_with_its_number_and_reaches_the_other_participant(
    daphne_server: LiveServer, consultation: Consultation, deputy: User, deputy_cookie: str, expert_cookie: str
) -> None:
    deputy_ws, _ = await greeted(daphne_server, consultation.pk, deputy_cookie)
    expert_ws, _ = await greeted(daphne_server, consultation.pk, expert_cookie)

    await send(deputy_ws, {"type": "send", "client_id": "c-1", "body": "请问课后服务怎么收费?"})
    to_sender = await frames_until(deputy_ws, of_type("ack"))
    to_expert = await frames_until(expert_ws, of_type("message"))
    await deputy_ws.close()
    await expert_ws.close()

    ack = to_sender[-1]
    assert (ack["client_id"], ack["seq"], ack["duplicate"]) == ("c-1", 3, False)
    message = to_expert[-1]["message"]
    assert (message["seq"], message["id"], message["client_id"]) == (3, ack["id"], "c-1")
    assert (message["sender"], message["body"], message["kind"]) == (deputy.pk, "请问课后服务怎么收费?", "text")
    assert await stored_now(consultation) == [(1, ""), (2, ""), (3, "c-1")]


async def test_a_resend_with_the_same_client_id_is_acked_as_duplicate_and_broadcast_to_nobody(
    daphne_server: LiveServer, consultation: Consultation, deputy_cookie: str, expert_cookie: str
) -> None:
    deputy_ws, _ = await greeted(daphne_server, consultation.pk, deputy_cookie)
    expert_ws, _ = await greeted(daphne_server, consultation.pk, expert_cookie)
    await send(deputy_ws, {"type": "send", "client_id": "again", "body": "第一次"})
    first = (await frames_until(deputy_ws, of_type("ack")))[-1]
    await frames_until(deputy_ws, is_message(3))
    await frames_until(expert_ws, is_message(3))

    await send(deputy_ws, {"type": "send", "client_id": "again", "body": "第一次"})
    duplicate = (await frames_until(deputy_ws, of_type("ack")))[-1]
    await send(expert_ws, {"type": "send", "client_id": "marker", "body": "收到"})
    seen_by_deputy = await frames_until(deputy_ws, is_message(4))
    seen_by_expert = await frames_until(expert_ws, is_message(4))
    await deputy_ws.close()
    await expert_ws.close()

    assert (duplicate["seq"], duplicate["id"], duplicate["duplicate"]) == (3, first["id"], True)
    assert [f["message"]["seq"] for f in seen_by_deputy if f["type"] == "message"] == [4]
    assert [f["message"]["seq"] for f in seen_by_expert if f["type"] == "message"] == [4]
    assert await stored_now(consultation) == [(1, ""), (2, ""), (3, "again"), (4, "marker")]


@pytest.mark.parametrize(
    ("frame", "code", "field"),
    [
        ({"type": "send", "client_id": "e", "body": "  "}, "invalid_input", "body"),
        ({"type": "send", "body": "没有编号"}, "invalid_input", "client_id"),
    ],
)
async def test_an_invalid_send_gets_an_error_frame_naming_the_field(
    daphne_server: LiveServer,
    consultation: Consultation,
    deputy_cookie: str,
    frame: Frame,
    code: str,
    field: str,
) -> None:
    async with chat_socket(daphne_server, consultation.pk, deputy_cookie) as ws:
        await receive(ws)
        await send(ws, frame)
        error = await receive(ws)

    assert (error["type"], error["code"], error["field"]) == ("error", code, field)
    assert await stored_now(consultation) == [(1, ""), (2, "")]


async def test_sending_after_the_end_gets_consultation_ended(
    daphne_server: LiveServer, consultation: Consultation, deputy: User, deputy_cookie: str
) -> None:
    await database_sync_to_async(desk.end_consultation)(actor=deputy, consultation_id=consultation.pk)

    async with chat_socket(daphne_server, consultation.pk, deputy_cookie) as ws:
        hello = await receive(ws)
        await send(ws, {"type": "send", "client_id": "late", "body": "还在吗"})
        error = await receive(ws)

    assert hello["consultation"]["status"] == ConsultationStatus.ENDED
    assert (error["code"], error["client_id"]) == ("consultation_ended", "late")


async def test_after_a_transfer_the_former_expert_is_refused_on_the_same_socket(
    daphne_server: LiveServer, consultation: Consultation, expert: User, bureau_b: Bureau, expert_cookie: str
) -> None:
    ws, hello = await greeted(daphne_server, consultation.pk, expert_cookie)
    await database_sync_to_async(desk.transfer_consultation)(
        actor=expert, consultation_id=consultation.pk, note="转交通委", to_bureau_id=bureau_b.pk
    )
    await send(ws, {"type": "send", "client_id": "after-transfer", "body": "我再补充一句"})
    error = (await frames_until(ws, of_type("error")))[-1]
    await ws.close()

    assert hello["you"]["can_post"] is True
    assert (error["code"], error["client_id"]) == ("not_allowed", "after-transfer")


@pytest.mark.parametrize(
    ("raw", "code"), [("{not json", "bad_json"), ("[1, 2]", "bad_frame"), ('{"type": "launch"}', "unknown_type")]
)
async def test_a_malformed_frame_gets_an_error_and_the_socket_stays_open(
    daphne_server: LiveServer, consultation: Consultation, deputy_cookie: str, raw: str, code: str
) -> None:
    async with chat_socket(daphne_server, consultation.pk, deputy_cookie) as ws:
        await receive(ws)
        await ws.send(raw)
        error = await receive(ws)
        await send(ws, {"type": "ping", "ref": "still-there"})
        pong = await receive(ws)

    assert (error["type"], error["code"]) == ("error", code)
    assert pong == {"v": 1, "type": "pong", "ref": "still-there", "last_seq": 2, "changes": 0}


# --- catching up ---------------------------------------------------------------------------------------------


@pytest.fixture
def eight_messages(consultation: Consultation, deputy: User, expert: User) -> Consultation:
    for n in range(6):
        post(deputy if n % 2 else expert, consultation, f"m{n}", f"第{n}条")
    return consultation  # numbers 1..8


async def test_sync_after_a_number_returns_exactly_the_later_messages(
    daphne_server: LiveServer, eight_messages: Consultation, deputy_cookie: str
) -> None:
    ws, hello = await greeted(daphne_server, eight_messages.pk, deputy_cookie)
    await send(ws, {"type": "sync", "after": 5})
    page = await receive(ws)
    await send(ws, {"type": "sync", "after": 8})
    nothing = await receive(ws)
    await send(ws, {"type": "sync"})
    everything = await receive(ws)
    await ws.close()

    assert hello["consultation"]["last_seq"] == 8
    assert page["type"] == "messages"
    assert [(m["seq"], m["client_id"]) for m in page["items"]] == [(6, "m3"), (7, "m4"), (8, "m5")]
    assert (page["more"], page["last_seq"]) == (False, 8)
    assert (nothing["items"], nothing["more"], nothing["last_seq"]) == ([], False, 8)
    assert [m["seq"] for m in everything["items"]] == list(range(1, 9))


@pytest.mark.parametrize("after", [-1, "3", None, 1.5])
async def test_sync_with_a_bad_number_gets_bad_frame(
    daphne_server: LiveServer, consultation: Consultation, deputy_cookie: str, after: Any
) -> None:
    async with chat_socket(daphne_server, consultation.pk, deputy_cookie) as ws:
        await receive(ws)
        await send(ws, {"type": "sync", "after": after})
        error = await receive(ws)

    assert (error["type"], error["code"]) == ("error", "bad_frame")


async def test_staff_connect_read_only_and_cannot_send(
    daphne_server: LiveServer, eight_messages: Consultation, staff_cookie: str
) -> None:
    ws, hello = await greeted(daphne_server, eight_messages.pk, staff_cookie)
    await send(ws, {"type": "sync", "after": 0})
    page = await receive(ws)
    await send(ws, {"type": "send", "client_id": "office", "body": "办公室插话"})
    error = await receive(ws)
    await send(ws, {"type": "read", "seq": 8})
    no_marker = await receive(ws)
    await ws.close()

    assert hello["you"]["can_post"] is False
    assert [m["seq"] for m in page["items"]] == list(range(1, 9))
    assert (error["type"], error["code"], error["client_id"]) == ("error", "not_allowed", "office")
    assert (no_marker["type"], no_marker["code"]) == ("error", "not_found")
    assert len(await stored_now(eight_messages)) == 8


# --- typing, read, edit, delete ------------------------------------------------------------------------------


async def test_typing_reaches_the_other_participant_but_not_the_typist(
    daphne_server: LiveServer, consultation: Consultation, deputy: User, deputy_cookie: str, expert_cookie: str
) -> None:
    deputy_ws, _ = await greeted(daphne_server, consultation.pk, deputy_cookie)
    expert_ws, _ = await greeted(daphne_server, consultation.pk, expert_cookie)

    await send(deputy_ws, {"type": "typing"})
    typing = await receive(expert_ws)
    await send(expert_ws, {"type": "send", "client_id": "marker", "body": "请讲"})
    seen_by_typist = await frames_until(deputy_ws, is_message(3))
    await deputy_ws.close()
    await expert_ws.close()

    assert typing == {"v": 1, "type": "typing", "user": deputy.pk, "name": "王建国"}
    assert [frame["type"] for frame in seen_by_typist] == ["message"]


async def test_the_office_reading_along_sends_no_typing(
    daphne_server: LiveServer, consultation: Consultation, staff_cookie: str, expert_cookie: str
) -> None:
    staff_ws, _ = await greeted(daphne_server, consultation.pk, staff_cookie)
    expert_ws, _ = await greeted(daphne_server, consultation.pk, expert_cookie)

    await send(staff_ws, {"type": "typing"})
    await send(staff_ws, {"type": "ping", "ref": "after-typing"})
    await receive(staff_ws)  # the pong: the typing frame was handled before it
    await send(expert_ws, {"type": "send", "client_id": "marker", "body": "请讲"})
    seen_by_expert = await frames_until(expert_ws, is_message(3))
    await staff_ws.close()
    await expert_ws.close()

    assert "typing" not in [frame["type"] for frame in seen_by_expert]


async def test_reading_up_to_a_number_is_told_to_everyone(
    daphne_server: LiveServer, eight_messages: Consultation, deputy: User, deputy_cookie: str, expert_cookie: str
) -> None:
    deputy_ws, _ = await greeted(daphne_server, eight_messages.pk, deputy_cookie)
    expert_ws, _ = await greeted(daphne_server, eight_messages.pk, expert_cookie)

    await send(deputy_ws, {"type": "read", "seq": 7})
    to_reader = await receive(deputy_ws)
    to_other = await receive(expert_ws)
    await deputy_ws.close()
    await expert_ws.close()
    _, hello_later = await greeted(daphne_server, eight_messages.pk, deputy_cookie)

    assert to_reader == to_other == {"v": 1, "type": "read", "user": deputy.pk, "seq": 7}
    assert hello_later["read"] == {str(deputy.pk): 7}


async def test_an_edit_and_a_delete_reach_everyone_and_the_number_stays(
    daphne_server: LiveServer, consultation: Consultation, deputy: User, deputy_cookie: str, expert_cookie: str
) -> None:
    message = await database_sync_to_async(post)(deputy, consultation, "typo", "收费标准是多少钱?")
    deputy_ws, _ = await greeted(daphne_server, consultation.pk, deputy_cookie)
    expert_ws, _ = await greeted(daphne_server, consultation.pk, expert_cookie)

    await send(deputy_ws, {"type": "edit", "id": message.pk, "body": "课后服务收费标准是多少?"})
    edited = await receive(expert_ws)
    await send(deputy_ws, {"type": "delete", "id": message.pk})
    deleted = await frames_until(expert_ws, of_type("deleted"))
    await send(expert_ws, {"type": "edit", "id": message.pk, "body": "改别人的"})
    refused = await frames_until(expert_ws, of_type("error"))
    await deputy_ws.close()
    await expert_ws.close()

    assert edited["type"] == "edited"
    assert (edited["message"]["seq"], edited["message"]["body"], edited["message"]["edited"]) == (
        3,
        "课后服务收费标准是多少?",
        True,
    )
    tombstone = deleted[-1]["message"]
    assert (tombstone["seq"], tombstone["body"], tombstone["deleted"]) == (3, "", True)
    assert (refused[-1]["code"], refused[-1]["id"]) == ("not_allowed", message.pk)


async def test_an_edit_with_a_non_numeric_id_gets_an_error_frame_and_the_socket_stays_open(
    daphne_server: LiveServer, consultation: Consultation, deputy_cookie: str
) -> None:
    async with chat_socket(daphne_server, consultation.pk, deputy_cookie) as ws:
        await receive(ws)
        await send(ws, {"type": "edit", "id": "abc", "body": "改"})
        error = await receive(ws)
        await send(ws, {"type": "ping", "ref": 1})
        pong = await receive(ws)

    assert (error["type"], error["code"]) == ("error", "bad_frame")
    assert pong["type"] == "pong"


# --- limits --------------------------------------------------------------------------------------------------


async def test_a_frame_over_16_kib_closes_the_socket_with_4413(
    daphne_server: LiveServer, consultation: Consultation, deputy_cookie: str
) -> None:
    async with chat_socket(daphne_server, consultation.pk, deputy_cookie) as ws:
        await receive(ws)
        await send(ws, {"type": "send", "client_id": "big", "body": "x" * (16 * 1024)})

        code = await close_code_after(ws)

    assert code == 4413
    assert await stored_now(consultation) == [(1, ""), (2, "")]


@pytest.fixture
def clean_rate_keys(deputy: User, expert: User) -> Any:
    def delete() -> None:
        for user in (deputy, expert):
            cache._cache.get_client(write=True).delete(chat.send_rate_key(user.pk))

    delete()
    yield
    delete()


@pytest.fixture
def deputy_out_of_sends(deputy: User, clean_rate_keys: None) -> None:
    """The deputy used up the sends of the last 60 seconds."""
    for _ in range(settings.CHAT_SEND_RATE_PER_MINUTE):
        assert chat.send_rate_wait(deputy.pk) == 0.0


async def test_a_deputy_over_the_send_rate_gets_rate_limited_with_a_retry_time_and_nothing_is_stored(
    daphne_server: LiveServer, consultation: Consultation, deputy_cookie: str, deputy_out_of_sends: None
) -> None:
    async with chat_socket(daphne_server, consultation.pk, deputy_cookie) as ws:
        await receive(ws)
        await send(ws, {"type": "send", "client_id": "flood", "body": "刷屏"})
        error = await receive(ws)

    assert (error["type"], error["code"], error["client_id"]) == ("error", "rate_limited", "flood")
    assert 0 < error["retry_after"] <= 60
    assert await stored_now(consultation) == [(1, ""), (2, "")]


async def test_a_resend_of_a_stored_message_over_the_send_rate_gets_its_duplicate_ack(
    daphne_server: LiveServer, consultation: Consultation, deputy: User, deputy_cookie: str, clean_rate_keys: None
) -> None:
    stored = await database_sync_to_async(post)(deputy, consultation, "kept", "已存")
    for _ in range(settings.CHAT_SEND_RATE_PER_MINUTE):
        await database_sync_to_async(chat.send_rate_wait)(deputy.pk)
    async with chat_socket(daphne_server, consultation.pk, deputy_cookie) as ws:
        await receive(ws)
        await send(ws, {"type": "send", "client_id": "kept", "body": "已存"})
        ack = await receive(ws)

    assert (ack["type"], ack["seq"], ack["id"], ack["duplicate"]) == ("ack", 3, stored.pk, True)


def test_the_send_rate_is_a_sliding_window_of_the_configured_number_per_user(
    settings: Any, deputy: User, expert: User, clean_rate_keys: None
) -> None:
    settings.CHAT_SEND_RATE_PER_MINUTE = 3

    deputy_sends = [chat.send_rate_wait(deputy.pk) for _ in range(5)]
    expert_sends = [chat.send_rate_wait(expert.pk)]
    # The window slides: the oldest send leaves it 60 s after it was made, whatever the clock minute.
    client = cache._cache.get_client(write=True)
    key = chat.send_rate_key(deputy.pk)
    oldest = client.zrange(key, 0, 0, withscores=True)[0]
    client.zadd(key, {oldest[0]: oldest[1] - 61_000})
    after_the_oldest_left = [chat.send_rate_wait(deputy.pk) for _ in range(2)]

    assert deputy_sends[:3] == [0.0, 0.0, 0.0]
    assert all(0 < wait <= 60 for wait in deputy_sends[3:])
    assert expert_sends == [0.0]
    assert after_the_oldest_left[0] == 0.0
    assert after_the_oldest_left[1] > 0


# --- presence from the live socket ---------------------------------------------------------------------------


@pytest.fixture
def waiting(deputy: User, expert: User) -> Consultation:
    """The deputy asks bureau A while its only expert is offline: the consultation waits."""
    consultation = desk.start_consultation(actor=deputy, bureau_id=expert.expert_profile.bureau_id, topic="学区划分")
    assert Consultation.objects.get(pk=consultation.pk).status == ConsultationStatus.QUEUED
    return consultation


async def test_an_expert_opening_the_workbench_becomes_present_and_takes_the_waiting_consultation(
    daphne_server: LiveServer, waiting: Consultation, expert: User, deputy_cookie: str, expert_cookie: str
) -> None:
    deputy_live = await open_greeted(daphne_server, deputy_cookie)

    expert_live = await open_greeted(daphne_server, expert_cookie)
    assigned = await frames_until(expert_live, of_type("consultation.assigned"))
    changed = await frames_until(
        deputy_live, lambda f: f["type"] == "consultation.changed" and f["data"].get("action") == "assigned"
    )
    presence = await database_sync_to_async(ExpertPresence.objects.get)(expert__user=expert)
    taken = await database_sync_to_async(Consultation.objects.get)(pk=waiting.pk)
    await expert_live.close()
    await deputy_live.close()
    gone = await until_offline(expert)

    assert assigned[-1]["data"] == {"id": waiting.pk, "topic": "学区划分"}
    assert changed[-1]["data"]["id"] == waiting.pk
    assert changed[-1]["data"]["status"] == ConsultationStatus.ACTIVE
    assert (presence.connections, presence.status, desk.is_present(presence)) == (1, "online", True)
    assert (taken.status, taken.expert_id) == (ConsultationStatus.ACTIVE, expert.expert_profile.pk)
    assert (gone.connections, desk.is_present(gone)) == (0, False)


async def until_offline(expert: User) -> ExpertPresence:
    """The presence once the server has handled the closed workbench (bounded: at most 100 looks).

    Waiting also keeps the server's write from racing the flush of the test database at teardown.
    """
    for _ in range(100):
        presence = await database_sync_to_async(ExpertPresence.objects.get)(expert__user=expert)
        if presence.connections == 0:
            break
        await asyncio.sleep(0.1)
    return presence


# --- the hello and the group: nothing falls between them -----------------------------------------------------


class MessageDuringJoin(InMemoryChannelLayer):
    """A test double of the channel layer (in process): while a socket joins its chat group, the other
    participant's message is committed. No real server lets a test choose that moment, so this layer makes it.
    """

    poster: tuple[User, int] | None = None

    async def group_add(self, group: str, channel: str) -> None:
        if group.startswith("chat.") and MessageDuringJoin.poster is not None:
            actor, consultation_id = MessageDuringJoin.poster
            MessageDuringJoin.poster = None
            await database_sync_to_async(chat.post_message)(
                actor=actor, consultation_id=consultation_id, client_id="during-join", body="刚好在连接时发出"
            )
        await super().group_add(group, channel)


async def test_a_message_committed_while_joining_is_in_the_hello_or_delivered(
    settings: Any, consultation: Consultation, deputy: User, expert: User
) -> None:
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": f"{__name__}.MessageDuringJoin"}}
    MessageDuringJoin.poster = (expert, consultation.pk)
    router = URLRouter(websocket_urlpatterns)

    async def as_deputy(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await router({**scope, "user": deputy}, receive, send)

    communicator = WebsocketCommunicator(as_deputy, f"/ws/consultations/{consultation.pk}/")
    connected, _ = await communicator.connect()
    hello = json.loads(await communicator.receive_from())
    delivered = not await communicator.receive_nothing(timeout=0.5)
    await communicator.disconnect()

    assert connected
    assert hello["consultation"]["last_seq"] == 3 or delivered
