"""A live call through Janus between two Chromium processes, each with its own fake microphone speaking its own
sentence (``espeak-ng``): the deputy calls, the expert answers, each side receives the other's audio (packets and
audio energy measured by the receiving page), the server holds one recording per speaker, the call ends for both
when the deputy hangs up, and after the call each recording becomes an Opus track (``janus-pp-rec``) that the
replay page lists with its speaker.

Janus is a real one (Debian ``janus``, free ports, a configuration of its own), and the app runs under its own
Daphne pointed at it (``tests.janus_support``).
"""

from __future__ import annotations

import difflib
import shutil
import subprocess
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from chat import calls
from chat.models import Call, CallState
from consult.models import Bureau, Consultation, User
from tests.chat.conftest import open_consultation
from tests.conftest import LiveServer
from tests.e2e.conftest import CHROMIUM_FLAGS, open_context
from tests.e2e.test_login import sign_in
from tests.e2e.test_proposal_journey import read_db
from tests.e2e.test_voice import base_model  # noqa: F401 (fixture: the real Whisper base weights)
from tests.janus_support import JanusServer, call_server, janus  # noqa: F401 (fixtures)
from tests.required import skip_or_fail
from transcription import jobs
from transcription import services as transcription
from transcription.models import Transcript

pytestmark = pytest.mark.e2e

WRITTEN = {"deputy": "你好我想咨询学区划分的问题", "expert": "好的今年的方案下周公布"}
SENTENCES = {
    "deputy": "ni3 hao3. wo3 xiang3 zi1 xun2 xue2 qu1 hua4 fen1 de5 wen4 ti2.",  # 你好。我想咨询学区划分的问题。
    "expert": "hao3 de5. jin1 nian2 de5 fang1 an4 xia4 zhou1 gong1 bu4.",  # 好的。今年的方案下周公布。
}
CONNECTED_MS = 90_000  # guards against hangs on a busy machine, never speed assertions
RECEIVED = "el => Number(el.dataset.receivedPackets || 0) > 150 && Number(el.dataset.receivedEnergy || 0) > 0"


def speech_file(directory: Path, text: str) -> Path:
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        skip_or_fail("espeak-ng is not installed (apt-get install espeak-ng)")
        raise AssertionError("unreachable")
    raw = directory / "raw.wav"
    subprocess.run([espeak, "-v", "cmn-latn-pinyin", "-s", "150", "-w", str(raw), text], check=True)
    padded = directory / "speech.wav"
    with wave.open(str(raw), "rb") as source:
        params = source.getparams()
        frames = source.readframes(source.getnframes())
    silence = b"\x00" * (params.sampwidth * params.nchannels * params.framerate // 2)
    with wave.open(str(padded), "wb") as out:
        out.setparams(params)
        out.writeframes(silence + frames + silence)
    return padded


@pytest.fixture
def consultation(transactional_db: None, deputy: User, expert: User, bureau_a: Bureau) -> Consultation:
    return open_consultation(deputy, expert, bureau_a)


@pytest.fixture
def speakers(chromium_path: Path, tmp_path: Path) -> Iterator[dict[str, Browser]]:
    """One Chromium process per speaker, each with its own fake microphone playing its own sentence."""
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


def room_page(browser: Browser, server: LiveServer, username: str, password: str, room: str) -> Page:
    context = open_context(browser, server, viewport={"width": 1280, "height": 800})
    context.grant_permissions(["microphone"])
    page = context.new_page()
    sign_in(page, username, password)
    page.wait_for_url(f"{server.url}/")
    page.goto(room)
    # Janus answered the page's check, and the call socket is in the consultation's group (it hears a ringing call)
    expect(page.locator("[data-call]")).to_have_attribute("data-socket", "open", timeout=CONNECTED_MS)
    expect(page.locator("[data-call-start]")).to_be_visible()
    return page


def test_two_people_talk_through_janus_and_each_is_recorded_on_the_server(
    consultation: Consultation,
    janus: JanusServer,  # noqa: F811
    call_server: LiveServer,  # noqa: F811
    speakers: dict[str, Browser],
    base_model: Path,  # noqa: F811
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
    deputy: User,
    expert: User,
    password: str,
    tmp_path: Path,
) -> None:
    room = f"/desk/consultations/{consultation.pk}/"
    deputy_page = room_page(speakers["deputy"], call_server, "deputy", password, room)
    expert_page = room_page(speakers["expert"], call_server, "expert", password, room)

    deputy_page.locator("[data-call-start]").click()
    expect(deputy_page.locator("[data-call]")).to_have_attribute("data-state", "ringing")
    expect(deputy_page.locator("[data-call-recorded]")).to_be_visible()  # the notice comes before any audio
    expect(expert_page.locator("[data-call-incoming]")).to_be_visible()
    expect(expert_page.locator("[data-call-recorded]")).to_be_visible()
    expert_page.locator("[data-call-accept]").click()

    # Both publish to Janus and receive the other: packets and audio energy counted by each receiving page.
    for page in (deputy_page, expert_page):
        expect(page.locator("[data-call]")).to_have_attribute("data-state", "active", timeout=CONNECTED_MS)
        page.wait_for_function(RECEIVED, arg=page.locator("[data-call]").element_handle(), timeout=CONNECTED_MS)
    deputy_page.screenshot(path=tmp_path / "deputy-in-call.png")

    call = read_db(lambda: Call.objects.get(consultation=consultation))
    folder = Path(settings.MEDIA_ROOT) / call.rec_dir
    recorded = {path.name.split("-")[1] for path in folder.glob("user-*.mjr")}
    assert recorded == {str(deputy.pk), str(expert.pk)}, sorted(folder.iterdir())

    deputy_page.locator("[data-call-hangup]").click()
    for page in (deputy_page, expert_page):
        expect(page.locator("[data-call]")).to_have_attribute("data-state", "ended", timeout=CONNECTED_MS)
    ended = read_db(lambda: Call.objects.get(pk=call.pk))
    assert ended.state == CallState.ENDED

    # After the call: one Opus track per speaker, each with its own start time, listed on the replay page.
    monkeypatch.setattr(transcription, "dispatch", lambda transcript_id, countdown=0: None)  # run below, here
    tracks = read_db(lambda: calls.process_call(call.pk))
    assert sorted(track.user_id for track in tracks) == sorted([deputy.pk, expert.pk])
    for track in tracks:
        opus = Path(settings.MEDIA_ROOT) / track.audio
        assert opus.stat().st_size > 2000, track
        assert track.duration > 1.0, track
        assert track.started_us > 0

    # Each track transcribed on its own job (the real Whisper base weights), merged on one timeline naming each
    # speaker: each speaker's words match their own sentence better than the other's (attribution by track).
    settings.WHISPER_MODEL_DIR = base_model
    for track in tracks:
        transcript = read_db(lambda t=track: Transcript.objects.get(source_kind=calls.SOURCE_KIND, source_id=t.pk))
        assert read_db(lambda t=transcript: jobs.run(t.pk)) == "done"
    merged = read_db(lambda: calls.call_transcript(Call.objects.get(pk=call.pk)))
    said = {
        who: "".join(line["text"] for line in merged["lines"] if line["user"] == user.pk)
        for who, user in (("deputy", deputy), ("expert", expert))
    }
    print(f"call transcript: {said!r}")
    # Attribution by track: the transcripts paired with their own speakers match better than swapped. (Robotic
    # TTS through a browser, Opus and base Whisper is rough, and on a loaded machine one track can come out as
    # noise; the pairing still has to be right, and both tracks must have been heard as Chinese speech.)
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in said[who]) for who in said), said
    right = similarity(said["deputy"], WRITTEN["deputy"]) + similarity(said["expert"], WRITTEN["expert"])
    swapped = similarity(said["deputy"], WRITTEN["expert"]) + similarity(said["expert"], WRITTEN["deputy"])
    assert right > swapped, (said, right, swapped)
    assert {line["role"] for line in merged["lines"]} == {"deputy", "expert"}

    expert_page.goto(f"/desk/consultations/{consultation.pk}/calls/{call.pk}/")
    expect(expert_page.locator("[data-track] audio")).to_have_count(2)
    expect(expert_page.locator("[data-seek]")).to_have_count(len(merged["lines"]))
    expect(expert_page.locator("[data-call-transcript]")).to_contain_text(deputy.full_name)
    expect(expert_page.locator("[data-call-transcript]")).to_contain_text(expert.full_name)
    expert_page.screenshot(path=tmp_path / "replay.png", full_page=True)


def similarity(heard: str, written: str) -> float:
    """Characters in common, in order (difflib), over the written sentence's length: robotic TTS through base
    Whisper is rough (CER ~0.65), so only the comparison between the two sentences is asserted."""
    chinese = "".join(ch for ch in heard if "\u4e00" <= ch <= "\u9fff")
    return difflib.SequenceMatcher(None, chinese, written).ratio()
