"""openai-whisper on PyTorch: the reference engine (the only module that imports ``whisper`` and ``torch``).

Silence is cut out before decoding with the same Silero VAD faster-whisper uses (its ``faster_whisper.vad``, a
runtime dependency anyway) and segment times mapped back, so both engines decode the same speech: without it the
reference mis-heard padded Mandarin clips badly (CER 0.39 against 0.13 on the test clip).

It runs a checkpoint converted from the CTranslate2 ``model.bin`` beside it (:mod:`.ct2file`), cached as
``openai-whisper.pt`` next to it and rebuilt when ``model.bin`` changes, so both engines run the same tensors.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

from transcription.engines import DECODING, Segment
from transcription.engines.ct2file import WhisperDims, read_model, to_openai_state
from transcription.engines.weights import model_lock, model_name
from transcription.text import RawSegment, postprocess

CHECKPOINT = "openai-whisper.pt"
CHECKPOINT_SOURCE = "openai-whisper.source.json"


def write_checkpoint(path: Path, dims: WhisperDims, state: dict[str, Any]) -> None:
    """openai-whisper's checkpoint format: ``{"dims": ModelDimensions as a dict, "model_state_dict": ...}``."""
    import torch

    tensors = {name: torch.from_numpy(value) for name, value in state.items()}
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
    os.close(handle)
    try:
        torch.save({"dims": asdict(dims), "model_state_dict": tensors}, temporary)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _source_id(model_bin: Path) -> dict[str, int]:
    status = model_bin.stat()
    return {"size": status.st_size, "mtime_ns": status.st_mtime_ns}


def ensure_checkpoint(model_dir: Path) -> Path:
    """``model_dir/openai-whisper.pt``, converted from ``model_dir/model.bin`` once (under the model lock)."""
    checkpoint, source = model_dir / CHECKPOINT, model_dir / CHECKPOINT_SOURCE
    expected = _source_id(model_dir / "model.bin")

    def current() -> bool:
        try:
            return checkpoint.is_file() and json.loads(source.read_text()) == expected
        except (OSError, ValueError):
            return False

    if current():
        return checkpoint
    with model_lock(model_dir):
        if not current():
            dims, state = to_openai_state(read_model(model_dir / "model.bin"))
            write_checkpoint(checkpoint, dims, state)
            source.write_text(json.dumps(expected) + "\n")
    return checkpoint


def load_model(model_dir: Path, device: str = "cpu") -> Any:
    """The openai-whisper model (loaded with strict=True by ``whisper.load_model``) with the alignment heads of
    config.json."""
    import numpy as np
    import torch
    import whisper

    model = whisper.load_model(str(ensure_checkpoint(model_dir)), device=device)
    config = json.loads((model_dir / "config.json").read_text())
    heads = config.get("alignment_heads")
    if heads:
        mask = np.zeros((model.dims.n_text_layer, model.dims.n_text_head), dtype=bool)
        for layer, head in heads:
            mask[layer, head] = True
        model.register_buffer("alignment_heads", torch.from_numpy(mask).to_sparse(), persistent=False)
    return model


class OpenAIWhisperEngine:
    name = "openai-whisper"

    def __init__(self, model_dir: Path, *, device: str = "cpu", threads: int = 0) -> None:
        import torch

        if threads > 0:
            torch.set_num_threads(threads)
        self.model_name = model_name(model_dir)
        self.device = device
        self._model = load_model(model_dir, device)

    def transcribe(
        self, audio: str | os.PathLike[str], language: str = "zh", prompt: str | None = None
    ) -> list[Segment]:
        import numpy as np
        import whisper
        from faster_whisper.audio import decode_audio
        from faster_whisper.vad import SpeechTimestampsMap, VadOptions, collect_chunks, get_speech_timestamps

        sampling_rate = 16000
        samples = decode_audio(os.fspath(audio), sampling_rate=sampling_rate)
        chunks = get_speech_timestamps(samples, VadOptions(min_silence_duration_ms=DECODING.vad_min_silence_ms))
        if not chunks:
            return []
        speech = np.concatenate(collect_chunks(samples, chunks)[0], axis=0)
        times = SpeechTimestampsMap(chunks, sampling_rate)
        result = whisper.transcribe(
            self._model,
            speech,
            language=language,
            task="transcribe",
            temperature=DECODING.temperatures,
            compression_ratio_threshold=DECODING.compression_ratio_threshold,
            logprob_threshold=DECODING.log_prob_threshold,
            no_speech_threshold=DECODING.no_speech_threshold,
            condition_on_previous_text=DECODING.condition_on_previous_text,
            initial_prompt=prompt or None,
            fp16=self.device == "cuda",
            verbose=None,
            beam_size=None,
            best_of=None,
        )
        raw = [
            RawSegment(
                times.get_original_time(s["start"]),
                times.get_original_time(s["end"], is_end=True),
                s["text"],
                s["avg_logprob"],
                s["no_speech_prob"],
            )
            for s in result["segments"]
        ]
        return [Segment(*fields) for fields in postprocess(raw, language=language, prompt=prompt)]
