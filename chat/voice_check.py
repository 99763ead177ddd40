"""Is an upload a short voice recording? Checked by its content, never by its name.

Accepted: what browsers' MediaRecorder writes — WebM (Matroska) or Ogg with Opus (Chrome, Firefox, Android), MP4
with AAC (Safari on iPhones). The file is opened and decoded with PyAV (FFmpeg): the container and codec are the
demuxer's answer, the duration is the decoded samples (MediaRecorder's WebM carries no duration), and the level
bar is measured on the way. A cut-off upload is found by the container's own structure: an element, page or box
that runs past the end of the file, or an Ogg stream without its last page.

Every refusal is an :class:`~consult.kernel.exceptions.InvalidInput` on the field ``file`` with a code naming the
problem: ``too_large``, ``empty``, ``not_audio``, ``truncated``, ``too_long``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import IO, Any

import av
import numpy as np
from django.conf import settings
from django.utils.translation import gettext as _

from consult.kernel.exceptions import InvalidInput

LEVELS = 48  # bars in the level bar
ACCEPTED = "WebM/Ogg (Opus), MP4 (AAC)"


@dataclass(frozen=True)
class VoiceFacts:
    container: str  # "webm" | "ogg" | "mp4"
    codec: str  # "opus" | "aac"
    duration: float  # seconds, decoded
    levels: list[float]  # LEVELS values in 0..1
    content_type: str
    extension: str


# PyAV's format name -> (our name, accepted codecs, content type, extension)
_CONTAINERS: dict[str, tuple[str, frozenset[str], str, str]] = {
    "matroska,webm": ("webm", frozenset({"opus"}), "audio/webm", ".webm"),
    "ogg": ("ogg", frozenset({"opus"}), "audio/ogg", ".ogg"),
    "mov,mp4,m4a,3gp,3g2,mj2": ("mp4", frozenset({"aac"}), "audio/mp4", ".m4a"),
}


def _refuse(message: str, code: str) -> InvalidInput:
    return InvalidInput(message, code=code, field="file")


def _not_audio() -> InvalidInput:
    return _refuse(_("the file is not a voice recording (accepted: %(types)s)") % {"types": ACCEPTED}, "not_audio")


def _truncated() -> InvalidInput:
    return _refuse(_("the recording is cut off (the upload is incomplete); send it again"), "truncated")


def check_voice(stream: IO[bytes], size: int) -> VoiceFacts:
    """The facts of a voice recording, or ``InvalidInput`` naming what is wrong. ``stream`` is left at 0."""
    max_bytes = int(settings.CHAT_VOICE_MAX_BYTES)
    if size <= 0:
        raise _refuse(_("the recording is empty"), "empty")
    if size > max_bytes:
        limit = {"kb": max_bytes // 1024}
        raise _refuse(_("the recording is larger than %(kb)d KB") % limit, "too_large")
    stream.seek(0)
    data = stream.read(max_bytes + 1)
    stream.seek(0)
    if len(data) != size:
        raise _truncated()
    try:
        facts = _decode(stream)
    finally:
        stream.seek(0)
    if facts is None:
        sniffed = _sniff(data)
        if sniffed is not None and _cut_off(sniffed, data):
            raise _truncated()  # the start of a recording, cut off before the demuxer could read it
        raise _not_audio()
    if _cut_off(facts[0], data):
        raise _truncated()
    container, codec, duration, levels = facts
    if duration <= 0.05:
        raise _refuse(_("the recording is empty"), "empty")
    max_seconds = float(settings.CHAT_VOICE_MAX_SECONDS)
    if duration > max_seconds:
        numbers = {"s": math.ceil(duration), "max": max_seconds}
        raise _refuse(_("the recording is too long: %(s)d s, at most %(max).0f s") % numbers, "too_long")
    _name, _codecs, content_type, extension = _CONTAINERS[container]
    return VoiceFacts(_name, codec, round(duration, 2), levels, content_type, extension)


def _decode(stream: IO[bytes]) -> tuple[str, str, float, list[float]] | None:
    """(PyAV format name, codec, decoded seconds, levels), or None when it is no accepted recording."""
    try:
        with av.open(stream, mode="r") as container:
            name = container.format.name
            if name not in _CONTAINERS or len(container.streams.video) or len(container.streams.audio) != 1:
                return None
            audio = container.streams.audio[0]
            codec = audio.codec_context.name
            if codec not in _CONTAINERS[name][1]:
                return None
            rate = audio.codec_context.sample_rate or 48000
            samples = 0
            peaks: list[float] = []  # one per 50 ms
            window = max(1, rate // 20)
            pending_peak, pending_count = 0.0, 0
            longest = (settings.CHAT_VOICE_MAX_SECONDS + 1) * rate  # past it the clip is refused: stop decoding
            for frame in container.decode(audio):
                raw = frame.to_ndarray()
                samples += frame.samples
                if samples > longest:
                    break
                scale = float(2 ** (8 * raw.dtype.itemsize - 1)) if raw.dtype.kind == "i" else 1.0
                plane = np.abs(np.asarray(raw, dtype=np.float32)) / scale
                flat: np.ndarray[Any, Any] = plane.max(axis=0) if plane.ndim == 2 else plane
                for start in range(0, len(flat), window):
                    chunk = flat[start : start + window]
                    pending_peak = max(pending_peak, float(chunk.max()) if len(chunk) else 0.0)
                    pending_count += len(chunk)
                    if pending_count >= window:
                        peaks.append(pending_peak)
                        pending_peak, pending_count = 0.0, 0
            if pending_count:
                peaks.append(pending_peak)
    except (av.FFmpegError, ValueError, IndexError, EOFError, OSError):
        return None
    if samples == 0:
        return None
    return name, codec, samples / rate, _levels(peaks)


def _levels(peaks: list[float]) -> list[float]:
    """LEVELS bars, each the loudest 50 ms in its stretch, scaled so the loudest bar is 1."""
    if not peaks:
        return [0.0] * LEVELS
    bars = []
    for i in range(LEVELS):
        lo = i * len(peaks) // LEVELS
        hi = max(lo + 1, (i + 1) * len(peaks) // LEVELS)
        bars.append(max(peaks[lo:hi]) if lo < len(peaks) else 0.0)
    top = max(bars) or 1.0
    return [round(min(1.0, bar / top), 2) for bar in bars]


# --- cut-off uploads, by the container's own structure --------------------------------------------------------


def _sniff(data: bytes) -> str | None:
    """The PyAV format name a file's first bytes announce, if one of ours."""
    if data.startswith(b"\x1a\x45\xdf\xa3"):
        return "matroska,webm"
    if data.startswith(b"OggS"):
        return "ogg"
    if data[4:8] == b"ftyp":
        return "mov,mp4,m4a,3gp,3g2,mj2"
    return None


def _cut_off(format_name: str, data: bytes) -> bool:
    container = _CONTAINERS[format_name][0]
    if container == "webm":
        return _ebml_cut_off(data)
    if container == "ogg":
        return _ogg_cut_off(data)
    return _mp4_cut_off(data)


_CLUSTER = 0x1F43B675
_SEGMENT = 0x18538067
_LEVEL1 = {0x114D9B74, 0x1549A966, 0x1654AE6B, _CLUSTER, 0x1C53BB6B, 0x1941A469, 0x1043A770, 0x1254C367}


def _vint(data: bytes, pos: int, *, keep_marker: bool) -> tuple[int, int, bool] | None:
    """(value, length, all ones) of an EBML variable-length integer at ``pos``, None past the end."""
    if pos >= len(data):
        return None
    first = data[pos]
    length = 8 - first.bit_length() + 1 if first else 9
    if length > 8 or pos + length > len(data):
        return None
    value = first if keep_marker else first & (0xFF >> length)
    for byte in data[pos + 1 : pos + length]:
        value = (value << 8) | byte
    unknown = not keep_marker and value == (1 << (7 * length)) - 1
    return value, length, unknown


def _ebml_element(data: bytes, pos: int) -> tuple[int, int, int | None] | None:
    """(id, start of the content, size or None when unknown) of the element at ``pos``; None when cut off."""
    ident = _vint(data, pos, keep_marker=True)
    if ident is None:
        return None
    size = _vint(data, pos + ident[1], keep_marker=False)
    if size is None:
        return None
    return ident[0], pos + ident[1] + size[1], None if size[2] else size[0]


def _ebml_cut_off(data: bytes) -> bool:
    """Walk the header, the Segment and its children (into clusters of unknown size, as MediaRecorder writes)."""
    pos = 0
    while pos < len(data):
        element = _ebml_element(data, pos)
        if element is None:
            return True
        ident, start, size = element
        if ident == _SEGMENT:
            end = len(data) if size is None else start + size
            if end > len(data):
                return True
            return _children_cut_off(data, start, end)
        if size is None or start + size > len(data):
            return True
        pos = start + size
    return False


def _children_cut_off(data: bytes, pos: int, end: int) -> bool:
    while pos < end:
        element = _ebml_element(data, pos)
        if element is None:
            return True
        ident, start, size = element
        if size is not None:
            if start + size > len(data):
                return True
            pos = start + size
            continue
        if ident != _CLUSTER:
            return True  # only clusters are written with an unknown size
        pos = start
        while pos < end:  # a cluster of unknown size ends where the next level-1 element starts
            child = _ebml_element(data, pos)
            if child is None:
                return True
            if child[0] in _LEVEL1:
                break
            if child[2] is None or child[1] + child[2] > len(data):
                return True
            pos = child[1] + child[2]
    return False


def _ogg_cut_off(data: bytes) -> bool:
    """Ogg pages follow each other to the end of the file, and the last one ends the stream."""
    pos, last_flags = 0, 0
    while pos < len(data):
        if data[pos : pos + 4] != b"OggS" or pos + 27 > len(data):
            return True
        segments = data[pos + 26]
        table_end = pos + 27 + segments
        if table_end > len(data):
            return True
        page_end = table_end + sum(data[pos + 27 : table_end])
        if page_end > len(data):
            return True
        last_flags = data[pos + 5]
        pos = page_end
    return not last_flags & 0x04


def _mp4_cut_off(data: bytes) -> bool:
    """Top-level boxes follow each other to the end of the file."""
    pos = 0
    while pos < len(data):
        if pos + 8 > len(data):
            return True
        size = int.from_bytes(data[pos : pos + 4], "big")
        if size == 1:
            if pos + 16 > len(data):
                return True
            size = int.from_bytes(data[pos + 8 : pos + 16], "big")
        elif size == 0:
            return False  # to the end of the file
        if size < 8 or pos + size > len(data):
            return True
        pos += size
    return False
