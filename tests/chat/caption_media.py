"""Real speech as real Opus RTP for the caption tests and the call benchmark: espeak-ng speaks, libopus (through
PyAV) encodes 20 ms frames, and each frame goes into an RTP packet the way Janus forwards it (a header extension
included)."""

from __future__ import annotations

import shutil
import subprocess
import wave
from pathlib import Path

import av

from tests.required import skip_or_fail

SENTENCE = "the school district plan will be published next week"


def speech_wav(folder: Path, text: str = SENTENCE, voice: str = "en", pad_s: float = 0.5) -> Path:
    """``text`` spoken by espeak-ng, with ``pad_s`` of silence before and after."""
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        skip_or_fail("espeak-ng is not installed (apt-get install espeak-ng)")
        raise AssertionError("unreachable")
    folder.mkdir(parents=True, exist_ok=True)
    raw, padded = folder / "raw.wav", folder / "speech.wav"
    subprocess.run([espeak, "-v", voice, "-s", "150", "-w", str(raw), text], check=True)
    with wave.open(str(raw), "rb") as source:
        params, frames = source.getparams(), source.readframes(source.getnframes())
    silence = b"\x00" * (int(params.framerate * pad_s) * params.sampwidth * params.nchannels)  # whole samples
    with wave.open(str(padded), "wb") as out:
        out.setparams(params)
        out.writeframes(silence + frames + silence)
    return padded


def opus_frames(wav: Path) -> list[bytes]:
    """The file as Opus packets of 20 ms (48 kHz mono, libopus)."""
    encoder = av.CodecContext.create("libopus", "w")
    encoder.sample_rate, encoder.layout, encoder.format = 48000, "mono", "s16"  # type: ignore[attr-defined]
    resampler = av.AudioResampler(format="s16", layout="mono", rate=48000)
    packets: list[bytes] = []
    with av.open(str(wav)) as container:
        for frame in container.decode(audio=0):
            for resampled in resampler.resample(frame):
                packets += [bytes(p) for p in encoder.encode(resampled)]  # type: ignore[attr-defined]
    packets += [bytes(p) for p in encoder.encode(None)]  # type: ignore[attr-defined]
    return packets


def rtp_packet(payload: bytes, *, ssrc: int, seq: int, timestamp: int, payload_type: int = 111) -> bytes:
    """RTP version 2 with a one-word header extension (as Janus sends: audio level, mid)."""
    header = bytes([0x90, payload_type & 0x7F]) + (seq % 65536).to_bytes(2, "big")
    header += (timestamp % 2**32).to_bytes(4, "big") + ssrc.to_bytes(4, "big")
    extension = b"\xbe\xde\x00\x01" + b"\x10\x2a\x00\x00"  # one-byte header extension, one element, padded
    return header + extension + payload
