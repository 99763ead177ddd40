"""Recordings for the voice tests, made with PyAV (the same FFmpeg the server probes with): no files checked in."""

from __future__ import annotations

import io

import av
import numpy as np

RATE = 48000


def clip(seconds: float, container: str = "webm", *, live: bool = True, tone: float = 440.0) -> bytes:
    """A tone of ``seconds`` as Opus in WebM (``live``: no duration in the header, as MediaRecorder writes) or Ogg,
    or as AAC in MP4."""
    out = io.BytesIO()
    options = {"live": "1"} if container == "webm" and live else {}
    fmt = {"webm": "webm", "ogg": "ogg", "mp4": "mp4"}[container]
    with av.open(out, mode="w", format=fmt, options=options) as muxer:
        stream = muxer.add_stream("libopus" if container != "mp4" else "aac", rate=RATE)
        stream.bit_rate = 24000 if container != "mp4" else 32000
        stream.layout = "mono"
        step = 960
        total = int(seconds * RATE)
        t = np.arange(total, dtype=np.float32) / RATE
        wave = (0.3 * np.sin(2 * np.pi * tone * t) * (0.5 + 0.5 * np.sin(2 * np.pi * 0.5 * t))).astype(np.float32)
        for start in range(0, total, step):
            chunk = wave[start : start + step]
            if len(chunk) < step:
                chunk = np.pad(chunk, (0, step - len(chunk)))
            frame = av.AudioFrame.from_ndarray(chunk.reshape(1, -1), format="flt", layout="mono")
            frame.sample_rate = RATE
            frame.pts = start
            for packet in stream.encode(frame):
                muxer.mux(packet)
        for packet in stream.encode(None):
            muxer.mux(packet)
    return out.getvalue()
