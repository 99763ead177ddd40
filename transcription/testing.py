"""Test helpers: a random-weight Whisper of the real architecture, small enough to build and run in seconds.

``build_tiny_model(dir)`` writes a CTranslate2 ``model.bin`` (faster-whisper loads it; openai-whisper loads the
checkpoint converted from it, like the real weights) with the real vocabulary, tokenizer and config, so both
engines run their full pipelines on it: mel features, encoder, greedy decoding, timestamps, text filters. What it
"hears" is noise; tests assert shapes and life cycles, never words. No network, no PyTorch needed to build it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np

from transcription.engines.ct2file import WhisperDims, from_openai_state, write_model
from transcription.engines.weights import SIDE_FILES, embedded_sources

TINY_DIMS = WhisperDims(
    n_mels=80,  # the real front end: 80 mel bins,
    n_audio_ctx=1500,  # 30 s windows (3000 frames, stride 2)
    n_audio_state=64,
    n_audio_head=2,
    n_audio_layer=2,
    n_vocab=51865,  # the multilingual vocabulary, so the real tokenizer fits
    n_text_ctx=448,
    n_text_state=64,
    n_text_head=2,
    n_text_layer=2,
)


def _sinusoids(length: int, channels: int) -> np.ndarray:
    increment = np.log(10000) / (channels // 2 - 1)
    inverse = np.exp(-increment * np.arange(channels // 2))
    scaled = np.arange(length)[:, None] * inverse[None, :]
    return np.concatenate([np.sin(scaled), np.cos(scaled)], axis=1)


def tiny_state(dims: WhisperDims = TINY_DIMS, seed: int = 0) -> dict[str, np.ndarray]:
    """openai-whisper's state dict with random weights (float16), the names and shapes of the real model."""
    rng = np.random.default_rng(seed)
    state: dict[str, np.ndarray] = {}

    def linear(name: str, out: int, inp: int, bias: bool = True) -> None:
        state[f"{name}.weight"] = rng.normal(0, 0.02, (out, inp))
        if bias:
            state[f"{name}.bias"] = np.zeros(out)

    def norm(name: str, width: int) -> None:
        state[f"{name}.weight"] = np.ones(width)
        state[f"{name}.bias"] = np.zeros(width)

    def block(prefix: str, width: int, cross: bool) -> None:
        for attention in ("attn", "cross_attn") if cross else ("attn",):
            norm(f"{prefix}.{attention}_ln", width)
            linear(f"{prefix}.{attention}.query", width, width)
            linear(f"{prefix}.{attention}.key", width, width, bias=False)
            linear(f"{prefix}.{attention}.value", width, width)
            linear(f"{prefix}.{attention}.out", width, width)
        norm(f"{prefix}.mlp_ln", width)
        linear(f"{prefix}.mlp.0", 4 * width, width)
        linear(f"{prefix}.mlp.2", width, 4 * width)

    audio, text = dims.n_audio_state, dims.n_text_state
    state["encoder.conv1.weight"] = rng.normal(0, 0.02, (audio, dims.n_mels, 3))
    state["encoder.conv1.bias"] = np.zeros(audio)
    state["encoder.conv2.weight"] = rng.normal(0, 0.02, (audio, audio, 3))
    state["encoder.conv2.bias"] = np.zeros(audio)
    state["encoder.positional_embedding"] = _sinusoids(dims.n_audio_ctx, audio)
    for i in range(dims.n_audio_layer):
        block(f"encoder.blocks.{i}", audio, cross=False)
    norm("encoder.ln_post", audio)
    state["decoder.token_embedding.weight"] = rng.normal(0, 0.02, (dims.n_vocab, text))
    state["decoder.positional_embedding"] = rng.normal(0, 0.01, (dims.n_text_ctx, text))
    for i in range(dims.n_text_layer):
        block(f"decoder.blocks.{i}", text, cross=True)
    norm("decoder.ln", text)
    return {name: value.astype(np.float16) for name, value in state.items()}


def build_tiny_model(directory: str | Path, *, seed: int = 0) -> Path:
    """A tiny random-weight Whisper in ``directory`` (created), loadable by both engines; returns the directory."""
    target = Path(directory)
    target.mkdir(parents=True, exist_ok=True)
    write_model(target / "model.bin", from_openai_state(TINY_DIMS, tiny_state(TINY_DIMS, seed)))
    source = embedded_sources()[0]
    for name in SIDE_FILES:
        shutil.copyfile(source / name, target / name)
    config = json.loads((target / "config.json").read_text())
    config["alignment_heads"] = [[layer, head] for layer in range(1, TINY_DIMS.n_text_layer) for head in range(2)]
    (target / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    (target / "consult-model.json").write_text(json.dumps({"model": "tiny-random", "seed": seed}) + "\n")
    return target
