"""Platform-written lines (issue 15, point 12): stored as a code and parameters, shown in each reader's language.

A system line written while the writer used Chinese reads in English for a reader who switched to English: in the
REST history, on the room page and in the frame their socket receives; and the other way round.
"""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import translation

from chat.models import Message, MessageKind
from consult.desk import services as desk
from consult.kernel import texts
from consult.models import Consultation, User
from tests.chat.conftest import frames_until, greeted, is_message
from tests.conftest import LiveServer

pytestmark = pytest.mark.django_db(transaction=True)

ENGLISH = f"{settings.LANGUAGE_COOKIE_NAME}=en"


def _client(user: User, language: str | None) -> Client:
    client = Client()
    client.force_login(user)
    if language:
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


def test_every_platform_text_has_both_languages_and_fills_its_parameters() -> None:
    declared = texts.declared()
    assert {"desk.started", "desk.joined", "desk.ended", "desk.outcome", "call.started"} <= set(declared)
    for code, template in declared.items():
        names = re.findall(r"%\((\w+)\)s", str(template))
        params = {name: f"«{name}»" for name in names}
        with translation.override("en"):
            english = texts.render(code, params)
        with translation.override("zh-hans"):
            chinese = texts.render(code, params)
        assert english != chinese, f"{code} has no Chinese translation"
        for name in names:
            assert f"«{name}»" in english, (code, name)
            assert f"«{name}»" in chinese, (code, name)


def test_a_stored_line_keeps_its_code_and_its_wording_in_the_site_language(consultation: Consultation) -> None:
    started = Message.objects.get(consultation=consultation, seq=1)

    assert started.kind == MessageKind.SYSTEM
    assert started.code == "desk.started"
    assert started.params["topic"] == "课后服务收费标准"
    assert "发起咨询" in started.body  # the site's language, whatever language the writer used


def test_the_history_shows_platform_lines_in_the_readers_language(
    consultation: Consultation, deputy: User, expert: User
) -> None:
    desk.record_outcome(actor=expert, consultation_id=consultation.pk, outcome="answered")
    url = reverse("api-chat-messages", args=[consultation.pk])

    english = {m["seq"]: m["body"] for m in _client(deputy, "en").get(url).json()["items"]}
    chinese = {m["seq"]: m["body"] for m in _client(deputy, None).get(url).json()["items"]}

    assert english[1].startswith(f"{deputy.full_name} started a consultation with")
    assert "发起咨询" in chinese[1]
    assert english[3] == "Outcome recorded: Answered on the spot"
    assert chinese[3] != english[3]


def test_the_room_page_shows_platform_lines_in_the_readers_language(consultation: Consultation, deputy: User) -> None:
    url = reverse("desk-room", args=[consultation.pk])

    english = _client(deputy, "en").get(url).content.decode()
    chinese = _client(deputy, None).get(url).content.decode()

    assert "started a consultation with" in english
    assert "发起咨询" not in english
    assert "发起咨询" in chinese


async def test_each_socket_receives_a_platform_line_in_its_own_language(
    daphne_server: LiveServer, consultation: Consultation, deputy_cookie: str, expert_cookie: str, deputy: User
) -> None:
    from channels.db import database_sync_to_async

    english_ws, _hello = await greeted(daphne_server, consultation.pk, f"{expert_cookie}; {ENGLISH}")
    chinese_ws, _hello = await greeted(daphne_server, consultation.pk, deputy_cookie)
    async with english_ws, chinese_ws:
        with translation.override("zh-hans"):  # the writer's language is not the reader's
            await database_sync_to_async(desk.end_consultation)(actor=deputy, consultation_id=consultation.pk)
        english = (await frames_until(english_ws, is_message(3)))[-1]["message"]
        chinese = (await frames_until(chinese_ws, is_message(3)))[-1]["message"]

    assert english["code"] == chinese["code"] == "desk.ended"
    assert english["body"] == f"{deputy.full_name} ended the consultation"
    assert chinese["body"] == f"{deputy.full_name} 结束了咨询"
