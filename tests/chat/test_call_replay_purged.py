"""A call whose recording was purged by the retention (``calls.purge_recordings``): its replay page says so and
offers no audio (which would answer 404), and the transcript stays."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains

from chat import calls
from chat.models import Call
from consult.models import User
from tests.chat.test_call_audit import call, client_of, urls

__all__ = ["call"]  # the fixture

pytestmark = pytest.mark.django_db


def test_the_replay_of_a_purged_call_says_the_recording_was_deleted(call: Call, deputy: User, settings: Any) -> None:
    before = client_of(deputy).get(urls(call)["replay"])
    assertContains(before, "<audio", count=2)
    assertNotContains(before, "data-recording-purged")

    settings.CALL_RECORDING_RETENTION_DAYS = 30
    assert calls.purge_recordings(now=timezone.now() + timedelta(days=31)) == 1

    after = client_of(deputy).get(urls(call)["replay"])
    assert after.status_code == 200
    assertNotContains(after, "<audio")
    assertContains(after, "录音已超过保存期限被删除，文字记录仍保留。")
    assert client_of(deputy).get(urls(call)["audio"]).status_code == 404
