"""Fixtures of the transcription tests: a registered source that records its on_change calls, a recording in
a scratch MEDIA_ROOT, and a fake engine for the job life-cycle tests (the only thing faked: the engine)."""

from __future__ import annotations

import math
import struct
import wave
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.db import connection
from pytest_django.fixtures import Settings

from transcription import jobs, services
from transcription.models import Transcript
from transcription.sources import SourceHooks, register_source, unregister_source

KIND = "test.voice"
ORIGINAL_DISPATCH = services.dispatch


@dataclass(frozen=True)
class Seg:
    start: float
    end: float
    text: str
    confidence: float


@dataclass(frozen=True)
class Seen:
    transcript_id: int
    status: str
    attempts: int
    text: str
    in_atomic_block: bool


@dataclass
class Source:
    """The registered ``test.voice`` source: what its on_change hook saw, in order."""

    seen: list[Seen] = field(default_factory=list)
    fail_with: Exception | None = None

    def on_change(self, transcript: Transcript) -> None:
        self.seen.append(
            Seen(
                transcript.pk,
                transcript.status,
                transcript.attempts,
                transcript.text,
                connection.in_atomic_block,
            )
        )
        if self.fail_with is not None:
            raise self.fail_with

    @property
    def statuses(self) -> list[str]:
        return [seen.status for seen in self.seen]


@pytest.fixture
def source() -> Iterator[Source]:
    recorder = Source()
    register_source(KIND, SourceHooks(on_change=recorder.on_change))
    try:
        yield recorder
    finally:
        unregister_source(KIND)


def write_tone(path: Path, seconds: float = 1.0, rate: int = 16000) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        frames = (int(8000 * math.sin(2 * math.pi * 440 * n / rate)) for n in range(int(seconds * rate)))
        out.writeframes(b"".join(struct.pack("<h", sample) for sample in frames))
    return path


@pytest.fixture
def media(settings: Settings, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()
    return Path(settings.MEDIA_ROOT)


@pytest.fixture
def audio(media: Path) -> str:
    """The storage name of a one-second recording."""
    write_tone(media / "voice" / "clip.wav")
    return "voice/clip.wav"


@dataclass
class FakeEngine:
    """Stands in for ``transcription.engines.get_engine()`` in the life-cycle tests."""

    segments: Sequence[Seg] = (Seg(0.0, 1.2, "请问学区划分", 0.9), Seg(1.2, 2.5, "什么时候公布？", 0.8))
    error: BaseException | None = None
    name: str = "fake-engine"
    model_name: str = "fake-base"
    calls: list[tuple[str, str]] = field(default_factory=list)
    sleep_s: float = 0.0

    def transcribe(self, audio: object, language: str = "zh", prompt: str | None = None) -> list[Seg]:
        import time

        self.calls.append((str(audio), language))
        if self.sleep_s:
            time.sleep(self.sleep_s)
        if self.error is not None:
            raise self.error
        return list(self.segments)


@pytest.fixture
def engine(monkeypatch: pytest.MonkeyPatch) -> FakeEngine:
    """A fake engine at the engine boundary, for jobs the tests run through ``dispatch`` (eager)."""
    fake = FakeEngine()
    monkeypatch.setattr(jobs, "load_engine", lambda: fake)
    return fake


@dataclass
class Outbox:
    """The messages the services sent (transcript id, countdown), instead of a broker."""

    sent: list[tuple[int, int]] = field(default_factory=list)

    def __call__(self, transcript_id: int, countdown: int = 0) -> None:
        self.sent.append((transcript_id, countdown))


@pytest.fixture(autouse=True)
def outbox(monkeypatch: pytest.MonkeyPatch) -> Outbox:
    """By default no test talks to a broker: ``services.dispatch`` records what it would send.
    Tests of the real path take ``eager`` (the task runs here) or run a worker (``test_worker.py``)."""
    box = Outbox()
    monkeypatch.setattr(services, "dispatch", box)
    return box


@pytest.fixture
def eager(monkeypatch: pytest.MonkeyPatch, settings: Settings, engine: FakeEngine) -> FakeEngine:
    """The real dispatch, with Celery's last-resort eager mode: the task runs in this process on commit."""
    settings.CELERY_TASK_ALWAYS_EAGER = True
    monkeypatch.setattr(services, "dispatch", ORIGINAL_DISPATCH)
    return engine
