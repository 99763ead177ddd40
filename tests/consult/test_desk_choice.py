"""The deputy's desk (issue 15, point 6): bureaus by who is online, service hours, a queue position with an
expected wait, and the bureau page that leads to consulting it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from consult.desk import services as desk
from consult.desk.selectors import DEFAULT_HANDLING, desk_bureaus, expected_wait, handling_time
from consult.models import Bureau, Consultation, ConsultationStatus, ExpertPresence, PresenceStatus, User
from tests.factories import ExpertProfileFactory

pytestmark = pytest.mark.django_db


def online(expert: User) -> None:
    ExpertPresence.objects.update_or_create(
        expert=expert.expert_profile,
        defaults={"status": PresenceStatus.ONLINE, "connections": 1, "last_seen": timezone.now()},
    )


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_bureaus_with_experts_online_come_first(deputy: User, bureau_a: Bureau, bureau_b: Bureau) -> None:
    Bureau.objects.filter(pk=bureau_a.pk).update(sort_order=0)
    Bureau.objects.filter(pk=bureau_b.pk).update(sort_order=1)
    online(ExpertProfileFactory(bureau=bureau_b).user)

    rows = desk_bureaus(deputy)

    assert [(row.bureau.pk, row.online) for row in rows][:2] == [(bureau_b.pk, 1), (bureau_a.pk, 0)]


def test_the_expected_wait_is_the_queue_ahead_shared_by_the_experts_online(
    deputy: User, expert: User, bureau_a: Bureau
) -> None:
    # an expert who is busy (capacity 1 taken) and one more online: two share the queue
    online(expert)
    busy = desk.start_consultation(actor=deputy, bureau_id=bureau_a.pk, topic="第一件")
    desk.route_bureau(bureau_id=bureau_a.pk)
    second = ExpertProfileFactory(bureau=bureau_a).user
    ended_at = timezone.now() - timedelta(days=1)
    past = Consultation.objects.create(
        deputy=deputy, bureau=bureau_a, topic="上次", status=ConsultationStatus.ENDED, created_at=ended_at
    )
    Consultation.objects.filter(pk=past.pk).update(assigned_at=ended_at - timedelta(minutes=20), ended_at=ended_at)
    assert handling_time(bureau_a.pk) == timedelta(minutes=20)
    online(second)
    waiting = Consultation.objects.create(
        deputy=deputy, bureau=bureau_a, topic="排队中", status=ConsultationStatus.QUEUED, created_at=timezone.now()
    )

    position = desk.queue_position(waiting)

    assert busy.pk != waiting.pk
    assert position == 1
    assert expected_wait(waiting, position) == 10  # 1 ahead-or-at-head × 20 min ÷ 2 experts online
    assert expected_wait(waiting, None) is None


def test_nobody_online_means_no_estimate_and_no_history_means_the_default(deputy: User, bureau_b: Bureau) -> None:
    waiting = Consultation.objects.create(
        deputy=deputy, bureau=bureau_b, topic="排队中", status=ConsultationStatus.QUEUED, created_at=timezone.now()
    )

    assert handling_time(bureau_b.pk) == DEFAULT_HANDLING
    assert expected_wait(waiting, 1) is None


def test_the_desk_lists_service_hours_and_the_wait(deputy: User, expert: User, bureau_a: Bureau) -> None:
    Bureau.objects.filter(pk=bureau_a.pk).update(service_hours="工作日 8:30–17:00")
    online(expert)
    Consultation.objects.create(
        deputy=deputy, bureau=bureau_a, topic="排队中", status=ConsultationStatus.QUEUED, created_at=timezone.now()
    )

    page = signed_in(deputy).get(reverse("desk")).content.decode()

    assert "工作日 8:30–17:00" in page
    assert "data-bureau-filter" in page
    assert "预计等待约 8 分钟" in page  # the default length, one expert online


def test_the_bureau_page_shows_who_is_online_and_leads_a_deputy_to_ask(
    deputy: User, expert: User, handler: User, bureau_a: Bureau
) -> None:
    online(expert)
    url = reverse("bureau-detail", args=[bureau_a.code])

    as_deputy = signed_in(deputy).get(url).content.decode()
    as_handler = signed_in(handler).get(url).content.decode()

    ask = f'href="{reverse("desk")}?bureau={bureau_a.pk}#start"'
    assert ask in as_deputy
    assert ask not in as_handler
    assert f'data-expert="{expert.expert_profile.pk}"><span class="dot" data-online="1">' in as_deputy
    assert 'data-online-count="1"' in as_deputy
