"""Speech to text behind one small interface; the engine is chosen by ``TRANSCRIPTION_ENGINE``.

- ``faster-whisper`` (default): CTranslate2, int8 on CPU, float16 on GPU; Silero VAD skips silence.
- ``openai-whisper``: the reference implementation on PyTorch (an extra: requirements-whisper.txt), run on a
  checkpoint converted from the very same CTranslate2 tensors, so both engines use identical weights.

Both decode greedily (temperature 0, no fallback by default: see ``DECODING``), never condition on their own
previous text (where loops start), and pass their text through :mod:`transcription.text` (simplified Chinese,
hallucinated credits and repeated segments removed). Each process loads a model once (:func:`get_engine`).
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from django.conf import settings

from transcription.engines.weights import BASE_SHA256, ModelError, ModelIntegrityError, ensure_model

__all__ = [
    "BASE_SHA256",
    "DECODING",
    "ENGINES",
    "Decoding",
    "Engine",
    "EngineConfig",
    "ModelError",
    "ModelIntegrityError",
    "Segment",
    "engine_config",
    "ensure_model",
    "get_engine",
    "load_engine",
    "reset_engines",
]

ENGINES = ("faster-whisper", "openai-whisper")


@dataclass(frozen=True)
class Segment:
    start: float  # seconds
    end: float
    text: str  # simplified Chinese for zh (OpenCC t2s), filtered (hallucinated credits, loops)
    confidence: float  # 0..1: exp(average token log-probability)


class Engine(Protocol):
    name: str  # "faster-whisper" | "openai-whisper"
    model_name: str  # e.g. "base"

    def transcribe(
        self, audio: str | os.PathLike[str], language: str = "zh", prompt: str | None = None
    ) -> list[Segment]: ...


@dataclass(frozen=True)
class Decoding:
    """Decoding options both engines share.

    Measured on the real base weights with the espeak-ng clips of tests/transcription/test_real_weights.py:
    greedy at temperature 0 was right wherever the model could be right; the default fallback ladder
    (0.2 … 1.0, triggered by compression ratio > 2.4 or mean log-probability < -1) never repaired a clip,
    turned one bad segment into four to eight different bad ones and took 9-18x longer (0.8 s -> 7-14 s for a
    6 s clip). Beam search 5 without fallback looped on short clips in an earlier trial. So: greedy, no fallback;
    the loop filter in transcription.text cleans what greedy repeats.
    """

    temperatures: tuple[float, ...] = (0.0,)
    compression_ratio_threshold: float = 2.4
    log_prob_threshold: float = -1.0
    no_speech_threshold: float = 0.6
    condition_on_previous_text: bool = False
    vad_min_silence_ms: int = 1000  # faster-whisper's Silero VAD: a pause this long splits speech


DECODING = Decoding()


@dataclass(frozen=True)
class EngineConfig:
    engine: str
    model_dir: Path
    device: str
    compute_type: str
    threads: int


def engine_config(engine: str | None = None) -> EngineConfig:
    """The settings, read now (``engine`` overrides TRANSCRIPTION_ENGINE)."""
    name = engine or str(getattr(settings, "TRANSCRIPTION_ENGINE", "faster-whisper"))
    if name not in ENGINES:
        raise ModelError(f"TRANSCRIPTION_ENGINE={name!r}: choose one of {', '.join(ENGINES)}")
    device = str(getattr(settings, "WHISPER_DEVICE", "cpu"))
    default_compute = "float16" if device == "cuda" else "int8"
    return EngineConfig(
        engine=name,
        model_dir=Path(settings.WHISPER_MODEL_DIR),
        device=device,
        compute_type=str(getattr(settings, "WHISPER_COMPUTE_TYPE", "") or default_compute),
        threads=int(getattr(settings, "WHISPER_THREADS", 0)),
    )


def load_engine(config: EngineConfig) -> Engine:
    """A new engine (loads the model: seconds). Most callers want :func:`get_engine`."""
    directory = ensure_model(config.model_dir)
    if config.engine == "openai-whisper":
        from transcription.engines.reference import OpenAIWhisperEngine

        return OpenAIWhisperEngine(directory, device=config.device, threads=config.threads)
    from transcription.engines.faster import FasterWhisperEngine

    return FasterWhisperEngine(
        directory, device=config.device, compute_type=config.compute_type, threads=config.threads
    )


_engines: dict[EngineConfig, Engine] = {}
_lock = threading.Lock()


def get_engine(engine: str | None = None) -> Engine:
    """The engine the settings choose, loaded once per process (and per distinct configuration)."""
    config = engine_config(engine)
    with _lock:
        loaded = _engines.get(config)
        if loaded is None:
            loaded = _engines[config] = load_engine(config)
        return loaded


def reset_engines() -> None:
    """Forget loaded engines (tests that change the settings)."""
    with _lock:
        _engines.clear()
