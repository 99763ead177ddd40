"""The live-events socket (``/ws/live/``) end to end: a real client against the app under Daphne.

Events are published from this process with :func:`consult.realtime.catalogue.publish` on the same Redis channel
layer the server listens on (both share ``CHANNEL_LAYER_PREFIX``, set by ``tests/services_plugin.py``).
To show that an event does *not* arrive, a marker event is published after it on the listener's own
user topic: the layer keeps one publisher's order, so the next frame must be the marker.
"""

from __future__ import annotations

import json

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus

from consult.models import Bureau, User
from consult.realtime import topics as live
from tests.conftest import LiveServer
from tests.sockets import (
    close_code_after,
    expect_only_marker_next,
    next_frame,
    open_greeted,
    open_socket,
    publish,
    publish_rolled_back,
    send_frame,
)

pytestmark = pytest.mark.django_db(transaction=True)

# --- who may connect ---------------------------------------------------------


async def test_anonymous_visitor_is_refused(daphne_server: LiveServer) -> None:
    with pytest.raises((InvalidStatus, ConnectionClosed)):
        async with open_socket(daphne_server) as ws:
            await next_frame(ws)


async def test_anonymous_visitor_is_closed_with_4401(daphne_server: LiveServer) -> None:
    async with open_socket(daphne_server) as ws:
        code = await close_code_after(ws)

    assert code == 4401


@pytest.mark.parametrize("origin", ["http://evil.example", "http://127.0.0.1.evil.example"])
async def test_foreign_origin_is_refused_at_handshake(
    daphne_server: LiveServer, deputy_cookie: str, origin: str
) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with open_socket(daphne_server, deputy_cookie, origin=origin):
            pass

    assert refused.value.response.status_code == 403


async def test_signed_in_user_is_greeted_with_hello(
    daphne_server: LiveServer, deputy: User, deputy_cookie: str
) -> None:
    async with open_socket(daphne_server, deputy_cookie) as ws:
        hello = await next_frame(ws)

    assert hello["v"] == live.PROTOCOL_VERSION == 1
    assert hello["type"] == "hello"
    assert hello["user"] == deputy.pk
    assert {"user", "bureau"} <= set(hello["topics"])


# --- the own user topic ------------------------------------------------------


async def test_event_on_own_user_topic_arrives(daphne_server: LiveServer, deputy: User, deputy_cookie: str) -> None:
    async with await open_greeted(daphne_server, deputy_cookie) as ws:
        await publish("user", deputy.pk, "ping.test", {"text": "你好", "n": 7})

        event = await next_frame(ws)

    assert event == {
        "v": 1,
        "type": "ping.test",
        "topic": "user",
        "key": str(deputy.pk),
        "data": {"text": "你好", "n": 7},
    }


async def test_event_published_in_rolled_back_transaction_never_arrives(
    daphne_server: LiveServer, deputy: User, deputy_cookie: str
) -> None:
    async with await open_greeted(daphne_server, deputy_cookie) as ws:
        await publish_rolled_back("user", deputy.pk, "rolled.back", {"n": 0})

        await expect_only_marker_next(ws, deputy.pk)


async def test_user_cannot_unsubscribe_from_own_user_topic(
    daphne_server: LiveServer, deputy: User, deputy_cookie: str
) -> None:
    async with await open_greeted(daphne_server, deputy_cookie) as ws:
        reply = await send_frame(ws, {"type": "unsubscribe", "topic": "user", "key": str(deputy.pk)})
        await publish("user", deputy.pk, "still.here", {})

        event = await next_frame(ws)

    assert (reply["type"], reply["code"]) == ("error", "forbidden")
    assert event["type"] == "still.here"


# --- subscribing to more topics ---------------------------------------------


async def test_user_cannot_subscribe_to_another_users_topic(
    daphne_server: LiveServer, deputy: User, deputy_cookie: str, handler: User
) -> None:
    async with await open_greeted(daphne_server, deputy_cookie) as ws:
        reply = await send_frame(ws, {"type": "subscribe", "topic": "user", "key": str(handler.pk)})
        await publish("user", handler.pk, "secret.test", {"for": "handler"})

        await expect_only_marker_next(ws, deputy.pk)

    assert reply["type"] == "error"
    assert reply["code"] == "forbidden"
    assert (reply["topic"], reply["key"]) == ("user", str(handler.pk))


async def test_deputy_cannot_subscribe_to_a_bureau(
    daphne_server: LiveServer, deputy: User, deputy_cookie: str, bureau_a: Bureau
) -> None:
    async with await open_greeted(daphne_server, deputy_cookie) as ws:
        reply = await send_frame(ws, {"type": "subscribe", "topic": "bureau", "key": str(bureau_a.pk)})
        await publish("bureau", bureau_a.pk, "queue.changed", {})

        await expect_only_marker_next(ws, deputy.pk)

    assert (reply["type"], reply["code"]) == ("error", "forbidden")


async def test_handler_cannot_subscribe_to_another_bureau(
    daphne_server: LiveServer, handler: User, handler_cookie: str, bureau_a: Bureau
) -> None:
    async with await open_greeted(daphne_server, handler_cookie) as ws:
        reply = await send_frame(ws, {"type": "subscribe", "topic": "bureau", "key": str(bureau_a.pk)})
        await publish("bureau", bureau_a.pk, "queue.changed", {})

        await expect_only_marker_next(ws, handler.pk)

    assert (reply["type"], reply["code"]) == ("error", "forbidden")


async def test_deputy_cannot_subscribe_to_bureau_none(daphne_server: LiveServer, deputy_cookie: str) -> None:
    async with await open_greeted(daphne_server, deputy_cookie) as ws:
        reply = await send_frame(ws, {"type": "subscribe", "topic": "bureau", "key": "None"})

    assert (reply["type"], reply.get("code")) == ("error", "forbidden")


async def test_unknown_topic_is_forbidden(daphne_server: LiveServer, staff_cookie: str) -> None:
    async with await open_greeted(daphne_server, staff_cookie) as ws:
        reply = await send_frame(ws, {"type": "subscribe", "topic": "nonsense", "key": "1"})

    assert (reply["type"], reply["code"]) == ("error", "forbidden")


async def test_expert_receives_events_of_own_bureau(
    daphne_server: LiveServer, expert_cookie: str, bureau_a: Bureau
) -> None:
    async with await open_greeted(daphne_server, expert_cookie) as ws:
        reply = await send_frame(ws, {"type": "subscribe", "topic": "bureau", "key": str(bureau_a.pk)})
        await publish("bureau", bureau_a.pk, "queue.changed", {"waiting": 3})

        event = await next_frame(ws)

    assert reply == {"v": 1, "type": "subscribed", "topic": "bureau", "key": str(bureau_a.pk)}
    assert event == {
        "v": 1,
        "type": "queue.changed",
        "topic": "bureau",
        "key": str(bureau_a.pk),
        "data": {"waiting": 3},
    }


async def test_staff_may_subscribe_to_any_bureau(
    daphne_server: LiveServer, staff_cookie: str, bureau_a: Bureau, bureau_b: Bureau
) -> None:
    async with await open_greeted(daphne_server, staff_cookie) as ws:
        replies = [
            await send_frame(ws, {"type": "subscribe", "topic": "bureau", "key": str(bureau.pk)})
            for bureau in (bureau_a, bureau_b)
        ]
        await publish("bureau", bureau_b.pk, "queue.changed", {"bureau": "b"})
        await publish("bureau", bureau_a.pk, "queue.changed", {"bureau": "a"})

        events = [await next_frame(ws), await next_frame(ws)]

    assert [reply["type"] for reply in replies] == ["subscribed", "subscribed"]
    assert [(event["key"], event["data"]) for event in events] == [
        (str(bureau_b.pk), {"bureau": "b"}),
        (str(bureau_a.pk), {"bureau": "a"}),
    ]


async def test_unsubscribe_stops_delivery(
    daphne_server: LiveServer, expert: User, expert_cookie: str, bureau_a: Bureau
) -> None:
    async with await open_greeted(daphne_server, expert_cookie) as ws:
        await send_frame(ws, {"type": "subscribe", "topic": "bureau", "key": str(bureau_a.pk)})
        reply = await send_frame(ws, {"type": "unsubscribe", "topic": "bureau", "key": str(bureau_a.pk)})
        await publish("bureau", bureau_a.pk, "queue.changed", {})

        await expect_only_marker_next(ws, expert.pk)

    assert reply == {"v": 1, "type": "unsubscribed", "topic": "bureau", "key": str(bureau_a.pk)}


# --- malformed frames --------------------------------------------------------


async def test_ping_is_answered_with_pong_echoing_ref(daphne_server: LiveServer, deputy_cookie: str) -> None:
    async with await open_greeted(daphne_server, deputy_cookie) as ws:
        reply = await send_frame(ws, {"type": "ping", "ref": "abc-123"})

    assert reply == {"v": 1, "type": "pong", "ref": "abc-123"}


async def test_bad_json_gets_error_frame(daphne_server: LiveServer, deputy_cookie: str) -> None:
    async with await open_greeted(daphne_server, deputy_cookie) as ws:
        await ws.send("{not json")
        reply = await next_frame(ws)
        still_open = await send_frame(ws, {"type": "ping", "ref": 1})

    assert (reply["type"], reply["code"]) == ("error", "bad_json")
    assert still_open["type"] == "pong"


async def test_frame_without_type_gets_bad_frame(daphne_server: LiveServer, deputy_cookie: str) -> None:
    async with await open_greeted(daphne_server, deputy_cookie) as ws:
        reply = await send_frame(ws, {"topic": "user"})

    assert (reply["type"], reply["code"]) == ("error", "bad_frame")


async def test_unknown_frame_type_gets_error_frame(daphne_server: LiveServer, deputy_cookie: str) -> None:
    async with await open_greeted(daphne_server, deputy_cookie) as ws:
        reply = await send_frame(ws, {"type": "launch"})

    assert (reply["type"], reply["code"]) == ("error", "unknown_type")


async def test_frame_over_4096_bytes_closes_with_4413(daphne_server: LiveServer, deputy_cookie: str) -> None:
    async with await open_greeted(daphne_server, deputy_cookie) as ws:
        await ws.send(json.dumps({"type": "ping", "ref": "x" * 4096}))

        code = await close_code_after(ws)

    assert code == 4413


async def test_a_notification_is_worded_in_each_sockets_language(
    daphne_server: LiveServer, deputy: User, deputy_cookie: str
) -> None:
    from django.conf import settings

    english_cookie = f"{deputy_cookie}; {settings.LANGUAGE_COOKIE_NAME}=en"
    async with (
        await open_greeted(daphne_server, english_cookie) as english,
        await open_greeted(daphne_server, deputy_cookie) as chinese,
    ):
        data = {"id": 1, "kind": "proposal.registered", "title": "您的建议已登记：关于加装电梯的建议", "url": "/"}
        await publish("user", deputy.pk, "notification.new", {**data, "params": {"subject": "关于加装电梯的建议"}})

        in_english = (await next_frame(english))["data"]["title"]
        in_chinese = (await next_frame(chinese))["data"]["title"]

    assert in_english == "Your proposal was registered: 关于加装电梯的建议"
    assert in_chinese == "您的建议提案已立案：关于加装电梯的建议"
