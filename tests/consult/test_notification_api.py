"""The notifications API at /api/notifications/: each user reads only their own, newest first, and marks them read."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from consult.models import Notification, User
from consult.notifications.services import notify
from consult.people.roles import Chamber
from proposals import services
from proposals.models import ProposalSession
from tests.proposals.conftest import content

ClientFor = Callable[[User], Client]


@pytest.fixture
def client_for() -> ClientFor:
    def make(user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make


@pytest.fixture
def inbox(deputy: User, cosigner: User) -> list[Notification]:
    """Three notifications of the deputy, oldest first (one already read), and one of somebody else."""
    mine = [notify([deputy.pk], kind="test", title=f"第{n}条", url=f"/proposals/{n}/")[0] for n in (1, 2, 3)]
    now = timezone.now()
    for age, notification in zip((3, 2, 1), mine, strict=True):
        Notification.objects.filter(pk=notification.pk).update(created_at=now - timedelta(hours=age))
    Notification.objects.filter(pk=mine[0].pk).update(read_at=now)
    notify([cosigner.pk], kind="test", title="别人的")
    return mine


def read_ids(user: User) -> set[int]:
    return set(Notification.objects.filter(user=user, read_at__isnull=False).values_list("pk", flat=True))


def mark(client: Client, data: dict[str, Any]) -> Any:
    return client.post("/api/notifications/read/", data=json.dumps(data), content_type="application/json")


def test_a_user_lists_their_own_notifications_newest_first_with_the_unread_count(
    client_for: ClientFor, deputy: User, inbox: list[Notification]
) -> None:
    response = client_for(deputy).get("/api/notifications/")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results", "unread"}
    assert (body["count"], body["unread"]) == (3, 2)
    assert [item["title"] for item in body["results"]] == ["第3条", "第2条", "第1条"]
    first = body["results"][0]
    assert set(first) == {"id", "kind", "title", "url", "created_at", "read_at"}
    assert (first["kind"], first["url"], first["read_at"]) == ("test", "/proposals/3/", None)
    assert body["results"][-1]["read_at"] is not None
    assert "别人的" not in response.content.decode()


def test_the_office_does_not_read_other_peoples_notifications(
    client_for: ClientFor, staff: User, inbox: list[Notification]
) -> None:
    body = client_for(staff).get("/api/notifications/").json()

    assert (body["count"], body["unread"], body["results"]) == (0, 0, [])


def test_marking_some_read_by_id(
    client_for: ClientFor, deputy: User, cosigner: User, inbox: list[Notification]
) -> None:
    others = list(Notification.objects.filter(user=cosigner).values_list("pk", flat=True))

    response = mark(client_for(deputy), {"ids": [inbox[1].pk, *others]})

    assert response.status_code == 200
    assert response.json() == {"marked": 1, "unread": 1}
    assert read_ids(deputy) == {inbox[0].pk, inbox[1].pk}
    assert read_ids(cosigner) == set()  # somebody else's ids are ignored


def test_marking_all_read_with_an_empty_body(
    client_for: ClientFor, deputy: User, cosigner: User, inbox: list[Notification]
) -> None:
    response = mark(client_for(deputy), {})

    assert response.json() == {"marked": 2, "unread": 0}
    assert read_ids(deputy) == {n.pk for n in inbox}
    assert read_ids(cosigner) == set()


def test_an_empty_id_list_marks_nothing(client_for: ClientFor, deputy: User, inbox: list[Notification]) -> None:
    assert mark(client_for(deputy), {"ids": []}).json() == {"marked": 0, "unread": 2}


@pytest.mark.parametrize("ids", ["all", ["one"], [None]])
def test_bad_ids_give_400_naming_ids(client_for: ClientFor, deputy: User, inbox: list[Notification], ids: Any) -> None:
    response = mark(client_for(deputy), {"ids": ids})

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_input"
    assert [name for name in body["fields"] if name == "ids" or name.startswith("ids.")]  # ids, or ids.<n> for one item
    assert body["message"].startswith("ids")
    assert read_ids(deputy) == {inbox[0].pk}


@pytest.mark.parametrize(("method", "path"), [("get", "/api/notifications/"), ("post", "/api/notifications/read/")])
def test_anonymous_visitor_is_refused(client: Client, inbox: list[Notification], method: str, path: str) -> None:
    response = getattr(client, method)(path)

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert Notification.objects.filter(read_at__isnull=False).count() == 1


def test_a_proposal_action_notifies_the_proposer_with_a_link_to_it(
    client_for: ClientFor, deputy: User, staff: User
) -> None:
    # given the deputy's submitted proposal
    ProposalSession.objects.create(chamber=Chamber.NPC, year=2027, name="第三次会议", number_prefix="建", is_open=True)
    submitted = services.create_draft(actor=deputy, content=content())
    services.submit(actor=deputy, proposal_id=submitted.pk)

    # when the office registers it
    services.register(actor=staff, proposal_id=submitted.pk)

    # then the deputy finds a notification pointing at the proposal's page
    body = client_for(deputy).get("/api/notifications/").json()
    assert body["unread"] == 1
    (item,) = body["results"]
    assert item["kind"] == "proposal.registered"
    assert item["url"] == f"/proposals/{submitted.pk}/"


def test_schema_documents_the_notification_api(client_for: ClientFor, staff: User) -> None:
    schema = client_for(staff).get("/api/schema/", {"format": "json"}).json()

    assert "get" in schema["paths"]["/api/notifications/"]
    assert "post" in schema["paths"]["/api/notifications/read/"]
    page = schema["components"]["schemas"]["PaginatedNotificationList"]
    assert "unread" in page["required"]
