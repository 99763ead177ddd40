"""Live captions of a call (``chat.captions``, ``transcription.captions``).

Real parts throughout: espeak-ng speech encoded by libopus into RTP packets, sent over UDP to the caption worker,
decoded, windowed and run through faster-whisper on a tiny random-weight checkpoint of the real architecture (what
it "hears" is noise, so the tests assert who spoke and that a line came, never words). The last test runs the whole
path: a real Janus, an aiortc (WebRTC) publisher sending the sentence through the chat socket's signalling, Janus's
``rtp_forward`` to ``manage.py caption_worker``, and ``call.caption`` frames on the participants' sockets only.
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from channels.db import database_sync_to_async
from django.conf import settings
from django.core.cache import cache

from chat.captions import SSRC_KEY, CaptionWorker, WorkerOptions
from consult.models import Bureau, User
from tests.chat.caption_media import SENTENCE, opus_frames, rtp_packet, speech_wav
from tests.chat.conftest import Frame, frames_until, greeted, open_consultation, receive, send
from tests.conftest import REPO_ROOT, LiveServer, child_env, free_port, stop, wait_until_serving
from tests.janus_support import JanusServer, janus, wait_for_idle_database  # noqa: F401 (fixtures)
from tests.sockets import session_cookie
from tests.transcription.whisper_fixtures import fresh_engines, tiny_model_dir  # noqa: F401 (fixtures)
from transcription.captions import RATE, CaptionWindow, OpusDecoder, parse_rtp, seq_newer


def test_rtp_header_extension_csrcs_and_padding_are_skipped() -> None:
    packet = rtp_packet(b"opus!", ssrc=0xDEADBEEF, seq=65535, timestamp=123456)
    parsed = parse_rtp(packet)
    assert parsed is not None
    assert (parsed.ssrc, parsed.seq, parsed.timestamp, parsed.payload_type, parsed.payload) == (
        0xDEADBEEF,
        65535,
        123456,
        111,
        b"opus!",
    )
    csrc_and_padding = bytes([0xA1, 111]) + packet[2:12] + b"\x00\x00\x00\x07" + b"opus!" + b"\x00\x00\x03"
    assert parse_rtp(csrc_and_padding) is not None
    assert parse_rtp(csrc_and_padding).payload == b"opus!"  # type: ignore[union-attr]
    assert parse_rtp(b"\x80\xc8" + b"\x00" * 30) is None  # RTCP sender report on the same port
    assert parse_rtp(b"not rtp") is None
    assert seq_newer(0, 65535)
    assert not seq_newer(65535, 0)


def test_opus_packets_decode_to_16khz_speech_and_a_pause_ends_the_line(tmp_path: Path) -> None:
    decoder, window = OpusDecoder(), CaptionWindow(interval=2.0, pause_seconds=0.8)
    now, takes = 100.0, []
    for payload in opus_frames(speech_wav(tmp_path, pad_s=1.0)):
        window.add(decoder.decode(payload), now)
        now += 0.02
        if window.due(now):
            takes.append(window.take(now))

    assert [take.final for take in takes].count(True) == 1  # the quiet after the sentence ended its one line
    partial, final = takes[0], takes[-1]
    assert not partial.final  # the sentence lasts over 2 s: a partial came while it was spoken
    assert final.final
    assert final.line == partial.line == 0
    assert final.audio.size / RATE > 2.0  # the whole line, decoded to 16 kHz
    assert float(np.abs(final.audio).max()) > 0.05
    assert (window.line, window.voiced) == (1, False)  # the next line starts empty
    assert not window.due(now + 5)  # and quiet stays uncaptioned


def test_silence_alone_is_never_transcribed() -> None:
    window = CaptionWindow()
    for step in range(200):
        window.add(np.zeros(320, dtype=np.float32), step * 0.02)
    assert not window.due(10.0)
    assert window.samples <= int(window.preroll_seconds * RATE)  # quiet is not kept beyond the pre-roll


@pytest.fixture
def tiny_engine(tiny_model_dir: Path, fresh_engines: None, settings: Any) -> Any:  # noqa: F811
    from transcription.engines import get_engine

    settings.WHISPER_MODEL_DIR = str(tiny_model_dir)
    settings.TRANSCRIPTION_ENGINE = "faster-whisper"
    return get_engine()


async def _send_paced(port: int, packets: list[bytes]) -> None:
    """At the pace a live speaker's packets come: one every 20 ms."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        for packet in packets:
            udp.sendto(packet, ("127.0.0.1", port))
            await asyncio.sleep(0.02)


async def test_the_worker_captions_each_known_speaker_and_ignores_unknown_ssrcs(
    tiny_engine: Any, tmp_path: Path
) -> None:
    frames: list[tuple[int, dict[str, Any]]] = []

    async def sink(call_id: int, frame: dict[str, Any]) -> None:
        frames.append((call_id, frame))

    worker = CaptionWorker(tiny_engine, WorkerOptions(language="en", interval=1.0), sink)
    bound: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    running = asyncio.create_task(worker.run("127.0.0.1", 0, ready=bound.set_result))
    port = await asyncio.wait_for(bound, 30)
    await cache.aset(SSRC_KEY.format(1111), {"call": 7, "user": 42, "name": "王建国"}, 60)
    await cache.adelete(SSRC_KEY.format(2222))
    speech = opus_frames(speech_wav(tmp_path))
    try:
        await asyncio.gather(
            _send_paced(port, [rtp_packet(p, ssrc=1111, seq=i, timestamp=960 * i) for i, p in enumerate(speech)]),
            _send_paced(port, [rtp_packet(p, ssrc=2222, seq=i, timestamp=960 * i) for i, p in enumerate(speech)]),
        )
        for _ in range(300):  # the line ends once the packets stop; a bound on the wait, not on speed
            if any(frame["final"] for _, frame in frames):
                break
            await asyncio.sleep(0.1)
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)

    assert frames, "no caption frame"
    assert {(call_id, frame["call"], frame["user"], frame["name"]) for call_id, frame in frames} == {
        (7, 7, 42, "王建国")
    }
    assert frames[-1][1]["final"]
    assert all(frame["latency_ms"] >= 0 for _, frame in frames)
    assert set(worker.speakers) == {1111}  # the unknown SSRC was looked up, found nowhere, and dropped
    assert worker.latencies_ms


@pytest.mark.whisper
@pytest.mark.slow
async def test_with_the_real_base_weights_the_caption_resembles_the_sentence(
    tmp_path_factory: pytest.TempPathFactory,
    tmp_path: Path,
    fresh_engines: None,  # noqa: F811
) -> None:
    from transcription.engines import EngineConfig, ensure_model, load_engine

    model_dir = ensure_model(tmp_path_factory.mktemp("whisper") / "base")
    engine = await asyncio.to_thread(load_engine, EngineConfig("faster-whisper", model_dir, "cpu", "int8", 2))
    frames: list[dict[str, Any]] = []

    async def sink(_call_id: int, frame: dict[str, Any]) -> None:
        frames.append(frame)

    worker = CaptionWorker(engine, WorkerOptions(language="en"), sink)
    bound: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    running = asyncio.create_task(worker.run("127.0.0.1", 0, ready=bound.set_result))
    port = await asyncio.wait_for(bound, 30)
    await cache.aset(SSRC_KEY.format(3333), {"call": 8, "user": 43, "name": "陈志远"}, 60)
    speech = opus_frames(speech_wav(tmp_path, pad_s=1.0))
    try:
        await _send_paced(port, [rtp_packet(p, ssrc=3333, seq=i, timestamp=960 * i) for i, p in enumerate(speech)])
        for _ in range(1200):  # base on a busy CPU: a bound on the wait, not on speed
            if any(frame["final"] for frame in frames):
                break
            await asyncio.sleep(0.1)
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)

    final = [frame for frame in frames if frame["final"]]
    assert final, frames
    heard = set(" ".join(frame["text"] for frame in final).lower().replace(".", " ").split())
    said = set(SENTENCE.split())
    assert len(heard & said) >= 4, (heard, said)  # robotic TTS: most words, not all (docs/architecture.md)


# --- the whole path: Janus, a WebRTC publisher, rtp_forward, the worker process, the participants' sockets ----------


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.bind(("127.0.0.1", 0))
        return int(udp.getsockname()[1])


@pytest.fixture
def caption_port() -> int:
    return free_udp_port()


@pytest.fixture
def caption_worker(caption_port: int, tiny_model_dir: Path, django_db_setup: None) -> Iterator[Path]:  # noqa: F811
    """``manage.py caption_worker`` on a free UDP port with the tiny checkpoint (started, not waited for: the
    server fixture waits for it while Daphne starts)."""
    log_path = Path(settings.VAR_DIR) / f"caption-worker-{caption_port}.log"
    env = child_env(
        WHISPER_MODEL_DIR=str(tiny_model_dir),
        TRANSCRIPTION_ENGINE="faster-whisper",
        WHISPER_THREADS="1",
        CALL_CAPTION_LANGUAGE="en",
        CALL_CAPTION_INTERVAL="1.0",
    )
    argv = [sys.executable, "manage.py", "caption_worker", "--host", "127.0.0.1", "--port", str(caption_port)]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(argv, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            yield log_path
        finally:
            stop(process)


def wait_for_worker(log_path: Path) -> None:
    for _ in range(600):  # loading the model: a bound on the wait, never a timing
        text = log_path.read_text(errors="replace")
        if "caption worker ready" in text or "Traceback" in text:
            break
        time.sleep(0.1)
    assert "caption worker ready" in log_path.read_text(errors="replace"), log_path.read_text(errors="replace")


@pytest.fixture
def caption_server(
    janus: JanusServer,  # noqa: F811
    caption_port: int,
    caption_worker: Path,
    django_db_setup: None,
) -> Iterator[LiveServer]:
    """Daphne on the test database, calls on ``janus``, captions on and forwarded to the worker's port."""
    port = free_port()
    log_path = Path(settings.VAR_DIR) / f"daphne-captions-{port}.log"
    env = child_env(
        JANUS_URLS=janus.url,
        JANUS_API_SECRET=janus.secret,
        MEDIA_ROOT=str(settings.MEDIA_ROOT),
        CALL_CAPTIONS="true",
        CALL_CAPTION_ADDRESSES=f"127.0.0.1:{caption_port}",
    )
    argv = [sys.executable, "-m", "consult.realtime.server", "-b", "127.0.0.1", "-p", str(port)]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [*argv, "consult.asgi:application"], cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            wait_until_serving(f"http://127.0.0.1:{port}/accounts/login/", process, timeout=60)
            wait_for_worker(caption_worker)
            yield LiveServer(f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}", process)
        finally:
            stop(process)


async def publish(ws: Any, call_id: int, track: Any) -> Any:
    """A WebRTC publisher (aiortc) through the chat socket's signalling: offer out, Janus's answer in."""
    from aiortc import RTCPeerConnection, RTCSessionDescription

    peer = RTCPeerConnection()
    peer.addTrack(track)
    await peer.setLocalDescription(await peer.createOffer())
    await send(ws, {"type": "call.offer", "call": call_id, "sdp": peer.localDescription.sdp})
    answer = await frame_of(ws, lambda f: f["type"] == "call.answer")
    await peer.setRemoteDescription(RTCSessionDescription(sdp=answer["sdp"], type="answer"))
    return peer


async def frame_of(ws: Any, wanted: Any, limit: int = 400) -> Frame:
    for _ in range(limit):
        frame = await receive(ws, 60)
        if wanted(frame):
            return frame
        assert frame["type"] != "error", frame
    raise AssertionError("the expected frame did not come")


@pytest.mark.django_db(transaction=True)
async def test_a_speakers_words_reach_the_participants_as_captions_through_janus(
    janus: JanusServer,  # noqa: F811
    caption_server: LiveServer,
    deputy: User,
    expert: User,
    staff: User,
    bureau_a: Bureau,
    tmp_path: Path,
) -> None:
    from aiortc.contrib.media import MediaPlayer
    from aiortc.mediastreams import AudioStreamTrack

    consultation = await database_sync_to_async(open_consultation)(deputy, expert, bureau_a)
    cookies = await database_sync_to_async(lambda: [session_cookie(u) for u in (deputy, expert, staff)])()
    deputy_ws, _ = await greeted(caption_server, consultation.pk, cookies[0])
    expert_ws, _ = await greeted(caption_server, consultation.pk, cookies[1])
    staff_ws, _ = await greeted(caption_server, consultation.pk, cookies[2])  # the office reads, never hears
    peers = []
    try:
        await send(deputy_ws, {"type": "call.start"})
        ringing = await frame_of(expert_ws, lambda f: f["type"] == "call" and f["call"]["state"] == "ringing")
        call_id = ringing["call"]["id"]
        await send(expert_ws, {"type": "call.accept", "call": call_id})
        await frame_of(deputy_ws, lambda f: f["type"] == "call" and f["call"]["state"] == "active")

        peers.append(await publish(expert_ws, call_id, AudioStreamTrack()))  # the expert listens (silence)
        speech = speech_wav(tmp_path, pad_s=1.0)
        peers.append(await publish(deputy_ws, call_id, MediaPlayer(str(speech)).audio))

        caption = await frame_of(expert_ws, lambda f: f["type"] == "call.caption")
        assert (caption["call"], caption["user"], caption["name"]) == (call_id, deputy.pk, deputy.get_full_name())
        assert caption["text"].strip()
        assert caption["latency_ms"] >= 0
        final = await frame_of(deputy_ws, lambda f: f["type"] == "call.caption" and f["final"])
        assert (final["user"], final["line"]) == (deputy.pk, caption["line"])  # the speaker sees their own line

        await send(staff_ws, {"type": "ping"})
        before_pong = await frames_until(staff_ws, lambda f: f["type"] == "pong")
        assert not [f for f in before_pong if f["type"] == "call.caption"]
    finally:
        for peer in peers:
            await peer.close()
        for ws in (deputy_ws, expert_ws, staff_ws):
            await ws.close()
        await database_sync_to_async(wait_for_idle_database)()
