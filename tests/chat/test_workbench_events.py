"""Every stored message is also announced on the live topic ``consultation.<id>`` (``consultation.message``), for
pages that list consultations without opening their chat: the expert's workbench re-reads its unread badges and
alerts at once. Real sockets against the app under Daphne; both ways a message is stored (the socket's hot path
and the service behind REST)."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.db import connection

from chat import services
from consult.models import Consultation, User
from tests.chat.conftest import greeted, receive
from tests.conftest import LiveServer
from tests.sockets import next_frame, open_greeted, send_frame, session_cookie

pytestmark = pytest.mark.django_db(transaction=True)


def _in_thread(action: Any) -> Any:
    try:
        return action()
    finally:
        connection.close()


async def run(action: Any) -> Any:
    return await sync_to_async(_in_thread)(action)


async def next_of_type(ws: Any, kind: str) -> dict[str, Any]:
    for _ in range(20):
        frame = await next_frame(ws)
        if frame["type"] == kind:
            return frame
    raise AssertionError(f"no {kind} frame")


async def test_the_experts_live_socket_hears_each_new_message_of_the_consultation(
    daphne_server: LiveServer, consultation: Consultation, deputy: User, expert: User
) -> None:
    expert_cookie = await run(lambda: session_cookie(expert))
    deputy_cookie = await run(lambda: session_cookie(deputy))
    async with await open_greeted(daphne_server, expert_cookie) as live:
        subscribed = await send_frame(live, {"type": "subscribe", "topic": "consultation", "key": str(consultation.pk)})

        # the socket's hot path
        chat, _hello = await greeted(daphne_server, consultation.pk, deputy_cookie)
        async with chat:
            await chat.send('{"type": "send", "client_id": "w-1", "body": "您好"}')
            while (await receive(chat))["type"] != "ack":
                pass
            by_socket = await next_of_type(live, "consultation.message")

        # the service behind REST
        await run(
            lambda: services.post_message(actor=deputy, consultation_id=consultation.pk, client_id="w-2", body="在吗")
        )
        by_service = await next_of_type(live, "consultation.message")

    assert subscribed["type"] == "subscribed"
    assert (by_socket["topic"], by_socket["key"]) == ("consultation", str(consultation.pk))
    assert by_socket["data"] == {"seq": 3, "sender": deputy.pk}
    assert by_service["data"] == {"seq": 4, "sender": deputy.pk}


async def test_someone_who_may_not_read_the_consultation_cannot_listen_to_it(
    daphne_server: LiveServer, consultation: Consultation, cosigner: User
) -> None:
    cookie = await run(lambda: session_cookie(cosigner))
    async with await open_greeted(daphne_server, cookie) as live:
        reply = await send_frame(live, {"type": "subscribe", "topic": "consultation", "key": str(consultation.pk)})

    assert (reply["type"], reply["code"]) == ("error", "forbidden")
