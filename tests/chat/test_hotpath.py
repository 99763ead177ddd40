"""The socket's send on the event loop (``chat.hotpath``) stores, numbers, refuses and broadcasts exactly like
``chat.services.post_message``: the chat socket tests (test_consumer, test_socket_limits, test_faults) run through
it under Daphne; these check it directly, beside the thread path, on PostgreSQL with Redis."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.forms.models import model_to_dict

from chat import hotpath
from chat import services as chat
from chat.models import Message
from chat.selectors import message_payload
from consult.kernel.exceptions import InvalidTransition, NotAllowed, NotFound
from consult.models import Consultation, ConsultationStatus, User
from search.models import PendingChange

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
async def on_the_loop() -> AsyncIterator[None]:
    if not hotpath.available():
        pytest.skip("the hot path runs on PostgreSQL with Redis (the thread path is used elsewhere)")
    yield
    await hotpath.close()  # this test's loop ends: its connections with it


def row(message_id: int) -> dict[str, Any]:
    found = model_to_dict(Message.objects.get(pk=message_id))
    return {k: v for k, v in found.items() if k not in ("id", "seq", "client_id", "created_at")}


def last_seq(consultation: Consultation) -> int:
    return Consultation.objects.get(pk=consultation.pk).last_seq


async def test_a_send_stores_the_row_post_message_stores_and_queues_it_for_search(
    on_the_loop: None, consultation: Consultation, deputy: User
) -> None:
    message, created = await hotpath.send(deputy, consultation.pk, " hp-1 ", "  你好，课后服务  ")
    by_the_service, _ = await database_sync_to_async(chat.post_message)(
        actor=deputy, consultation_id=consultation.pk, client_id="svc-1", body="  你好，课后服务  "
    )

    assert created
    assert (message.seq, message.client_id, message.body) == (3, "hp-1", "你好，课后服务")
    assert await database_sync_to_async(row)(message.pk) == await database_sync_to_async(row)(by_the_service.pk)
    assert await database_sync_to_async(last_seq)(consultation) == 4
    queued = PendingChange.objects.filter(label="message", object_id=message.pk)
    assert await database_sync_to_async(queued.exists)()


async def test_the_broadcast_follows_the_commit_with_the_stored_message(
    on_the_loop: None, consultation: Consultation, expert: User
) -> None:
    layer = get_channel_layer()
    assert layer is not None
    channel = await layer.new_channel()
    await layer.group_add(chat.group_name(consultation.pk), channel)
    try:
        message, _ = await hotpath.send(expert, consultation.pk, "hp-2", "收到")
        event = await asyncio.wait_for(layer.receive(channel), 5)
    finally:
        await layer.group_discard(chat.group_name(consultation.pk), channel)

    stored = await database_sync_to_async(Message.objects.select_related("sender").get)(pk=message.pk)
    assert event == {"type": "chat.event", "event": {"type": "message", "message": message_payload(stored)}}


async def test_concurrent_sends_of_both_sides_get_every_number_once(
    on_the_loop: None, consultation: Consultation, deputy: User, expert: User
) -> None:
    sends = [hotpath.send((deputy, expert)[i % 2], consultation.pk, f"c-{i}", f"第{i}条") for i in range(40)]
    results = await asyncio.gather(*sends)

    assert all(created for _, created in results)
    assert sorted(m.seq for m, _ in results) == list(range(3, 43))
    assert await database_sync_to_async(last_seq)(consultation) == 42


async def test_a_resend_returns_the_stored_message_and_takes_no_number(
    on_the_loop: None, consultation: Consultation, deputy: User
) -> None:
    first, _ = await hotpath.send(deputy, consultation.pk, "again", "一次")
    again, created = await hotpath.send(deputy, consultation.pk, "again", "一次")

    assert (again.pk, again.seq, created) == (first.pk, first.seq, False)
    assert await database_sync_to_async(last_seq)(consultation) == first.seq


async def test_refusals_are_the_services_and_take_no_number(
    on_the_loop: None, consultation: Consultation, staff: User, deputy: User
) -> None:
    with pytest.raises(NotAllowed):
        await hotpath.send(staff, consultation.pk, "s-1", "旁听")
    with pytest.raises(NotFound):
        await hotpath.send(deputy, consultation.pk + 1000, "s-2", "无此咨询")
    ended = Consultation.objects.filter(pk=consultation.pk)
    await database_sync_to_async(ended.update)(status=ConsultationStatus.ENDED)
    with pytest.raises(InvalidTransition) as refused:
        await hotpath.send(deputy, consultation.pk, "s-3", "结束以后")

    assert refused.value.code == "consultation_ended"
    assert await database_sync_to_async(last_seq)(consultation) == 2
