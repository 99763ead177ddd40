"""Calls on one Janus: concurrent two-party calls with recording on, the post-call pipeline, live-caption latency.

Run with ``make bench``. A real Janus (Debian ``janus``, free ports, the configuration ``make run`` writes) and
WebRTC clients from aiortc in this process (far lighter than one Chromium per speaker). What one run measures:

1. **Concurrent calls.** Each call is what ``chat.calls`` makes: a VideoRoom with ``record: true`` and a folder of
   its own; both parties publish Opus (espeak-ng speech, looped) and subscribe to each other: four
   PeerConnections per call. Calls are added up to each count in ``BENCH_CALLS_STEPS`` (1,3,6,10); after each, a
   settle of 2 s, then ``BENCH_CALLS_WINDOW`` (10) s measured. **Baseline, same run**: the idle Janus over the
   same window before any call. Printed per step: Janus CPU (``/proc/<pid>/stat``, % of one core), CPU per call
   above the idle baseline, Janus RSS, packet loss seen by the receivers (aiortc inbound-rtp ``packetsLost`` over
   received + lost, in the window), packets received per second and as a share of what the publishers should
   send, and this process's CPU (the clients, which share the same 2 cores: one Python process of aiortc
   clients saturates near 6 calls, long before Janus; rows where it could not keep up are marked, and the
   capacity is extrapolated from the largest step where every packet arrived).
2. **After the call** (what ``chat.calls.process_call`` and the transcription job do, per track): every call's
   ``.mjr`` files → Opus with ``janus-pp-rec`` (timed per track), and one call's two tracks transcribed by
   faster-whisper with the real base weights (int8, ``WHISPER_THREADS`` or 2). Printed as seconds of work per
   minute of call.
3. **Live captions** (``chat.captions``): one publisher's audio ``rtp_forward``-ed by Janus to the caption
   worker (in this process, base weights, the production window and interval), for ``BENCH_CAPTIONS_SECONDS``
   (30). Printed: latency (the frames' ``latency_ms``: arrival of the oldest audio in an update → frame sent)
   p50 / p95 / max, Whisper seconds per update, process CPU per update above a baseline window of the same
   publisher without captions, and the last line's text beside the sentence.

Nothing about speed is asserted; the run asserts that audio flowed, recordings exist and captions came.
"""

from __future__ import annotations

import asyncio
import os
import resource
import shutil
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from tests.chat.caption_media import SENTENCE, speech_wav
from tests.janus_support import JanusServer, start_janus
from tests.required import skip_or_fail

pytestmark = [pytest.mark.bench, pytest.mark.filterwarnings("ignore::DeprecationWarning")]

STEPS = [int(n) for n in os.environ.get("BENCH_CALLS_STEPS", "1,3,6,10").split(",")]
WINDOW_S = float(os.environ.get("BENCH_CALLS_WINDOW", "10"))
CAPTION_S = float(os.environ.get("BENCH_CAPTIONS_SECONDS", "30"))
TICK = os.sysconf("SC_CLK_TCK")


def janus_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime (fields 14 and 15)


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def own_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass
class Party:
    session: Any
    feed: int = 0
    publisher: Any = None
    subscriber: Any = None
    sinks: list[Any] = field(default_factory=list)


@dataclass
class BenchCall:
    room: int
    folder: Path
    parties: list[Party] = field(default_factory=list)


async def _ignore(_message: dict[str, Any]) -> None:
    return None


async def publish(janus: JanusServer, room: int, display: str, speech: Path, record_as: str | None) -> Party:
    from aiortc import RTCPeerConnection, RTCSessionDescription
    from aiortc.contrib.media import MediaPlayer

    from chat.janus import JanusSession, plugin_data

    session = JanusSession(janus.url, janus.secret, _ignore)
    await session.open()
    handle = await session.attach()
    peer = RTCPeerConnection()
    peer.addTrack(MediaPlayer(str(speech), loop=True).audio)
    await peer.setLocalDescription(await peer.createOffer())
    body: dict[str, Any] = {"request": "joinandconfigure", "room": room, "ptype": "publisher", "display": display}
    if record_as:
        body |= {"record": True, "filename": record_as}
    event = await session.message(handle, body, {"type": "offer", "sdp": peer.localDescription.sdp})
    await peer.setRemoteDescription(RTCSessionDescription(sdp=event["jsep"]["sdp"], type="answer"))
    for _ in range(300):  # Janus offers the feed once its WebRTC is up; a bound on the wait, not a timing
        if peer.connectionState == "connected":
            break
        await asyncio.sleep(0.1)
    return Party(session=session, feed=int(plugin_data(event)["id"]), publisher=peer)


async def subscribe(party: Party, room: int, feed: int) -> None:
    from aiortc import RTCPeerConnection, RTCSessionDescription
    from aiortc.contrib.media import MediaBlackhole

    handle = await party.session.attach()
    event = await party.session.message(
        handle, {"request": "join", "ptype": "subscriber", "room": room, "streams": [{"feed": feed}]}
    )
    peer = RTCPeerConnection()
    sink = MediaBlackhole()

    @peer.on("track")
    def on_track(track: Any) -> None:
        sink.addTrack(track)

    await peer.setRemoteDescription(RTCSessionDescription(sdp=event["jsep"]["sdp"], type="offer"))
    await peer.setLocalDescription(await peer.createAnswer())
    await sink.start()
    await party.session.message(handle, {"request": "start"}, {"type": "answer", "sdp": peer.localDescription.sdp})
    party.subscriber, party.sinks = peer, [sink]


async def open_call(janus: JanusServer, index: int, base: Path, speech: Path) -> BenchCall:
    from chat.janus import JanusAdmin

    room, folder = 700_000 + index, base / f"call-{index}"
    folder.mkdir(parents=True)
    await asyncio.to_thread(JanusAdmin(janus.url, janus.secret).create_room, room, rec_dir=str(folder))
    call = BenchCall(room, folder)
    call.parties = list(
        await asyncio.gather(*(publish(janus, room, str(who), speech, f"user-{who}") for who in (1, 2)))
    )
    await asyncio.gather(
        subscribe(call.parties[0], room, call.parties[1].feed), subscribe(call.parties[1], room, call.parties[0].feed)
    )
    return call


async def close_call(janus: JanusServer, call: BenchCall) -> None:
    from chat.janus import JanusAdmin

    for party in call.parties:
        for peer in (party.publisher, party.subscriber):
            if peer is not None:
                await peer.close()
        for sink in party.sinks:
            await sink.stop()
        await party.session.close()
    await asyncio.to_thread(JanusAdmin(janus.url, janus.secret).destroy_room, call.room)


async def received(calls: list[BenchCall]) -> tuple[int, int]:
    got = lost = 0
    for call in calls:
        for party in call.parties:
            if party.subscriber is None:
                continue
            for stats in (await party.subscriber.getStats()).values():
                if getattr(stats, "type", "") == "inbound-rtp":
                    got += int(stats.packetsReceived or 0)
                    lost += max(0, int(stats.packetsLost or 0))
    return got, lost


async def measure(janus: JanusServer, calls: list[BenchCall]) -> dict[str, float]:
    got0, lost0 = await received(calls)
    cpu0, own0, wall0 = janus_cpu_s(janus.process.pid), own_cpu_s(), time.monotonic()
    await asyncio.sleep(WINDOW_S)
    wall = time.monotonic() - wall0
    got1, lost1 = await received(calls)
    got, lost = got1 - got0, lost1 - lost0
    return {
        "janus_pct": 100 * (janus_cpu_s(janus.process.pid) - cpu0) / wall,
        "clients_pct": 100 * (own_cpu_s() - own0) / wall,
        "rss_mib": rss_mib(janus.process.pid),
        "loss_pct": 100 * lost / (got + lost) if got + lost else 0.0,
        "pps": got / wall,
    }


def pp_rec(mjr: Path) -> tuple[Path, float]:
    opus = mjr.with_suffix(".opus")
    started = time.perf_counter()
    subprocess.run(
        [shutil.which("janus-pp-rec") or "janus-pp-rec", str(mjr), str(opus)], capture_output=True, check=True
    )
    return opus, time.perf_counter() - started


def duration_s(path: Path) -> float:
    import av

    with av.open(str(path)) as container:
        return float(container.duration or 0) / 1_000_000


async def concurrent_calls(janus: JanusServer, base: Path, speech: Path) -> list[BenchCall]:
    idle = await measure(janus, [])
    print(f"\nJanus alone (baseline, {WINDOW_S:.0f} s): {idle['janus_pct']:.2f} % of a core, {idle['rss_mib']:.0f} MiB")
    print(
        f"{'calls':>6}{'Janus %':>9}{'% / call':>10}{'RSS MiB':>9}{'loss %':>8}{'pkts/s':>8}{'of sent':>9}"
        f"{'clients %':>11}"
    )
    calls: list[BenchCall] = []
    best: tuple[int, float] | None = None
    for target in STEPS:
        while len(calls) < target:
            calls.append(await open_call(janus, len(calls), base, speech))
        await asyncio.sleep(2)
        r = await measure(janus, calls)
        per_call = (r["janus_pct"] - idle["janus_pct"]) / len(calls)
        delivered = r["pps"] / (100 * len(calls))  # two subscribers a call, 50 Opus packets a second each
        bound = "  <- the clients cannot keep up" if delivered < 0.9 else ""
        print(
            f"{len(calls):>6}{r['janus_pct']:>9.1f}{per_call:>10.2f}{r['rss_mib']:>9.0f}{r['loss_pct']:>8.2f}"
            f"{r['pps']:>8.0f}{100 * delivered:>8.0f}%{r['clients_pct']:>11.1f}{bound}",
            flush=True,
        )
        assert r["pps"] > 0, "audio did not flow to the subscribers"
        if not bound:
            best = (len(calls), per_call)
    if best is not None and best[1] > 0:
        calls_n, per_call = best
        print(
            f"at {calls_n} calls (90 % of the audio or more delivered) Janus costs {per_call:.2f} % of a core a call:"
            f" two cores would hold about {int(200 / per_call)} calls by CPU alone"
            " (an extrapolation; the clients here share the cores)"
        )
    return calls


def post_call(base: Path, model_dir: Path) -> None:
    from transcription.engines import EngineConfig, load_engine

    tracks = sorted(base.glob("call-*/user-*.mjr"))
    assert tracks, "no recording"
    converted = [pp_rec(mjr) for mjr in tracks]
    call_s = max(duration_s(opus) for opus, _ in converted[:2])
    pp_s = sum(seconds for _, seconds in converted) / len(converted)
    engine = load_engine(
        EngineConfig("faster-whisper", model_dir, "cpu", "int8", int(os.environ.get("WHISPER_THREADS") or 2))
    )
    first_call = [opus for opus, _ in converted if opus.parent.name == "call-0"]
    started, cpu_before = time.perf_counter(), own_cpu_s()
    for opus in first_call:
        engine.transcribe(opus, language="en")
    whisper_s, whisper_cpu = time.perf_counter() - started, own_cpu_s() - cpu_before
    minutes = call_s / 60
    print(f"\nafter the call ({len(tracks)} tracks; call 0 lasted {call_s:.0f} s, two speakers):")
    print(f"  janus-pp-rec: {pp_s:.3f} s a track = {2 * pp_s / minutes:.2f} s per minute of a two-party call")
    print(
        f"  Whisper base (CPU int8), both tracks: {whisper_s:.1f} s wall, {whisper_cpu:.1f} CPU-s"
        f" = {whisper_s / minutes:.1f} s wall, {whisper_cpu / minutes:.1f} CPU-s per minute of call"
    )
    print(f"  pipeline: {(2 * pp_s + whisper_s) / minutes:.1f} s of work (wall) per minute of call", flush=True)


async def caption_latency(janus: JanusServer, base: Path, speech: Path, model_dir: Path) -> None:
    from django.core.cache import cache

    from chat.captions import SSRC_KEY, CaptionWorker, WorkerOptions
    from chat.janus import JanusAdmin
    from transcription.engines import EngineConfig, load_engine

    threads = int(os.environ.get("WHISPER_THREADS") or 2)
    engine = load_engine(EngineConfig("faster-whisper", model_dir, "cpu", "int8", threads))
    frames: list[dict[str, Any]] = []

    async def sink(_call: int, frame: dict[str, Any]) -> None:
        frames.append(frame)

    worker = CaptionWorker(engine, WorkerOptions(language="en"), sink)
    bound: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    running = asyncio.create_task(worker.run("127.0.0.1", 0, ready=bound.set_result))
    port = await bound
    room = 800_000
    admin = JanusAdmin(janus.url, janus.secret)
    await asyncio.to_thread(admin.create_room, room, rec_dir=str(base / "captions"), record=False)
    party = await publish(janus, room, "1", speech, None)
    try:
        await asyncio.sleep(2)
        own0, wall0 = own_cpu_s(), time.monotonic()
        await asyncio.sleep(CAPTION_S / 2)  # baseline: the same publisher, no captions
        baseline_pct = 100 * (own_cpu_s() - own0) / (time.monotonic() - wall0)
        await cache.aset(SSRC_KEY.format(4242), {"call": 1, "user": 1, "name": "bench"}, 600)
        await asyncio.to_thread(admin.rtp_forward, room, party.feed, host="127.0.0.1", port=port, ssrc=4242)
        own0, wall0 = own_cpu_s(), time.monotonic()
        await asyncio.sleep(CAPTION_S)
        wall, cpu = time.monotonic() - wall0, own_cpu_s() - own0
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        await party.publisher.close()
        await party.session.close()
        await asyncio.to_thread(admin.destroy_room, room)
    latencies = sorted(worker.latencies_ms)
    assert latencies, "no caption came"
    updates = len(worker.inference_s)
    extra_cpu = cpu - baseline_pct / 100 * wall
    p95 = latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))]
    words = set(SENTENCE.split())
    best = max((f["text"] for f in frames), key=lambda text: len(words & set(text.lower().split())), default="")
    print(
        f"\nlive captions (base, CPU int8 x{threads}, interval {worker.options.interval} s, one speaker, {wall:.0f} s):"
    )
    p50 = statistics.median(latencies)
    print(f"  latency p50 {p50:.0f} ms, p95 {p95} ms, max {latencies[-1]} ms ({len(latencies)} frames)")
    print(f"  Whisper {statistics.mean(worker.inference_s):.2f} s wall per update ({updates} updates)")
    per_update = extra_cpu / max(updates, 1)
    print(f"  CPU {per_update:.2f} s per update above the publisher alone ({baseline_pct:.0f} % of a core)")
    print(f"  said: {SENTENCE!r}\n  best: {best!r} ({len(words & set(best.lower().split()))}/{len(words)} words)")


def test_calls_on_one_janus(tmp_path: Path) -> None:
    pytest.importorskip("aiortc", reason="requirements-dev.txt (aiortc)")
    from transcription.engines import ensure_model

    if shutil.which("janus-pp-rec") is None:
        skip_or_fail("janus-tools is not installed")
    folder = Path(tempfile.mkdtemp(prefix="janus-bench-", dir=settings.VAR_DIR))
    janus = start_janus(folder)
    speech = speech_wav(tmp_path / "speech", pad_s=0.7)
    model_dir = ensure_model(tmp_path / "base")
    base = tmp_path / "rec"

    async def run() -> None:
        calls = await concurrent_calls(janus, base, speech)
        for call in calls:
            await close_call(janus, call)

    try:
        asyncio.run(run())
        post_call(base, model_dir)
        asyncio.run(caption_latency(janus, base, speech, model_dir))
    finally:
        janus.process.terminate()
        janus.process.wait(timeout=10)
