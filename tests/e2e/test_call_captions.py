"""The call page shows live captions: the expert answers in Chromium (fake microphone), the deputy speaks through an
aiortc WebRTC client on the chat socket, Janus forwards the deputy's audio to ``manage.py caption_worker`` (tiny
checkpoint: the words are noise, the speaker is not), and the expert's page shows a caption line of the deputy.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, expect, sync_playwright

from consult.models import Bureau, Consultation, User
from tests.chat.caption_media import speech_wav
from tests.chat.conftest import greeted, open_consultation, send
from tests.chat.test_captions import (  # noqa: F401 (fixtures)
    caption_port,
    caption_server,
    caption_worker,
    frame_of,
    publish,
)
from tests.conftest import LiveServer
from tests.e2e.conftest import CHROMIUM_FLAGS
from tests.e2e.test_call import room_page
from tests.janus_support import JanusServer, janus  # noqa: F401 (fixtures)
from tests.sockets import session_cookie
from tests.transcription.whisper_fixtures import tiny_model_dir  # noqa: F401 (fixtures)

pytestmark = pytest.mark.e2e
WAIT_MS = 90_000  # guards against hangs on a busy machine, never a speed assertion


@pytest.fixture
def consultation(transactional_db: None, deputy: User, expert: User, bureau_a: Bureau) -> Consultation:
    return open_consultation(deputy, expert, bureau_a)


@pytest.fixture
def deputy_cookie(consultation: Consultation, deputy: User) -> str:
    return session_cookie(deputy)  # before the browser: Playwright's sync API runs an event loop in this thread


@pytest.fixture
def expert_browser(deputy_cookie: str, chromium_path: Path, tmp_path: Path) -> Iterator[Browser]:
    flags = [
        *CHROMIUM_FLAGS,
        "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-audio-capture={speech_wav(tmp_path / 'expert', 'okay')}",
        "--autoplay-policy=no-user-gesture-required",
    ]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, headless=True, args=flags)
        try:
            yield browser
        finally:
            browser.close()


class DeputyOnAiortc(threading.Thread):
    """The deputy's side on its own event loop: starts the call, and once it is answered speaks the sentence."""

    def __init__(self, server: LiveServer, consultation_id: int, cookie: str, speech: Path) -> None:
        super().__init__(daemon=True)
        self.server, self.consultation_id, self.cookie, self.speech = server, consultation_id, cookie, speech
        self.loop = asyncio.new_event_loop()
        self.stopping: asyncio.Event | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.loop.run_until_complete(self.talk())
        except BaseException as error:  # reported by the test
            self.error = error

    async def talk(self) -> None:
        from aiortc.contrib.media import MediaPlayer

        self.stopping = asyncio.Event()
        ws, _ = await greeted(self.server, self.consultation_id, self.cookie)
        peer: Any = None
        try:
            await send(ws, {"type": "call.start"})
            ringing = await frame_of(ws, lambda f: f["type"] == "call" and f["call"]["state"] == "ringing")
            await frame_of(ws, lambda f: f["type"] == "call" and f["call"]["state"] == "active")
            peer = await publish(ws, ringing["call"]["id"], MediaPlayer(str(self.speech), loop=True).audio)
            await self.stopping.wait()
        finally:
            if peer is not None:
                await peer.close()
            await ws.close()

    def stop(self) -> None:
        if self.stopping is not None:
            self.loop.call_soon_threadsafe(self.stopping.set)
        self.join(timeout=30)


def test_the_expert_sees_the_deputys_words_as_live_captions(
    consultation: Consultation,
    janus: JanusServer,  # noqa: F811
    caption_server: LiveServer,  # noqa: F811
    deputy_cookie: str,
    expert_browser: Browser,
    deputy: User,
    password: str,
    tmp_path: Path,
) -> None:
    room = f"/desk/consultations/{consultation.pk}/"
    page = room_page(expert_browser, caption_server, "expert", password, room)
    deputy_side = DeputyOnAiortc(caption_server, consultation.pk, deputy_cookie, speech_wav(tmp_path))
    deputy_side.start()
    try:
        expect(page.locator("[data-call-incoming]")).to_be_visible(timeout=WAIT_MS)
        page.locator("[data-call-accept]").click()
        expect(page.locator("[data-call]")).to_have_attribute("data-state", "active", timeout=WAIT_MS)

        line = page.locator(f'[data-call-captions] p[data-caption-user="{deputy.pk}"]').first
        expect(line).to_be_visible(timeout=WAIT_MS)
        expect(line).to_contain_text(deputy.get_full_name())
        assert line.locator("span").inner_text().strip()  # the tiny model's words: noise, but words
        page.screenshot(path=tmp_path / "captions.png")
    finally:
        deputy_side.stop()
    assert deputy_side.error is None, deputy_side.error
