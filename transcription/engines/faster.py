"""faster-whisper (CTranslate2): the default engine."""

from __future__ import annotations

import os
from pathlib import Path

from transcription.engines import DECODING, Segment
from transcription.engines.weights import model_name
from transcription.text import RawSegment, postprocess


class FasterWhisperEngine:
    name = "faster-whisper"

    def __init__(self, model_dir: Path, *, device: str = "cpu", compute_type: str = "int8", threads: int = 0) -> None:
        from faster_whisper import WhisperModel

        self.model_name = model_name(model_dir)
        self.device = device
        self.compute_type = compute_type
        self._model = WhisperModel(
            str(model_dir),
            device=device,
            compute_type=compute_type,
            cpu_threads=threads,
            num_workers=1,
            local_files_only=True,
        )

    def transcribe(
        self, audio: str | os.PathLike[str], language: str = "zh", prompt: str | None = None
    ) -> list[Segment]:
        segments, _info = self._model.transcribe(
            os.fspath(audio),
            language=language,
            task="transcribe",
            beam_size=1,
            best_of=1,
            temperature=list(DECODING.temperatures),
            compression_ratio_threshold=DECODING.compression_ratio_threshold,
            log_prob_threshold=DECODING.log_prob_threshold,
            no_speech_threshold=DECODING.no_speech_threshold,
            condition_on_previous_text=DECODING.condition_on_previous_text,
            initial_prompt=prompt or None,
            vad_filter=True,
            vad_parameters={"min_silence_duration_ms": DECODING.vad_min_silence_ms},
        )
        raw = [RawSegment(s.start, s.end, s.text, s.avg_logprob, s.no_speech_prob) for s in segments]
        return [Segment(*fields) for fields in postprocess(raw, language=language, prompt=prompt)]
