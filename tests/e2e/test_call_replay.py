"""The replay page of a call in Chromium: a search hit's ``#t=`` opens it at that second (the line spoken then is
highlighted), and the expert corrects a line in place; the line, its "corrected" mark and its versions are redrawn
from the API's answer, and the correction is stored with the machine text kept.

The call's tracks are transcribed by the real job before the browser starts (``tests/chat/test_call_transcripts``:
only the speech model is a stand-in); the page and the API are served by Daphne.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from chat import calls
from chat.models import Call, CallParticipant, CallState
from consult.models import Bureau, User
from tests.chat.conftest import open_consultation
from tests.chat.test_call_transcripts import DEPUTY_SAID, EXPERT_SAID, transcribed_track
from tests.conftest import LiveServer
from tests.e2e.test_proposal_journey import read_db
from tests.sockets import session_cookie
from transcription import services as transcription
from transcription.models import Transcript, TranscriptRevision


@pytest.fixture
def replay_url(
    transactional_db: None,
    daphne_server: LiveServer,
    deputy: User,
    expert: User,
    bureau_a: Bureau,
    settings: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[str, str]:
    """The replay page of an ended, transcribed call, and the expert's session cookie."""
    settings.MEDIA_ROOT = tmp_path / "media"
    monkeypatch.setattr(transcription, "dispatch", lambda transcript_id, countdown=0: None)
    consultation = open_consultation(deputy, expert, bureau_a)
    now = timezone.now()
    call = Call.objects.create(
        consultation=consultation,
        started_by=deputy,
        janus_url="ws://127.0.0.1:1",
        room=1,
        state=CallState.ENDED,
        answered_at=now,
        ended_at=now,
    )
    call.rec_dir = f"calls/{call.pk}"
    call.save(update_fields=["rec_dir"])
    for user, role in ((deputy, "deputy"), (expert, "expert")):
        CallParticipant.objects.create(call=call, user=user, role=role, joined_at=now, left_at=now)
    transcribed_track(call, deputy, Path(settings.MEDIA_ROOT), 1_000_000_000, DEPUTY_SAID)
    transcribed_track(call, expert, Path(settings.MEDIA_ROOT), 1_002_500_000, EXPERT_SAID)
    return f"/desk/consultations/{consultation.pk}/calls/{call.pk}/", session_cookie(expert)


def test_the_expert_opens_a_call_at_a_second_and_corrects_a_line(
    replay_url: tuple[str, str], daphne_server: LiveServer, desktop_page: Page
) -> None:
    url, cookie = replay_url
    name, value = cookie.split("=", 1)
    desktop_page.context.add_cookies([{"name": name, "value": value, "url": daphne_server.url}])

    desktop_page.goto(f"{url}#t=3")

    lines = desktop_page.locator("[data-line]")
    expect(lines).to_have_count(3)
    expect(lines.nth(1).locator("[data-seek]")).to_have_class("link current")  # the expert's line, said at 3 s
    thanks = lines.nth(2)
    thanks.locator("[data-correct-line]").click()
    thanks.locator("textarea").fill("谢谢，请把公示链接发给我。")
    thanks.get_by_role("button", name="保存").click()

    expect(thanks.locator("[data-line-text]")).to_have_text("谢谢，请把公示链接发给我。")
    expect(thanks.locator("[data-corrected]")).to_be_visible()
    expect(thanks.locator("[data-line-form]")).to_have_count(0)
    expect(thanks.locator("[data-line-versions] li")).to_have_count(2)  # the machine's and the expert's
    stored = read_db(
        lambda: list(
            TranscriptRevision.objects.filter(transcript__source_kind=calls.SOURCE_KIND).values_list("segment", "text")
        )
    )
    assert stored == [(1, "谢谢，请把公示链接发给我。")]
    machine = read_db(lambda: sorted(Transcript.objects.values_list("machine_text", flat=True)))
    assert "您好，我想问学区划分的事。谢谢。" in machine


def test_an_empty_correction_is_refused_on_the_page_and_nothing_is_stored(
    replay_url: tuple[str, str], daphne_server: LiveServer, desktop_page: Page
) -> None:
    url, cookie = replay_url
    name, value = cookie.split("=", 1)
    desktop_page.context.add_cookies([{"name": name, "value": value, "url": daphne_server.url}])
    desktop_page.goto(url)
    line = desktop_page.locator("[data-line]").first

    line.locator("[data-correct-line]").click()
    line.locator("textarea").fill("   ")
    line.locator("form").evaluate("form => form.requestSubmit()")

    expect(line.locator("[data-error]")).to_be_visible()
    expect(line.locator("[data-line-text]")).to_have_text("您好，我想问学区划分的事。")
    assert read_db(lambda: TranscriptRevision.objects.count()) == 0
