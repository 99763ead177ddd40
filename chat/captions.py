"""Live captions of a call (off by default: ``CALL_CAPTIONS``): who hears them, how audio reaches the worker, and
the caption worker itself (``manage.py caption_worker``).

1. **Forward.** When a participant publishes (``chat.call_frames``, after ``chat.calls.media_grant`` said yes: the
   consultation's access policy), :func:`follow` puts that socket in the call's caption group (``chat.call.<id>``:
   only sockets that publish in the call, never the consultation's other readers), names an SSRC for this speaker
   in the cache (SSRC → call, user, name), and asks Janus (``rtp_forward``, with the admin key) to send the
   speaker's audio as plain RTP with that SSRC to one caption worker (``CALL_CAPTION_ADDRESSES``, by call).
2. **Caption.** :class:`CaptionWorker` listens on one UDP port, looks each new SSRC up in the cache (unknown ones are
   dropped), decodes each speaker's Opus into a sliding window (``transcription.captions``) and, one window at a
   time on one inference thread, runs Whisper every ``CALL_CAPTION_INTERVAL`` s on windows with new speech.
3. **Publish.** Each result goes out as ``call.caption`` (``chat.live_events.CAPTION``) through the catalogue,
   carrying its latency: from the arrival of the oldest audio in the update to the frame's sending.

Bounded work: one UDP socket, at most ``CALL_CAPTION_MAX_STREAMS`` speakers, a window of at most
``CALL_CAPTION_MAX_SECONDS``, one inference at a time (a busy worker updates each line less often, never queues).
Plain RTP on the worker's port is not authenticated: keep the port on loopback or a private network, like Janus's
own API.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.cache import cache

from chat.janus import JanusAdmin, JanusError
from chat.live_events import CAPTION
from consult.realtime.catalogue import publish_now
from transcription.captions import (
    CaptionWindow,
    OpusDecoder,
    RtpPacket,
    WindowTake,
    parse_rtp,
    seq_newer,
    transcribe_window,
)
from transcription.engines import Engine

logger = logging.getLogger(__name__)

SSRC_KEY = "call-caption-ssrc:{}"
SSRC_TTL_S = 6 * 3600  # a call never lasts longer; a forgotten SSRC only stops its captions
IDLE_STREAM_S = 30.0  # a speaker silent this long (no packets) is forgotten
UNKNOWN_RETRY_S = 5.0  # an SSRC the cache did not know is asked again after this long
PENDING_PACKETS = 100  # packets held per SSRC while the cache is asked (2 s of audio)
TICK_S = 0.1


def enabled() -> bool:
    return bool(settings.CALL_CAPTIONS)


def caption_group(call_id: int) -> str:
    return CAPTION.group(call_id)


def worker_address(call_id: int) -> tuple[str, int]:
    """The caption worker of a call: ``CALL_CAPTION_ADDRESSES`` spread by call."""
    addresses = list(settings.CALL_CAPTION_ADDRESSES)
    host, _, port = addresses[call_id % len(addresses)].rpartition(":")
    return host.strip("[]"), int(port)


# --- the server side: a publishing participant's audio goes to a worker -------------------------------------------


async def follow(consumer: Any, call_id: int, grant: dict[str, Any], joined: dict[str, Any]) -> None:
    """A participant now publishes in the call (``grant``: ``chat.calls.media_grant``'s answer; ``joined``: Janus's
    answer to the publisher's join): their socket hears the call's captions, and their audio goes to the worker."""
    await consumer.channel_layer.group_add(caption_group(call_id), consumer.channel_name)
    publisher = int(joined.get("id") or 0)
    if not publisher:
        return
    audio = [s for s in joined.get("streams") or [] if s.get("type") == "audio"]
    mid = str(audio[0].get("mid", "0")) if audio else "0"
    ssrc = secrets.randbits(32) or 1
    speaker = {"call": call_id, "user": int(consumer.user.pk), "name": consumer.user.get_full_name()}
    await cache.aset(SSRC_KEY.format(ssrc), speaker, SSRC_TTL_S)
    host, port = worker_address(call_id)
    admin = JanusAdmin(grant["url"], settings.JANUS_API_SECRET)
    try:
        await asyncio.to_thread(admin.rtp_forward, grant["room"], publisher, host=host, port=port, ssrc=ssrc, mid=mid)
    except JanusError as error:  # the call goes on without captions
        logger.warning("call %s: captions not forwarded: %s", call_id, error)


async def unfollow(consumer: Any, call_id: int) -> None:
    """The socket no longer publishes in the call: no more of its captions (Janus drops the forwarder itself)."""
    with contextlib.suppress(Exception):
        await consumer.channel_layer.group_discard(caption_group(call_id), consumer.channel_name)


# --- the worker ----------------------------------------------------------------------------------------------------


@dataclass
class Speaker:
    call: int
    user: int
    name: str
    window: CaptionWindow
    decoder: OpusDecoder = field(default_factory=OpusDecoder)
    last_seq: int | None = None


@dataclass(frozen=True)
class WorkerOptions:
    language: str = "zh"
    interval: float = 2.0
    max_seconds: float = 10.0
    max_streams: int = 32

    @classmethod
    def from_settings(cls) -> WorkerOptions:
        return cls(
            language=str(settings.CALL_CAPTION_LANGUAGE),
            interval=float(settings.CALL_CAPTION_INTERVAL),
            max_seconds=float(settings.CALL_CAPTION_MAX_SECONDS),
            max_streams=int(settings.CALL_CAPTION_MAX_STREAMS),
        )


Sink = Callable[[int, dict[str, Any]], Any]  # (call id, frame) → awaitable; default: the catalogue


async def _publish(call_id: int, frame: dict[str, Any]) -> None:
    await publish_now(CAPTION, call_id, frame)


class CaptionWorker(asyncio.DatagramProtocol):
    """One UDP port, every speaker forwarded to it; one inference at a time."""

    def __init__(self, engine: Engine, options: WorkerOptions, sink: Sink | None = None) -> None:
        self.engine, self.options, self.sink = engine, options, sink or _publish
        self.speakers: dict[int, Speaker] = {}
        self.unknown: dict[int, float] = {}  # SSRC → when the cache did not know it
        self.pending: dict[int, list[tuple[RtpPacket, float]]] = {}  # SSRC → packets while its lookup runs
        self.lookups: set[asyncio.Task[None]] = set()
        self.inference = ThreadPoolExecutor(max_workers=1, thread_name_prefix="caption")
        self.latencies_ms: list[int] = []
        self.inference_s: list[float] = []  # wall seconds of each Whisper run (the last 1 000)
        self.transport: asyncio.DatagramTransport | None = None

    # receiving

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        arrival = time.monotonic()
        packet = parse_rtp(data)
        if packet is None:
            return
        speaker = self.speakers.get(packet.ssrc)
        if speaker is not None:
            self._take_in(speaker, packet, arrival)
            return
        held = self.pending.get(packet.ssrc)
        if held is not None:
            if len(held) < PENDING_PACKETS:
                held.append((packet, arrival))
            return
        if arrival - self.unknown.get(packet.ssrc, -UNKNOWN_RETRY_S) < UNKNOWN_RETRY_S:
            return
        if len(self.speakers) + len(self.pending) >= self.options.max_streams:
            logger.warning("captions: %s speakers already, SSRC %s ignored", self.options.max_streams, packet.ssrc)
            self.unknown[packet.ssrc] = arrival
            return
        self.pending[packet.ssrc] = [(packet, arrival)]
        lookup = asyncio.get_running_loop().create_task(self._resolve(packet.ssrc))
        self.lookups.add(lookup)  # held until done: the loop keeps only weak references to tasks
        lookup.add_done_callback(self.lookups.discard)

    async def _resolve(self, ssrc: int) -> None:
        try:
            found = await cache.aget(SSRC_KEY.format(ssrc))
        except Exception:
            logger.exception("captions: SSRC %s could not be looked up", ssrc)
            found = None
        held = self.pending.pop(ssrc, [])
        if not isinstance(found, dict):
            self.unknown[ssrc] = time.monotonic()
            return
        window = CaptionWindow(interval=self.options.interval, max_seconds=self.options.max_seconds)
        speaker = Speaker(call=int(found["call"]), user=int(found["user"]), name=str(found["name"]), window=window)
        self.speakers[ssrc] = speaker
        logger.info("captions: call %s, user %s on SSRC %s", speaker.call, speaker.user, ssrc)
        for packet, arrival in held:
            self._take_in(speaker, packet, arrival)

    def _take_in(self, speaker: Speaker, packet: RtpPacket, arrival: float) -> None:
        if speaker.last_seq is not None and not seq_newer(packet.seq, speaker.last_seq):
            return  # a duplicate or a late packet: its place in the window has passed
        speaker.last_seq = packet.seq
        speaker.window.add(speaker.decoder.decode(packet.payload), arrival)

    # captioning

    async def run(self, host: str, port: int, *, ready: Callable[[int], None] | None = None) -> None:
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(lambda: self, local_addr=(host, port))
        bound = int(transport.get_extra_info("sockname")[1])
        logger.info("caption worker listening on %s:%s (UDP)", host, bound)
        if ready is not None:
            ready(bound)
        try:
            while True:
                if not await self.step():
                    await asyncio.sleep(TICK_S)
        finally:
            transport.close()
            self.inference.shutdown(wait=False, cancel_futures=True)

    async def step(self) -> bool:
        """Caption the speaker whose update is most overdue; whether there was one."""
        now = time.monotonic()
        self._forget_idle(now)
        due = [s for s in self.speakers.values() if s.window.due(now)]
        if not due:
            return False
        speaker = min(due, key=lambda s: s.window.last_take)
        take = speaker.window.take(now)
        text = take.previous_text
        if take.fresh and take.audio.size:
            loop, started = asyncio.get_running_loop(), time.monotonic()
            text = await loop.run_in_executor(
                self.inference, transcribe_window, self.engine, take.audio, self.options.language
            )
            self.inference_s.append(time.monotonic() - started)
            del self.inference_s[:-1000]
        if not take.final:
            speaker.window.last_text = text
        if text or take.final:
            await self._send(speaker, take, text)
        return True

    async def _send(self, speaker: Speaker, take: WindowTake, text: str) -> None:
        latency_ms = int((time.monotonic() - take.oldest_arrival) * 1000)
        frame = {
            "call": speaker.call,
            "user": speaker.user,
            "name": speaker.name,
            "line": take.line,
            "text": text,
            "final": take.final,
            "latency_ms": latency_ms,
        }
        if take.fresh:
            self.latencies_ms.append(latency_ms)
            del self.latencies_ms[:-1000]
        try:
            await self.sink(speaker.call, frame)
        except Exception:
            logger.exception("captions: call %s, a frame could not be sent", speaker.call)

    def _forget_idle(self, now: float) -> None:
        for ssrc, speaker in list(self.speakers.items()):
            if now - speaker.window.last_packet > IDLE_STREAM_S and not speaker.window.voiced:
                del self.speakers[ssrc]
        for ssrc, when in list(self.unknown.items()):
            if now - when > UNKNOWN_RETRY_S:
                del self.unknown[ssrc]


def bind_address() -> tuple[str, int]:
    """Where this worker listens: the first of ``CALL_CAPTION_ADDRESSES`` unless told otherwise."""
    return worker_address(0)
