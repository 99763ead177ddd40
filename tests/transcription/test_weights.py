"""Model assembly (hash-checked, atomic, once), the CTranslate2 <-> openai-whisper tensor mapping, tiny checkpoints."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import numpy as np
import pytest

from tests.transcription import whisper_fixtures
from transcription.engines import ModelError, ModelIntegrityError, ensure_model
from transcription.engines.ct2file import from_openai_state, read_model, to_openai_state, whisper_dims, write_model
from transcription.engines.weights import BASE_SHA256, SIDE_FILES, assemble, embedded_sources, verify
from transcription.testing import TINY_DIMS, tiny_state

tiny_model_dir = whisper_fixtures.tiny_model_dir


def fake_parts(directory: Path, halves: tuple[bytes, bytes]) -> list[Path]:
    sources = []
    for index, half in enumerate(halves, start=1):
        source = directory / f"part{index}"
        source.mkdir()
        (source / f"model.bin.part{index}").write_bytes(half)
        sources.append(source)
    for name in SIDE_FILES:
        (sources[0] / name).write_text("{}")
    return sources


def test_assembly_joins_the_parts_in_order_and_checks_the_hash(tmp_path):
    sources = fake_parts(tmp_path, (b"first half|", b"second half"))
    expected = hashlib.sha256(b"first half|second half").hexdigest()
    target = assemble(tmp_path / "model", sources, expected)
    assert (target / "model.bin").read_bytes() == b"first half|second half"
    assert all((target / name).is_file() for name in SIDE_FILES)
    verify(target)
    assert assemble(target, sources, "not checked again: already there") == target


def test_a_hash_mismatch_is_refused_and_leaves_nothing_behind(tmp_path):
    sources = fake_parts(tmp_path, (b"tampered", b"weights"))
    with pytest.raises(ModelIntegrityError, match=r"refusing the Whisper weights.*expected " + BASE_SHA256):
        assemble(tmp_path / "model", sources, BASE_SHA256)
    assert not (tmp_path / "model").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".model-")] == []  # no temp dir left


def test_a_damaged_assembled_file_fails_verification(tmp_path):
    sources = fake_parts(tmp_path, (b"a", b"b"))
    target = assemble(tmp_path / "model", sources, hashlib.sha256(b"ab").hexdigest())
    (target / "model.bin").write_bytes(b"ac")
    with pytest.raises(ModelIntegrityError, match="delete"):
        verify(target)


def test_concurrent_workers_assemble_once(tmp_path):
    sources = fake_parts(tmp_path, (b"x" * 100_000, b"y" * 100_000))
    expected = hashlib.sha256(b"x" * 100_000 + b"y" * 100_000).hexdigest()
    results, errors = [], []

    def work():
        try:
            results.append(assemble(tmp_path / "model", sources, expected))
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(set(results)) == 1
    assert (tmp_path / "model" / "model.bin").stat().st_size == 200_000


def test_a_non_empty_directory_without_a_model_is_refused(tmp_path):
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "notes.txt").write_text("mine")
    with pytest.raises(ModelError, match=r"holds no model\.bin"):
        assemble(tmp_path / "model", fake_parts(tmp_path, (b"a", b"b")), "0" * 64)


def test_a_model_of_ones_own_is_used_as_it_is(tmp_path):
    (tmp_path / "model.bin").write_bytes(b"someone's large-v3")
    assert ensure_model(tmp_path) == tmp_path


def test_the_embedded_wheels_are_installed():
    part1, part2 = embedded_sources()
    assert (part1 / "model.bin.part1").is_file()
    assert (part2 / "model.bin.part2").is_file()


def test_tensor_mapping_round_trips_and_keeps_openai_names(tmp_path):
    state = tiny_state(TINY_DIMS)
    model = from_openai_state(TINY_DIMS, state)
    write_model(tmp_path / "model.bin", model)
    back = read_model(tmp_path / "model.bin")
    assert whisper_dims(back) == TINY_DIMS
    dims, again = to_openai_state(back)
    assert dims == TINY_DIMS
    assert set(again) == set(state)
    for name, value in state.items():
        np.testing.assert_array_equal(again[name], value)
    assert "encoder.blocks.0.attn.key.bias" not in again  # openai-whisper's key projection has no bias


def test_tiny_checkpoint_loads_strictly_in_openai_whisper(tiny_model_dir):
    pytest.importorskip("whisper", reason="requirements-whisper.txt (make test installs it)")
    from transcription.engines.reference import load_model

    model = load_model(tiny_model_dir)  # whisper.load_model -> load_state_dict(strict=True)
    assert model.dims.n_audio_state == TINY_DIMS.n_audio_state
    assert model.is_multilingual
