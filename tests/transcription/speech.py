"""Speech for the tests and the benchmark, synthesised with espeak-ng (no recordings, no network)."""

from __future__ import annotations

import re
import shutil
import subprocess
import unicodedata
from pathlib import Path

from tests.required import skip_or_fail

# Short everyday sentences: Whisper base recognises espeak-ng's Mandarin reliably on these; on one long sentence
# (今天下午三点在会议室开会，讨论城市交通问题) it does not (CER ~0.8 at espeak's default speed), so a clip is
# several short sentences with pauses between, which also gives the VAD silence to skip.
MANDARIN = ["你好，我是人大代表。", "我们明天上午开会。", "谢谢大家的支持。"]
ENGLISH = "The committee will discuss public transport in the city next Tuesday afternoon."


def require_tools(*tools: str) -> None:
    for tool in tools:
        if shutil.which(tool) is None:
            skip_or_fail(f"{tool} is not installed (apt-get install espeak-ng sox ffmpeg)")


def say(path: Path, text: str, voice: str) -> Path:
    """``voice`` cmn-latn-pinyin for Mandarin: Debian 12's plain ``cmn`` reads pinyin letters as English."""
    require_tools("espeak-ng")
    subprocess.run(["espeak-ng", "-v", voice, "-w", str(path), text], check=True, capture_output=True)
    return path


def mandarin_clip(directory: Path, sentences: list[str] = MANDARIN, pause: float = 1.5) -> Path:
    """The sentences spoken one after another with ``pause`` seconds of silence around each, 16 kHz mono WAV."""
    require_tools("espeak-ng", "sox")
    parts = [say(directory / f"zh-{i}.wav", text, "cmn-latn-pinyin") for i, text in enumerate(sentences)]
    out = directory / "mandarin.wav"
    padded = []
    for part in parts:
        padded_part = part.with_suffix(".pad.wav")
        subprocess.run(["sox", str(part), str(padded_part), "pad", "0", str(pause)], check=True, capture_output=True)
        padded.append(str(padded_part))
    subprocess.run(["sox", *padded, "-r", "16000", "-c", "1", str(out), "pad", str(pause), "0"], check=True)
    return out


def english_clip(directory: Path, text: str = ENGLISH) -> Path:
    require_tools("espeak-ng", "sox")
    raw = say(directory / "en-raw.wav", text, "en-us")
    out = directory / "english.wav"
    subprocess.run(["sox", str(raw), "-r", "16000", "-c", "1", str(out), "pad", "0.5", "0.5"], check=True)
    return out


def duration(path: Path) -> float:
    require_tools("sox")
    return float(subprocess.run(["soxi", "-D", str(path)], check=True, capture_output=True, text=True).stdout)


def _levenshtein(a: list[str], b: list[str]) -> int:
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, start=1):
        current = [i]
        for j, y in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        previous = current
    return previous[-1]


def _chars(text: str) -> list[str]:
    return [c for c in unicodedata.normalize("NFKC", text) if c.isalnum()]


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


def cer(reference: str, hypothesis: str) -> float:
    """Character error rate over letters, digits and CJK characters (punctuation and spaces ignored)."""
    ref = _chars(reference)
    return _levenshtein(ref, _chars(hypothesis)) / max(1, len(ref))


def wer(reference: str, hypothesis: str) -> float:
    ref = _words(reference)
    return _levenshtein(ref, _words(hypothesis)) / max(1, len(ref))
