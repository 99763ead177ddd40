"""A three-party call through Janus: the deputy calls, the expert answers and invites a colleague of the bureau from
the call bar, the colleague (notified; reading the consultation only while invited) joins from the room page, and
each of the three Chromium processes — each with its own fake microphone speaking its own sentence — hears the two
others (packets per remote feed, counted by the receiving page). The server holds one recording per speaker. The
colleague hangs up: the call goes on for the two others, whose pages drop the colleague's feed, and the
colleague's page loses the consultation. The deputy hangs up: the call ends, and the post-call pipeline makes one
Opus track per speaker, three in all.

Real Janus (``tests.janus_support``), real Daphne, Debian Chromium; no transcription here (``test_call.py`` covers
it; each track is the same kind of job).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from chat import calls
from chat.models import Call, CallState
from consult.models import Bureau, Consultation, Notification, User
from tests.chat.conftest import open_consultation
from tests.conftest import LiveServer
from tests.e2e.conftest import CHROMIUM_FLAGS, open_context
from tests.e2e.test_call import speech_file
from tests.e2e.test_login import sign_in
from tests.e2e.test_proposal_journey import read_db
from tests.factories import ExpertProfileFactory
from tests.janus_support import JanusServer, call_server, janus  # noqa: F401 (fixtures)
from transcription import services as transcription

pytestmark = pytest.mark.e2e

SENTENCES = {
    "deputy": "ni3 hao3. wo3 xiang3 zi1 xun2 xue2 qu1 hua4 fen1 de5 wen4 ti2.",
    "expert": "hao3 de5. wo3 qing3 tong2 shi4 yi4 qi3 hui2 da2.",
    "colleague": "jin1 nian2 de5 fang1 an4 xia4 zhou1 gong1 bu4.",
}
CONNECTED_MS = 120_000  # guards against hangs on a busy machine, never speed assertions


def hears(*user_ids: int) -> str:
    """A page function: this page receives packets from each of these speakers (one feed each)."""
    wanted = ",".join(str(u) for u in user_ids)
    return f"el => [{wanted}].every(u => (el.dataset.heardSpeakers || '').split(',').includes(String(u)))"


@pytest.fixture
def colleague(bureau_a: Bureau) -> User:
    return ExpertProfileFactory(user__username="colleague", user__full_name="孙晓峰", bureau=bureau_a).user


@pytest.fixture
def consultation(transactional_db: None, deputy: User, expert: User, colleague: User, bureau_a: Bureau) -> Consultation:
    return open_consultation(deputy, expert, bureau_a)


@pytest.fixture
def speakers(chromium_path: Path, tmp_path: Path) -> Iterator[dict[str, Browser]]:
    with sync_playwright() as playwright:
        launched: dict[str, Browser] = {}
        try:
            for who, text in SENTENCES.items():
                folder = tmp_path / who
                folder.mkdir()
                flags = [
                    *CHROMIUM_FLAGS,
                    "--use-fake-device-for-media-stream",
                    "--use-fake-ui-for-media-stream",
                    f"--use-file-for-fake-audio-capture={speech_file(folder, text)}",
                    "--autoplay-policy=no-user-gesture-required",
                ]
                launched[who] = playwright.chromium.launch(executable_path=chromium_path, headless=True, args=flags)
            yield launched
        finally:
            for browser in launched.values():
                browser.close()


def signed_in(browser: Browser, server: LiveServer, username: str, password: str) -> Page:
    context = open_context(browser, server, viewport={"width": 1280, "height": 800})
    context.grant_permissions(["microphone"])
    page = context.new_page()
    sign_in(page, username, password)
    page.wait_for_url(f"{server.url}/")
    return page


def test_three_people_talk_in_one_call_each_hearing_the_two_others(
    consultation: Consultation,
    janus: JanusServer,  # noqa: F811
    call_server: LiveServer,  # noqa: F811
    speakers: dict[str, Browser],
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
    deputy: User,
    expert: User,
    colleague: User,
    password: str,
    tmp_path: Path,
) -> None:
    room = f"/desk/consultations/{consultation.pk}/"
    pages = {who: signed_in(speakers[who], call_server, who, password) for who in SENTENCES}
    deputy_page, expert_page, colleague_page = pages["deputy"], pages["expert"], pages["colleague"]
    for page in (deputy_page, expert_page):
        page.goto(room)
        expect(page.locator("[data-call]")).to_have_attribute("data-socket", "open", timeout=CONNECTED_MS)
    assert colleague_page.goto(room).status == 404  # not a reader before the invitation  # type: ignore[union-attr]

    deputy_page.locator("[data-call-start]").click()
    expect(expert_page.locator("[data-call-incoming]")).to_be_visible(timeout=CONNECTED_MS)
    expert_page.locator("[data-call-accept]").click()
    for page in (deputy_page, expert_page):
        expect(page.locator("[data-call]")).to_have_attribute("data-state", "active", timeout=CONNECTED_MS)
    expect(deputy_page.locator("[data-call-invite]")).to_be_hidden()  # only the expert answering invites

    invite = expert_page.locator("[data-call-invite]")
    expect(invite).to_be_visible()
    invite.locator("select").select_option(str(colleague.pk))
    invite.locator("[data-call-invite-send]").click()
    expect(invite).to_be_hidden(timeout=CONNECTED_MS)  # three in the call now (one invited): no more invitations
    assert read_db(lambda: Notification.objects.filter(user=colleague, kind="consultation.call_invite").count()) == 1

    colleague_page.goto(room)  # the notification's link: the room, readable while invited
    call_box = colleague_page.locator("[data-call]")
    expect(call_box.locator("[data-call-incoming]")).to_be_visible(timeout=CONNECTED_MS)
    expect(call_box.locator("[data-call-recorded]")).to_be_visible()  # told before any audio
    call_box.locator("[data-call-accept]").click()

    ids = {"deputy": deputy.pk, "expert": expert.pk, "colleague": colleague.pk}
    for who, page in pages.items():
        others = [uid for name, uid in ids.items() if name != who]
        element = page.locator("[data-call]").element_handle()
        page.wait_for_function(hears(*others), arg=element, timeout=CONNECTED_MS)
    expert_page.screenshot(path=tmp_path / "three-in-call.png")

    call = read_db(lambda: Call.objects.get(consultation=consultation))
    folder = Path(settings.MEDIA_ROOT) / call.rec_dir
    recorded = {path.name.split("-")[1] for path in folder.glob("user-*.mjr")}
    assert recorded == {str(uid) for uid in ids.values()}, sorted(folder.iterdir())

    call_box.locator("[data-call-hangup]").click()  # the colleague leaves; the two others go on
    expect(colleague_page.locator("[data-call]")).to_have_attribute("data-socket", "closed", timeout=CONNECTED_MS)
    for page in (deputy_page, expert_page):
        expect(page.locator(f'audio[data-call-audio="{colleague.pk}"]')).to_have_count(0, timeout=CONNECTED_MS)
        expect(page.locator("[data-call]")).to_have_attribute("data-state", "active")
    assert read_db(lambda: Call.objects.get(pk=call.pk).state) == CallState.ACTIVE

    deputy_page.locator("[data-call-hangup]").click()
    for page in (deputy_page, expert_page):
        expect(page.locator("[data-call]")).to_have_attribute("data-state", "ended", timeout=CONNECTED_MS)

    monkeypatch.setattr(transcription, "dispatch", lambda transcript_id, countdown=0: None)
    tracks = read_db(lambda: calls.process_call(call.pk))
    assert sorted(track.user_id for track in tracks) == sorted(ids.values())
    for track in tracks:
        assert (Path(settings.MEDIA_ROOT) / track.audio).stat().st_size > 1000, track
