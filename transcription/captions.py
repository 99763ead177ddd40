"""Live captions' media half, free of any domain: RTP in, Opus decoded, a sliding window per speaker, Whisper on it.

A caption worker (``chat.captions``) receives each speaker's audio as plain RTP, forwarded by the media server
(Janus ``rtp_forward``), one SSRC per speaker. For each packet: :func:`parse_rtp` takes the Opus payload out of
the RTP header, :class:`OpusDecoder` turns it into 16 kHz mono samples, :class:`CaptionWindow` keeps the current
line's audio. Every ``interval`` seconds a window with new speech is transcribed whole (:func:`transcribe_window`),
which gives a partial line that replaces the previous one; a line becomes final after a pause or when it reaches
``max_seconds``, and the next line starts empty. Whisper pads every input to 30 s, so one update costs about the
same whatever the window's length: the window is bounded by the line, not by the cost.
"""

from __future__ import annotations

import os
import tempfile
import wave
from dataclasses import dataclass, field

import av
import numpy as np

from transcription.engines import Engine

RATE = 16_000  # Whisper's sample rate
RTP_VERSION = 2


@dataclass(frozen=True)
class RtpPacket:
    ssrc: int
    seq: int
    timestamp: int
    payload_type: int
    payload: bytes


def parse_rtp(data: bytes) -> RtpPacket | None:
    """The packet's header fields and payload (RFC 3550: CSRCs, a header extension and padding skipped), or
    ``None`` for anything that is not RTP version 2 with a payload (RTCP included: payload types 72-76)."""
    if len(data) < 12 or data[0] >> 6 != RTP_VERSION:
        return None
    payload_type = data[1] & 0x7F
    if 72 <= payload_type <= 76:  # RTCP on the same port (rtcp-mux)
        return None
    offset = 12 + 4 * (data[0] & 0x0F)
    if data[0] & 0x10:  # header extension: 16-bit profile, 16-bit length in 32-bit words
        if len(data) < offset + 4:
            return None
        offset += 4 + 4 * int.from_bytes(data[offset + 2 : offset + 4], "big")
    end = len(data)
    if data[0] & 0x20:  # padding: the last byte counts it
        end -= data[-1]
    if offset >= end:
        return None
    return RtpPacket(
        ssrc=int.from_bytes(data[8:12], "big"),
        seq=int.from_bytes(data[2:4], "big"),
        timestamp=int.from_bytes(data[4:8], "big"),
        payload_type=payload_type,
        payload=data[offset:end],
    )


def seq_newer(seq: int, than: int) -> bool:
    """RTP sequence numbers wrap at 2^16: ``seq`` is newer when it is less than half the circle ahead."""
    return 0 < (seq - than) % 65536 < 32768


class OpusDecoder:
    """One speaker's Opus stream (FFmpeg's decoder, through PyAV) → float32 mono samples at 16 kHz."""

    def __init__(self) -> None:
        self._codec = av.CodecContext.create("opus", "r")
        self._resampler = av.AudioResampler(format="flt", layout="mono", rate=RATE)

    def decode(self, payload: bytes) -> np.ndarray:
        chunks = []
        try:
            for frame in self._codec.decode(av.Packet(payload)):
                for resampled in self._resampler.resample(frame):
                    chunks.append(resampled.to_ndarray().reshape(-1))
        except av.error.FFmpegError:
            return np.zeros(0, dtype=np.float32)  # a damaged packet: its 20 ms are lost, the stream goes on
        return np.concatenate(chunks).astype(np.float32) if chunks else np.zeros(0, dtype=np.float32)


@dataclass(frozen=True)
class WindowTake:
    """What to transcribe now: the line's audio so far, and the arrival of its oldest audio not yet captioned."""

    line: int
    audio: np.ndarray
    oldest_arrival: float
    final: bool
    fresh: bool  # audio arrived since the last take (else a final repeats the last partial's text)
    previous_text: str


@dataclass
class CaptionWindow:
    """The current line of one speaker: its audio since the line began, at most ``max_seconds``."""

    interval: float = 2.0  # seconds between updates of a line
    max_seconds: float = 10.0  # a line this long becomes final
    pause_seconds: float = 0.8  # this much quiet (or no packets) after speech ends a line
    threshold: float = 0.01  # RMS of speech (float samples; about -40 dBFS)
    preroll_seconds: float = 0.3  # quiet kept before speech starts
    line: int = 0
    chunks: list[np.ndarray] = field(default_factory=list)
    samples: int = 0
    voiced: bool = False
    pending_since: float | None = None  # arrival of the oldest audio not in a caption yet
    last_packet: float = 0.0
    last_take: float = 0.0
    last_text: str = ""

    def add(self, pcm: np.ndarray, arrival: float) -> None:
        if not pcm.size:
            return
        self.chunks.append(pcm)
        self.samples += pcm.size
        self.last_packet = arrival
        if self.pending_since is None:
            self.pending_since = arrival
        if not self.voiced and _rms(pcm) >= self.threshold:
            self.voiced, self.last_take = True, arrival  # the first partial comes an interval into the speech
        if not self.voiced:
            self._trim_to(int(self.preroll_seconds * RATE))

    def due(self, now: float) -> bool:
        """A partial is due every ``interval`` while speech comes in; a final once the speaker pauses or stops."""
        if not self.voiced:
            return False
        if self.samples >= self.max_seconds * RATE or self._quiet_tail() or self.idle(now):
            return True
        return self.pending_since is not None and now - self.last_take >= self.interval

    def idle(self, now: float) -> bool:
        return now - self.last_packet >= self.pause_seconds

    def take(self, now: float) -> WindowTake:
        """The line's audio for transcription; a final take starts the next line."""
        final = self.samples >= self.max_seconds * RATE or self._quiet_tail() or self.idle(now)
        audio = np.concatenate(self.chunks) if self.chunks else np.zeros(0, dtype=np.float32)
        fresh = self.pending_since is not None
        oldest = self.pending_since if self.pending_since is not None else now
        taken = WindowTake(self.line, audio, oldest, final, fresh, self.last_text)
        self.pending_since, self.last_take = None, now
        if final:
            self.line += 1
            self.chunks, self.samples, self.voiced, self.last_text = [], 0, False, ""
        return taken

    def _quiet_tail(self) -> bool:
        tail = int(self.pause_seconds * RATE)
        if self.samples < tail * 2:
            return False
        return _rms(np.concatenate(self.chunks)[-tail:]) < self.threshold

    def _trim_to(self, keep: int) -> None:
        if self.samples <= keep:
            return
        audio = np.concatenate(self.chunks)[-keep:]
        self.chunks, self.samples = [audio], int(audio.size)


def _rms(pcm: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(pcm, dtype=np.float64)))) if pcm.size else 0.0


def write_wav(path: str, audio: np.ndarray) -> None:
    pcm = (np.clip(audio, -1.0, 1.0) * 32767).astype("<i2")
    with wave.open(path, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(pcm.tobytes())


def transcribe_window(engine: Engine, audio: np.ndarray, language: str) -> str:
    """One window's text (both engines read a file: the window is written to a temporary WAV, in memory where
    the system has ``/dev/shm``)."""
    folder = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108 (a private temporary file)
    with tempfile.NamedTemporaryFile(suffix=".wav", dir=folder) as handle:
        write_wav(handle.name, audio)
        segments = engine.transcribe(handle.name, language=language)
    joiner = "" if language in ("zh", "ja", "ko") else " "
    return joiner.join(segment.text.strip() for segment in segments).strip()
