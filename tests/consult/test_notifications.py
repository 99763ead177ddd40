"""Notifications behind one delivery interface: preferences, opening, the daily digest, the signed webhook with
retries (against a real HTTP server on a local port), and the desk's waiting consultations."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone, translation
from pytest_django.fixtures import Settings as SettingsWrapper

from consult.desk import services as desk
from consult.kernel.exceptions import InvalidInput, NotFound
from consult.models import Bureau, Notification, NotificationPreference, User
from consult.notifications import delivery
from consult.notifications.services import (
    PreferenceChange,
    notify,
    open_notification,
    send_digests,
    set_preferences,
)
from tests.factories import ExpertProfileFactory


@pytest.fixture
def mails(settings: SettingsWrapper) -> list[Any]:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.EMAIL_NOTIFICATIONS = True
    settings.CELERY_TASK_ALWAYS_EAGER = True
    mail.outbox = []
    return mail.outbox


def with_email(user: User, address: str) -> User:
    User.objects.filter(pk=user.pk).update(email=address)
    user.refresh_from_db()
    return user


# --- preferences ------------------------------------------------------------------------------------


def test_without_a_choice_every_family_reaches_everyone(deputy: User) -> None:
    notify([deputy.pk], kind="reply.sent", params={"subject": "甲"})
    notify([deputy.pk], kind="deadline.soon", params={"subject": "乙", "due": "2027-03-01"})

    assert Notification.objects.filter(user=deputy).count() == 2


def test_a_family_turned_off_is_left_out_for_that_person_only(deputy: User, cosigner: User) -> None:
    set_preferences(actor=deputy, change=PreferenceChange(muted=["deadlines"]))

    notify([deputy.pk, cosigner.pk], kind="deadline.handler", params={"subject": "乙", "due": "2027-03-01"})
    notify([deputy.pk], kind="reply.sent", params={"subject": "甲"})

    assert list(Notification.objects.filter(user=deputy).values_list("kind", flat=True)) == ["reply.sent"]
    assert Notification.objects.filter(user=cosigner, kind="deadline.handler").exists()


def test_an_unknown_family_is_refused_naming_the_field(deputy: User) -> None:
    with pytest.raises(InvalidInput) as refused:
        set_preferences(actor=deputy, change=PreferenceChange(muted=["cosign", "spam"]))

    assert refused.value.field == "muted"
    assert not NotificationPreference.objects.filter(user=deputy).exists()


def test_the_preferences_api_reads_and_changes_only_what_is_sent(deputy: User) -> None:
    client = Client()
    client.force_login(deputy)

    before = client.get("/api/notifications/preferences/").json()
    changed = client.patch(
        "/api/notifications/preferences/", {"muted": ["desk"], "digest": True}, content_type="application/json"
    )
    bad = client.patch("/api/notifications/preferences/", {"muted": ["nope"]}, content_type="application/json")

    assert (before["muted"], before["digest"], before["email"]) == ([], False, True)
    assert {family["key"] for family in before["families"]} >= {"cosign", "replies", "work", "deadlines", "desk"}
    assert changed.status_code == 200
    assert (changed.json()["muted"], changed.json()["digest"], changed.json()["email"]) == (["desk"], True, True)
    assert bad.status_code == 400
    assert "muted" in bad.json()["fields"]
    assert NotificationPreference.objects.get(user=deputy).muted == ["desk"]


def test_the_preferences_page_saves_and_comes_back_to_itself(deputy: User, settings: SettingsWrapper) -> None:
    settings.EMAIL_NOTIFICATIONS = True
    client = Client()
    client.force_login(deputy)

    page = client.get("/notifications/preferences/")
    saved = client.post("/notifications/preferences/", {"families": ["cosign", "replies"], "digest": "on"})

    assert page.status_code == 200
    assert (saved.status_code, saved["Location"]) == (302, "/notifications/preferences/")
    row = NotificationPreference.objects.get(user=deputy)
    assert set(row.muted) == {"my_proposals", "work", "deadlines", "desk", "other"}
    assert (row.digest, row.email) == (True, False)


# --- reading ----------------------------------------------------------------------------------------


def test_opening_a_notification_marks_it_read_and_someone_elses_is_not_found(deputy: User, cosigner: User) -> None:
    mine = notify([deputy.pk], kind="reply.sent", params={"subject": "甲"}, url="/proposals/1/")[0]
    theirs = notify([cosigner.pk], kind="reply.sent", params={"subject": "乙"})[0]

    opened = open_notification(actor=deputy, notification_id=mine.pk)
    with pytest.raises(NotFound):
        open_notification(actor=deputy, notification_id=theirs.pk)

    assert opened.read_at is not None
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_following_a_notification_link_marks_it_read_and_goes_where_it_points(deputy: User, cosigner: User) -> None:
    mine = notify([deputy.pk], kind="reply.sent", params={"subject": "甲"}, url="/proposals/7/")[0]
    theirs = notify([cosigner.pk], kind="reply.sent", params={"subject": "乙"}, url="/proposals/8/")[0]
    client = Client()
    client.force_login(deputy)

    followed = client.get(f"/notifications/{mine.pk}/")
    stranger = client.get(f"/notifications/{theirs.pk}/")
    api = client.post(f"/api/notifications/{mine.pk}/open/")

    assert (followed.status_code, followed["Location"]) == (302, "/proposals/7/")
    assert Notification.objects.get(pk=mine.pk).read_at is not None
    assert stranger.status_code == 404
    assert Notification.objects.get(pk=theirs.pk).read_at is None
    assert api.status_code == 200
    assert api.json()["read_at"] is not None


def test_the_title_is_worded_in_the_readers_language(deputy: User, settings: SettingsWrapper) -> None:
    notify([deputy.pk], kind="cosign.invited", params={"subject": "关于公交的建议"})
    client = Client()
    client.force_login(deputy)

    chinese = client.get("/api/notifications/").json()["results"][0]["title"]
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # the language switch
    english = client.get("/api/notifications/").json()["results"][0]["title"]

    assert chinese == "邀请您附议：关于公交的建议"
    assert english == "You are invited to co-sign: 关于公交的建议"


# --- email and the daily digest -----------------------------------------------------------------------


def test_email_goes_to_each_notification_unless_the_person_chose_the_digest(
    deputy: User, cosigner: User, mails: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    with_email(deputy, "wang@haibin.example.cn")
    with_email(cosigner, "zhang@haibin.example.cn")
    set_preferences(actor=cosigner, change=PreferenceChange(digest=True))

    with django_capture_on_commit_callbacks(execute=True):
        notify([deputy.pk, cosigner.pk], kind="reply.sent", params={"subject": "公交线路"}, url="/proposals/3/")

    assert [m.to for m in mails] == [["wang@haibin.example.cn"]]
    assert mails[0].subject == "您收到了答复，请评价：公交线路"
    assert "http://localhost:8000/proposals/3/" in mails[0].body


def test_the_daily_digest_lists_what_is_unread_since_the_last_one(
    deputy: User, cosigner: User, mails: list[Any]
) -> None:
    with_email(deputy, "wang@haibin.example.cn")
    with_email(cosigner, "zhang@haibin.example.cn")
    set_preferences(actor=deputy, change=PreferenceChange(digest=True))
    first, _second, read = (
        notify([deputy.pk, cosigner.pk], kind="reply.sent", params={"subject": subject})[0]
        for subject in ("第一件", "第二件", "已读的")
    )
    Notification.objects.filter(pk=read.pk).update(read_at=timezone.now())
    Notification.objects.filter(pk=first.pk).update(created_at=timezone.now() - timedelta(hours=2))
    now = timezone.now()

    sent = send_digests(now)
    again = send_digests(now + timedelta(minutes=1))

    assert (sent, again) == (1, 0)  # the cosigner never chose the digest; nothing new since
    assert [m.to for m in mails] == [["wang@haibin.example.cn"]]
    assert mails[0].subject == "咨询平台：2 条未读通知"
    assert "第一件" in mails[0].body
    assert "第二件" in mails[0].body
    assert "已读的" not in mails[0].body


# --- the webhook --------------------------------------------------------------------------------------


class Receiver:
    """A real HTTP server on a local port: answers the given statuses in turn, then 200; keeps what came."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = list(statuses)
        self.received: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((dict(self.headers.items()), body))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver_with(settings: SettingsWrapper) -> Iterator[Callable[[list[int]], Receiver]]:
    started: list[Receiver] = []

    def start(statuses: list[int]) -> Receiver:
        receiver = Receiver(statuses)
        started.append(receiver)
        settings.NOTIFICATION_WEBHOOK_URL = receiver.url
        settings.NOTIFICATION_WEBHOOK_SECRET = "s3cret"
        settings.CELERY_TASK_ALWAYS_EAGER = True
        return receiver

    yield start
    for receiver in started:
        receiver.close()


def verify(headers: dict[str, str], body: bytes, secret: str) -> bool:
    """What the README tells a receiver to do."""
    expected = hmac.new(secret.encode(), headers["X-Consult-Timestamp"].encode() + b"." + body, hashlib.sha256)
    return hmac.compare_digest(headers["X-Consult-Signature"], "sha256=" + expected.hexdigest())


def test_the_webhook_gets_a_signed_payload_and_is_retried_until_it_answers(
    receiver_with: Callable[[list[int]], Receiver], deputy: User, django_capture_on_commit_callbacks: Any
) -> None:
    receiver = receiver_with([503, 500])  # down twice, then up

    with django_capture_on_commit_callbacks(execute=True):
        notification = notify([deputy.pk], kind="reply.sent", params={"subject": "公交线路"}, url="/proposals/3/")[0]

    assert len(receiver.received) == 3
    bodies = {body for _headers, body in receiver.received}
    assert len(bodies) == 1  # the same payload each time
    headers, body = receiver.received[-1]
    assert verify(headers, body, "s3cret")
    assert not verify(headers, body, "another secret")
    assert headers["X-Consult-Delivery"] == str(notification.pk)
    payload = json.loads(body)
    assert (payload["id"], payload["kind"], payload["user"]["id"]) == (notification.pk, "reply.sent", deputy.pk)
    assert payload["title"] == "您收到了答复，请评价：公交线路"
    assert payload["url"] == "http://localhost:8000/proposals/3/"


def test_a_refusing_webhook_is_not_retried(
    receiver_with: Callable[[list[int]], Receiver], deputy: User, django_capture_on_commit_callbacks: Any
) -> None:
    receiver = receiver_with([400])

    with django_capture_on_commit_callbacks(execute=True):
        notify([deputy.pk], kind="reply.sent", params={"subject": "公交线路"})

    assert len(receiver.received) == 1


def test_the_webhook_is_not_used_by_someone_who_turned_it_off(
    receiver_with: Callable[[list[int]], Receiver],
    deputy: User,
    cosigner: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    receiver = receiver_with([])
    set_preferences(actor=cosigner, change=PreferenceChange(webhook=False))

    with django_capture_on_commit_callbacks(execute=True):
        notify([deputy.pk, cosigner.pk], kind="reply.sent", params={"subject": "公交线路"})

    assert [json.loads(body)["user"]["id"] for _headers, body in receiver.received] == [deputy.pk]


def test_retries_wait_longer_each_time_up_to_an_hour(settings: SettingsWrapper) -> None:
    settings.NOTIFICATION_WEBHOOK_BACKOFF = 30

    assert [delivery.backoff(n) for n in range(9)] == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]


def test_one_interface_lists_the_channels() -> None:
    assert [channel.name for channel in delivery.channels()] == ["inapp", "email", "webhook"]


# --- the desk: a consultation waiting in a bureau's queue ----------------------------------------------------


def test_a_consultation_nobody_can_take_tells_the_bureaus_experts_only(
    deputy: User, expert: User, bureau_a: Bureau, bureau_b: Bureau, django_capture_on_commit_callbacks: Any
) -> None:
    other_bureau = ExpertProfileFactory(user__username="other", bureau=bureau_b).user

    with django_capture_on_commit_callbacks(execute=True):
        consultation = desk.start_consultation(actor=deputy, bureau_id=bureau_a.pk, topic="学区划分怎么查")

    waiting = Notification.objects.get(user=expert)
    assert (waiting.kind, waiting.url) == ("consultation.waiting", f"/desk/consultations/{consultation.pk}/")
    assert waiting.params == {"subject": "学区划分怎么查"}
    assert not Notification.objects.filter(user=other_bureau).exists()
    assert not Notification.objects.filter(user=deputy).exists()


def test_a_consultation_asking_for_one_expert_tells_that_expert_alone(
    deputy: User, expert: User, bureau_a: Bureau, django_capture_on_commit_callbacks: Any
) -> None:
    colleague = ExpertProfileFactory(user__username="colleague", bureau=bureau_a).user

    with django_capture_on_commit_callbacks(execute=True):
        desk.start_consultation(
            actor=deputy, bureau_id=bureau_a.pk, topic="课后服务", expert_id=colleague.expert_profile.pk
        )

    assert list(Notification.objects.values_list("user_id", "kind")) == [(colleague.pk, "consultation.waiting_for_you")]


def test_a_consultation_taken_at_once_tells_nobody(
    deputy: User, expert: User, bureau_a: Bureau, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        desk.expert_connected(actor=expert)
        desk.start_consultation(actor=deputy, bureau_id=bureau_a.pk, topic="学区划分怎么查")

    assert not Notification.objects.exists()


def test_a_consultation_the_expert_ends_asks_the_deputy_to_rate_it(
    deputy: User, expert: User, bureau_a: Bureau, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        desk.expert_connected(actor=expert)
        first = desk.start_consultation(actor=deputy, bureau_id=bureau_a.pk, topic="学区划分怎么查")
        second = desk.start_consultation(actor=deputy, bureau_id=bureau_a.pk, topic="课后服务")
    desk.end_consultation(actor=expert, consultation_id=first.pk)
    desk.end_consultation(actor=deputy, consultation_id=second.pk)  # the deputy's own ending asks nothing

    to_rate = Notification.objects.get(user=deputy)
    assert (to_rate.kind, to_rate.url) == ("consultation.rate", f"/desk/consultations/{first.pk}/")
    with translation.override("zh-hans"):
        assert to_rate.text == "专家已结束咨询，请评价：学区划分怎么查"


@pytest.mark.parametrize(
    "body",
    [{"muted": ["cosign"] * 500}, {"muted": ["co\x00sign"]}, {"muted": "cosign"}, {"digest": "x" * 10_000}],
    ids=["too-many", "nul", "not-a-list", "not-a-boolean"],
)
def test_bad_preferences_are_a_400_naming_the_field_and_change_nothing(deputy: User, body: dict[str, object]) -> None:
    client = Client()
    client.force_login(deputy)

    response = client.patch("/api/notifications/preferences/", body, content_type="application/json")

    assert response.status_code == 400
    assert {name.split(".")[0] for name in response.json()["fields"]} == set(body)  # muted.0: the item named
    assert not NotificationPreference.objects.filter(user=deputy).exists()
