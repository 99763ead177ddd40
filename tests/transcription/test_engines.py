"""Both engines on a tiny random-weight checkpoint: loading, the interface, once-per-process, settings."""

from __future__ import annotations

import pytest

from tests.transcription import whisper_fixtures
from tests.transcription.speech import english_clip
from transcription.engines import ModelError, Segment, get_engine

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")
tiny_model_dir = whisper_fixtures.tiny_model_dir
fresh_engines = whisper_fixtures.fresh_engines


@pytest.fixture
def tiny_settings(settings, tiny_model_dir, fresh_engines):
    settings.WHISPER_MODEL_DIR = tiny_model_dir
    settings.WHISPER_THREADS = 1
    return settings


@pytest.mark.parametrize("engine", ["faster-whisper", "openai-whisper"])
def test_engine_transcribes_with_the_interface(tiny_settings, tmp_path, engine):
    if engine == "openai-whisper":
        pytest.importorskip("whisper", reason="requirements-whisper.txt (make test installs it)")
    tiny_settings.TRANSCRIPTION_ENGINE = engine
    loaded = get_engine()
    assert loaded.name == engine
    assert loaded.model_name == "tiny-random"
    assert get_engine() is loaded  # loaded once per process
    segments = loaded.transcribe(english_clip(tmp_path), language="en")
    assert all(isinstance(s, Segment) and 0 <= s.start <= s.end and 0 <= s.confidence <= 1 for s in segments)


def test_both_engines_decode_the_tiny_model_identically(tiny_settings, tmp_path):
    pytest.importorskip("whisper", reason="requirements-whisper.txt (make test installs it)")
    # The same arithmetic on both sides: random weights turn int8's rounding (whose kernels differ between CPUs,
    # AVX-512 VNNI or AVX2) into other tokens, so the identity is claimed for float32, what the reference computes.
    tiny_settings.WHISPER_COMPUTE_TYPE = "float32"
    clip = english_clip(tmp_path)
    texts = {
        name: [s.text for s in get_engine(name).transcribe(clip, language="en")]
        for name in ("faster-whisper", "openai-whisper")
    }
    assert texts["faster-whisper"] == texts["openai-whisper"]


def test_an_unknown_engine_is_a_clear_error(tiny_settings):
    tiny_settings.TRANSCRIPTION_ENGINE = "whisper.cpp"
    with pytest.raises(ModelError, match="choose one of faster-whisper, openai-whisper"):
        get_engine()
