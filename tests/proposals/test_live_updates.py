"""Live updates of the proposal cycle through the real socket: watchers hear of every committed change,
the people who must act next get a notification with their unread count, strangers hear nothing."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.core import mail
from django.db import connection
from pytest_django.fixtures import Settings

from consult.models import Notification, User
from consult.notifications.services import mark_read, notify
from consult.tasks import email_notifications
from proposals import services
from proposals.models import Proposal
from tests.conftest import LiveServer
from tests.sockets import next_frame, open_greeted, send_frame, session_cookie

pytestmark = pytest.mark.django_db(transaction=True)


def _in_thread(action: Any) -> Any:
    try:
        return action()
    finally:
        connection.close()


async def run(action: Any) -> Any:
    """Run a service from this test (committing at once), off the event loop."""
    return await sync_to_async(_in_thread)(action)


@pytest.fixture
def watched(submitted: Proposal) -> Proposal:
    return submitted


async def test_proposer_watching_a_proposal_hears_its_registration(
    daphne_server: LiveServer, watched: Proposal, deputy: User, staff: User
) -> None:
    cookie = await run(lambda: session_cookie(deputy))
    async with await open_greeted(daphne_server, cookie) as ws:
        reply = await send_frame(ws, {"type": "subscribe", "topic": "proposal", "key": str(watched.pk)})

        await run(lambda: services.register(actor=staff, proposal_id=watched.pk))
        frames = [await next_frame(ws), await next_frame(ws)]

    assert reply["type"] == "subscribed"
    by_type = {frame["type"]: frame for frame in frames}
    assert by_type["proposal.changed"]["data"]["action"] == "register"
    assert by_type["proposal.changed"]["data"]["status"] == "registered"
    assert by_type["notification.new"]["data"]["kind"] == "proposal.registered"
    assert by_type["notification.new"]["data"]["unread"] >= 1


async def test_a_deputy_who_cannot_see_the_proposal_cannot_watch_it(
    daphne_server: LiveServer, watched: Proposal, cosigner: User
) -> None:
    cookie = await run(lambda: session_cookie(cosigner))
    async with await open_greeted(daphne_server, cookie) as ws:
        reply = await send_frame(ws, {"type": "subscribe", "topic": "proposal", "key": str(watched.pk)})

    assert (reply["type"], reply["code"]) == ("error", "forbidden")


def test_notify_counts_unread_and_mark_read_clears_them(deputy: User) -> None:
    notify([deputy.pk, deputy.pk], kind="test", title="您好")
    notify([deputy.pk], kind="test", title="再次")

    assert Notification.objects.filter(user=deputy, read_at__isnull=True).count() == 2

    assert mark_read(actor=deputy) == 2
    assert not Notification.objects.filter(user=deputy, read_at__isnull=True).exists()


def test_mark_read_never_touches_someone_elses_notifications(deputy: User, cosigner: User) -> None:
    theirs = notify([cosigner.pk], kind="test", title="别人的")[0]

    assert mark_read(actor=deputy, notification_ids=[theirs.pk]) == 0
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_email_notifications_go_to_users_with_an_address(deputy: User, cosigner: User, settings: Settings) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    User.objects.filter(pk=deputy.pk).update(email="wang@haibin.example.cn")
    created = notify([deputy.pk, cosigner.pk], kind="test", title="答复已送达")

    sent = email_notifications([n.pk for n in created])

    assert sent == 1
    assert mail.outbox[0].to == ["wang@haibin.example.cn"]
    assert mail.outbox[0].subject == "答复已送达"
