"""Faults of live calls against real parts: a real Janus (Debian ``janus``) killed with SIGKILL mid-call under a
real Daphne with real WebSockets, the beat's sweep for calls no socket watches, and the transcription worker down
while a call's tracks wait for it (a real Celery worker process on its own Redis, started late).

The browser side (a Chromium tab killed mid-call, Janus killed under two talking browsers, the recordings kept up
to the kill) is in ``tests/e2e/test_call_faults.py``.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.conf import settings
from django.utils import timezone
from websockets.asyncio.client import ClientConnection

from chat import calls
from chat.janus import JanusAdmin
from chat.models import Call, CallParticipant, CallState, CallTrack, Message
from consult.embedded_janus import command, janus_binary
from consult.models import Consultation, User
from tests.chat.conftest import Frame, greeted, receive, send
from tests.conftest import REPO_ROOT, LiveServer, child_env, free_port, stop
from tests.janus_support import JanusServer, call_server, start_janus, wait_for_idle_database, wait_for_port
from tests.required import skip_or_fail
from tests.sockets import session_cookie
from tests.transcription.test_worker import WORKER_ARGS
from transcription import services as transcription
from transcription.models import Transcript

__all__ = ["call_server"]  # the fixture, used by name

pytestmark = pytest.mark.django_db(transaction=True)

GUARD_S = 60.0  # a guard against hangs on a loaded machine, never a measurement
REDIS_SERVER = shutil.which("redis-server")
FFMPEG = shutil.which("ffmpeg")
ESPEAK = shutil.which("espeak-ng")
# Opus as a browser sends it to Janus: 48 kHz, 20 ms frames, speech mode
OPUS_FLAGS = ["-ar", "48000", "-c:a", "libopus", "-b:a", "32k", "-frame_duration", "20", "-application", "voip"]


@dataclass
class Media:
    """The module's Janus, which a test may kill (SIGKILL) and start again on the same port and configuration."""

    server: JanusServer

    @property
    def url(self) -> str:
        return self.server.url

    def kill(self) -> None:
        self.server.process.send_signal(signal.SIGKILL)
        self.server.process.wait(timeout=30)

    def pause(self) -> None:
        """SIGSTOP: a hung host. Its sockets stay open and nothing answers (no FIN, no RST, no frames)."""
        self.server.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.server.process.send_signal(signal.SIGCONT)

    def restart(self) -> None:
        binary = janus_binary()
        assert binary is not None
        port = int(self.server.url.rsplit(":", 1)[1])
        process = subprocess.Popen(
            command(binary, self.server.folder), stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
        )
        try:
            wait_for_port(port, process)
        except Exception:
            stop(process)
            raise
        self.server = JanusServer(self.server.url, self.server.secret, self.server.folder, process)


@pytest.fixture(scope="module")
def media() -> Iterator[Media]:
    folder = Path(tempfile.mkdtemp(prefix="janus-faults-", dir=settings.VAR_DIR))
    holder = Media(start_janus(folder))
    try:
        yield holder
    finally:
        if holder.server.process.poll() is None:
            stop(holder.server.process)


@pytest.fixture(scope="module")
def janus(media: Media) -> JanusServer:
    """What ``call_server`` points its Daphne at: the first Janus of the module (its URL outlives restarts)."""
    return media.server


@pytest.fixture(autouse=True)
def _janus_up_and_server_idle(media: Media) -> Iterator[None]:
    if media.server.process.poll() is not None:  # a test that failed between its kill and its restart
        media.restart()
    yield
    media.resume()  # a test that failed while Janus was stopped
    wait_for_idle_database()


@pytest.fixture
def janus_settings(settings: Any, media: Media) -> Any:
    """This process's services talk to the module's Janus with its secret (as the Daphne does)."""
    settings.JANUS_URLS = [media.url]
    settings.JANUS_API_SECRET = media.server.secret
    return settings


# A browser's offer of one Opus audio stream (what Chromium sends, reduced): Janus answers it and keeps the
# publisher's session, though no media ever flows (these tests are about the signalling side of faults).
def offer_sdp() -> str:
    fingerprint = ":".join(f"{byte:02X}" for byte in secrets.token_bytes(32))
    lines = [
        "v=0",
        f"o=- {secrets.randbelow(2**62)} 2 IN IP4 127.0.0.1",
        "s=-",
        "t=0 0",
        "a=group:BUNDLE 0",
        "a=msid-semantic: WMS",
        "m=audio 9 UDP/TLS/RTP/SAVPF 111",
        "c=IN IP4 0.0.0.0",
        "a=rtcp:9 IN IP4 0.0.0.0",
        f"a=ice-ufrag:{secrets.token_hex(4)}",
        f"a=ice-pwd:{secrets.token_hex(12)}",
        "a=ice-options:trickle",
        f"a=fingerprint:sha-256 {fingerprint}",
        "a=setup:actpass",
        "a=mid:0",
        "a=sendonly",
        "a=msid:- audio0",
        "a=rtcp-mux",
        "a=rtpmap:111 opus/48000/2",
        "a=fmtp:111 minptime=10;useinbandfec=1",
        f"a=ssrc:{secrets.randbelow(2**31)} cname:faults",
    ]
    return "\r\n".join(lines) + "\r\n"


async def until(ws: ClientConnection, done: Any, limit: int = 60) -> Frame:
    seen: list[Frame] = []
    for _ in range(limit):
        try:
            frame = await receive(ws, GUARD_S)
        except TimeoutError:
            raise AssertionError(f"no frame within {GUARD_S} s after: {seen[-6:]}") from None
        seen.append(frame)
        if done(frame):
            return frame
    raise AssertionError(f"not among {limit} frames: {seen[-6:]}")


def call_in(state: str) -> Any:
    return lambda frame: frame["type"] == "call" and frame["call"]["state"] == state


def error_of(code: str) -> Any:
    return lambda frame: frame["type"] == "error" and frame.get("code") == code


def _cookies(deputy: User, expert: User) -> tuple[str, str]:
    return session_cookie(deputy), session_cookie(expert)


async def active_call(server: LiveServer, consultation: Consultation, deputy: User, expert: User) -> Any:
    """Both sides greeted; the deputy calls, the expert answers; both have published to Janus (each socket holds
    a Janus session). Returns the two sockets and the call's id."""
    deputy_cookie, expert_cookie = await database_sync_to_async(_cookies)(deputy, expert)
    deputy_ws, _ = await greeted(server, consultation.pk, deputy_cookie)
    expert_ws, _ = await greeted(server, consultation.pk, expert_cookie)
    await send(deputy_ws, {"type": "call.start"})
    call_id = (await until(expert_ws, call_in("ringing")))["call"]["id"]
    await send(expert_ws, {"type": "call.accept", "call": call_id})
    for ws in (deputy_ws, expert_ws):
        await until(ws, call_in("active"))
    for ws in (deputy_ws, expert_ws):
        await send(ws, {"type": "call.offer", "call": call_id, "sdp": offer_sdp()})
        answer = await until(ws, lambda f: f["type"] in ("call.answer", "error"))
        assert answer["type"] == "call.answer", answer
        assert answer["sdp"].startswith("v=0"), answer
    return deputy_ws, expert_ws, call_id


def newer(frame: Frame, previous: int) -> bool:
    """A new call ringing (the frames of the call before may still wait on the socket)."""
    return call_in("ringing")(frame) and frame["call"]["id"] > previous


async def start_again(
    deputy_ws: ClientConnection, expert_ws: ClientConnection, previous: int, *, hang_up: bool = True
) -> int:
    """Start a call once Janus is back: the server may still remember the host as down for a few seconds
    (``chat.calls.ANSWER_CACHE_S``), so a ``calls_unavailable`` is retried within the ``call.start`` budget."""
    for _ in range(12):
        await send(deputy_ws, {"type": "call.start"})
        answer = await until(deputy_ws, lambda f: newer(f, previous) or error_of("calls_unavailable")(f))
        if answer["type"] == "call":
            ringing = await until(expert_ws, lambda f: newer(f, previous))
            call_id: int = ringing["call"]["id"]
            if hang_up:
                await send(deputy_ws, {"type": "call.hangup", "call": call_id})
                await until(expert_ws, call_in("missed"))
            return call_id
        await asyncio.sleep(5)  # call.start: 0.2 a second
    raise AssertionError("no call could start once Janus was back")


def thread_lines(consultation: Consultation) -> list[str]:
    return list(
        Message.objects.filter(consultation=consultation, kind="system").order_by("seq").values_list("body", flat=True)
    )


async def test_janus_killed_mid_call_ends_it_for_everyone_and_a_new_call_starts_once_it_is_back(
    call_server: LiveServer,
    media: Media,
    consultation: Consultation,
    deputy: User,
    expert: User,
) -> None:
    deputy_ws, expert_ws, call_id = await active_call(call_server, consultation, deputy, expert)

    media.kill()

    # Each socket's own Janus session died with Janus: each is told (call_media_lost), and the call ends for all
    # (the ``call`` frame with state ended, and the thread's line saying why): through the sockets' Janus
    # connections, not after any timeout.
    for ws in (deputy_ws, expert_ws):
        told: list[Frame] = []
        while not any(call_in("ended")(f) for f in told) or not any(error_of("call_media_lost")(f) for f in told):
            told.append(await receive(ws, GUARD_S))
        assert [f["call"] for f in told if error_of("call_media_lost")(f)] == [call_id]
        lines = [f["message"]["body"] for f in told if f["type"] == "message"]
        assert any("媒体服务器" in line for line in lines), lines  # the media server stopped answering (zh)

    call = await database_sync_to_async(Call.objects.get)(pk=call_id)
    assert (call.state, call.ended_at is not None) == (CallState.ENDED, True)
    participants = await database_sync_to_async(lambda: list(CallParticipant.objects.filter(call_id=call_id)))()
    assert all(p.joined_at is not None and p.left_at is not None for p in participants), participants
    live = await database_sync_to_async(lambda: Call.objects.filter(state__in=calls.LIVE).count())()
    assert live == 0  # nothing stuck "in call"
    said = await database_sync_to_async(thread_lines)(consultation)
    assert sum("媒体服务器" in line for line in said) == 1, said  # one line, though both sockets noticed

    # While Janus is down a new call is refused clearly; once it is back, the same sockets start one.
    await send(deputy_ws, {"type": "call.start"})
    refused = await until(deputy_ws, error_of("calls_unavailable"))
    assert refused["code"] == "calls_unavailable"
    media.restart()
    await start_again(deputy_ws, expert_ws, call_id)
    for ws in (deputy_ws, expert_ws):
        await ws.close()


@pytest.mark.slow
async def test_a_hung_janus_is_noticed_by_the_sockets_pings_and_ends_the_call(
    call_server: LiveServer,
    media: Media,
    consultation: Consultation,
    deputy: User,
    expert: User,
) -> None:
    """Janus stopped (SIGSTOP), not dead: no connection closes, so only the Janus sessions' WebSocket pings
    (``websockets``' keepalive, 20 s + 20 s) find it silent; then the call ends as when Janus is killed."""
    deputy_ws, expert_ws, call_id = await active_call(call_server, consultation, deputy, expert)

    media.pause()
    try:
        for ws in (deputy_ws, expert_ws):
            told: list[Frame] = []
            while not any(call_in("ended")(f) for f in told) or not any(error_of("call_media_lost")(f) for f in told):
                told.append(await receive(ws, 2 * GUARD_S))  # the pings' 40 s, on a loaded machine
        live = await database_sync_to_async(lambda: Call.objects.filter(state__in=calls.LIVE).count())()
        assert live == 0
    finally:
        media.resume()
    # Janus answers again (the call's room is still there: nobody could destroy it): a new call starts.
    await start_again(deputy_ws, expert_ws, call_id)
    for ws in (deputy_ws, expert_ws):
        await ws.close()


async def test_a_socket_closed_mid_call_ends_it_at_once_and_destroys_its_janus_room(
    call_server: LiveServer,
    media: Media,
    consultation: Consultation,
    deputy: User,
    expert: User,
) -> None:
    deputy_ws, expert_ws, call_id = await active_call(call_server, consultation, deputy, expert)
    room = await database_sync_to_async(lambda: Call.objects.get(pk=call_id).room)()
    admin = JanusAdmin(media.url, media.server.secret)
    assert admin.room_exists(room)

    expert_ws.transport.abort()  # the connection drops, no closing handshake

    ended = await until(deputy_ws, call_in("ended"))
    assert ended["call"]["id"] == call_id
    for _ in range(100):  # destroyed after the commit: a bounded wait, never a timed assertion
        if not admin.room_exists(room):
            break
        await asyncio.sleep(0.2)
    assert not admin.room_exists(room)
    participants = await database_sync_to_async(lambda: list(CallParticipant.objects.filter(call_id=call_id)))()
    assert all(p.left_at is not None for p in participants), participants
    await deputy_ws.close()


@pytest.mark.usefixtures("janus_settings")
async def test_the_sweep_ends_calls_whose_janus_stopped_or_lost_their_room_and_leaves_the_others(
    call_server: LiveServer,
    media: Media,
    consultation: Consultation,
    deputy: User,
    expert: User,
) -> None:
    # A ringing call: no socket holds a Janus session for it, so only the sweep can notice its media is gone.
    deputy_cookie, expert_cookie = await database_sync_to_async(_cookies)(deputy, expert)
    expert_ws, _ = await greeted(call_server, consultation.pk, expert_cookie)
    deputy_ws, _ = await greeted(call_server, consultation.pk, deputy_cookie)
    await send(deputy_ws, {"type": "call.start"})
    call_id = (await until(expert_ws, call_in("ringing")))["call"]["id"]

    assert await database_sync_to_async(calls.sweep_lost_media)() == 0  # Janus answers and holds the room

    media.kill()
    assert await database_sync_to_async(calls.sweep_lost_media)() == 1  # the host stopped answering
    ended = await until(expert_ws, call_in("ended"))
    assert ended["call"]["id"] == call_id
    assert await database_sync_to_async(calls.sweep_lost_media)() == 0  # once

    # Janus back, but restarted: it answers without the room of a call started before (a row left live by hand,
    # as a crash between the two would leave it).
    media.restart()
    second = await start_again(deputy_ws, expert_ws, call_id, hang_up=False)
    assert await database_sync_to_async(calls.sweep_lost_media)() == 0
    room = await database_sync_to_async(lambda: Call.objects.get(pk=second).room)()
    JanusAdmin(media.url, media.server.secret).destroy_room(room)
    assert await database_sync_to_async(calls.sweep_lost_media)() == 1
    await until(expert_ws, call_in("ended"))
    live = await database_sync_to_async(lambda: Call.objects.filter(state__in=calls.LIVE).count())()
    assert live == 0
    for ws in (deputy_ws, expert_ws):
        await ws.close()


def test_the_beat_runs_the_media_sweep() -> None:
    from chat import tasks

    entries = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "chat.tasks.sweep_lost_media" in entries
    assert tasks.sweep_lost_media.name == "chat.tasks.sweep_lost_media"


# --- the transcription worker down --------------------------------------------------------------------------


def ogg_packets(path: Path) -> list[bytes]:
    """The Opus packets of an Ogg Opus file (RFC 7845), without its two header packets."""
    data, packets, partial, at = path.read_bytes(), [], b"", 0
    while at < len(data):
        assert data[at : at + 4] == b"OggS", at
        count = data[at + 26]
        sizes = data[at + 27 : at + 27 + count]
        at += 27 + count
        for size in sizes:
            partial += data[at : at + size]
            at += size
            if size < 255:
                packets.append(partial)
                partial = b""
    return packets[2:]


def write_mjr(path: Path, packets: list[bytes], started_us: int) -> None:
    """A Janus recording (``MJR00002``: the JSON header, then each RTP packet behind ``MEET``, its time and size),
    as the VideoRoom writes one for an Opus publisher: 20 ms packets, 48 kHz RTP clock."""
    header = json.dumps({"t": "a", "c": "opus", "s": started_us, "u": started_us}).encode()
    out = [b"MJR00002", struct.pack(">H", len(header)), header]
    ssrc = secrets.randbelow(2**32)
    for index, payload in enumerate(packets):
        rtp = struct.pack(">BBHII", 0x80, 111, index & 0xFFFF, (index * 960) & 0xFFFFFFFF, ssrc) + payload
        out += [b"MEET", struct.pack(">IH", index * 20, len(rtp)), rtp]
    path.write_bytes(b"".join(out))


def spoken_mjr(folder: Path, name: str, text: str, started_us: int) -> Path:
    if FFMPEG is None or ESPEAK is None:
        skip_or_fail("ffmpeg and espeak-ng are needed to make a call's recording (apt-get install ffmpeg espeak-ng)")
    wav, ogg = folder / f"{name}.wav", folder / f"{name}.ogg"
    subprocess.run([str(ESPEAK), "-v", "cmn-latn-pinyin", "-w", str(wav), text], check=True, capture_output=True)
    subprocess.run(
        [str(FFMPEG), "-y", "-v", "error", "-i", str(wav), *OPUS_FLAGS, str(ogg)],
        check=True,
        capture_output=True,
    )
    mjr = folder / f"{name}.mjr"
    write_mjr(mjr, ogg_packets(ogg), started_us)
    ogg.unlink()
    wav.unlink()
    return mjr


def _answers(port: int) -> bool:
    import socket

    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def queued_messages(port: int, queue: str) -> int:
    """How many task messages wait in the broker's ``queue`` (a Redis list, as kombu keeps it)."""
    import socket

    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        conn.sendall(f"*2\r\n$4\r\nLLEN\r\n${len(queue)}\r\n{queue}\r\n".encode())
        reply = conn.recv(64)
    assert reply.startswith(b":"), reply
    return int(reply[1:].split(b"\r\n", 1)[0])


def wait_for(condition: Any, what: str, guard_s: float = 240.0) -> None:
    deadline = time.monotonic() + guard_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within the {guard_s:.0f} s guard: {what}")
        time.sleep(0.3)


@pytest.mark.slow
def test_call_tracks_wait_queued_while_no_worker_runs_then_a_late_worker_catches_up(
    consultation: Consultation,
    deputy: User,
    expert: User,
    tmp_path: Path,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if REDIS_SERVER is None:
        skip_or_fail("redis-server is not installed; this test runs a Celery worker on its own Redis")
    from consult.celery import app
    from transcription.tasks import transcribe
    from transcription.testing import build_tiny_model

    media_root = tmp_path / "media"
    settings.MEDIA_ROOT = media_root
    # An answered call that has ended, with one recording per speaker in its folder (as Janus leaves them).
    now = timezone.now()
    call = Call.objects.create(
        consultation=consultation,
        started_by=deputy,
        state=CallState.ENDED,
        answered_at=now,
        ended_at=now,
        janus_url="ws://127.0.0.1:1",
        room=1,
        rec_dir="calls/faults",
    )
    for user, role in ((deputy, "deputy"), (expert, "expert")):
        CallParticipant.objects.create(call=call, user=user, role=role, joined_at=now, left_at=now)
    folder = media_root / call.rec_dir
    folder.mkdir(parents=True)
    started = int(now.timestamp() * 1e6)
    spoken_mjr(folder, f"user-{deputy.pk}-1", "ni3 hao3 wo3 xiang3 zi1 xun2", started)
    spoken_mjr(folder, f"user-{expert.pk}-2", "hao3 de5 qing3 shuo1", started + 1_500_000)

    port = free_port()
    redis = subprocess.Popen(
        [str(REDIS_SERVER), "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    broker = f"redis://127.0.0.1:{port}/0"
    log_path = tmp_path / "worker.log"
    worker: subprocess.Popen[bytes] | None = None

    def dispatch(transcript_id: int, countdown: int = 0) -> None:
        """What ``transcription.services.dispatch`` sends (the task's own route picks its queue), to this broker."""
        with app.connection_for_write(broker) as connection:
            transcribe.apply_async(args=[transcript_id], countdown=countdown or None, connection=connection)

    try:
        wait_for(lambda: _answers(port), "redis-server answers", 30)
        monkeypatch.setattr(transcription, "dispatch", dispatch)

        tracks = calls.process_call(call.pk)  # the post-call pipeline: Opus per speaker, one job per track

        assert sorted(track.user_id for track in tracks) == sorted([deputy.pk, expert.pk])
        assert all(track.duration > 0.5 for track in tracks), [(t.mjr, t.duration) for t in tracks]
        jobs = Transcript.objects.filter(source_kind=calls.SOURCE_KIND, source_id__in=[t.pk for t in tracks])
        assert sorted(jobs.values_list("status", flat=True)) == ["queued", "queued"]
        # No worker runs: the jobs' messages wait in the broker's transcription queue, and the jobs stay queued.
        wait_for(lambda: queued_messages(port, "transcription") == 2, "both messages in the broker", 30)
        assert sorted(jobs.values_list("status", flat=True)) == ["queued", "queued"]
        assert {row["status"] for row in calls.call_transcript(call)["tracks"]} == {"queued"}

        # A worker starts (late): it takes both waiting jobs and finishes them.
        model_dir = build_tiny_model(tmp_path / "tiny-whisper")
        with open(log_path, "wb") as log:
            worker = subprocess.Popen(
                [sys.executable, *WORKER_ARGS],
                cwd=REPO_ROOT,
                env=child_env(
                    REDIS_URL=broker,
                    MEDIA_ROOT=str(media_root),
                    WHISPER_MODEL_DIR=str(model_dir),
                    TRANSCRIPTION_ENGINE="faster-whisper",
                    WHISPER_THREADS="1",
                ),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_for(lambda: set(jobs.values_list("status", flat=True)) <= {"done", "failed"}, "the worker caught up")
        assert sorted(jobs.values_list("status", flat=True)) == ["done", "done"], list(jobs.values("status", "error"))
        assert queued_messages(port, "transcription") == 0
        merged = calls.call_transcript(Call.objects.get(pk=call.pk))
        assert {row["status"] for row in merged["tracks"]} == {"done"}
        assert [row["offset"] for row in merged["tracks"]] == [0.0, 1.5]  # each track placed by its start
        assert CallTrack.objects.filter(call=call).count() == 2
    finally:
        if worker is not None:
            stop(worker)
        stop(redis)
        if log_path.exists():
            print(log_path.read_text(errors="replace")[-3000:])
