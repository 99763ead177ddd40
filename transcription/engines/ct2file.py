"""CTranslate2's ``model.bin`` read and written with numpy, and its Whisper tensors mapped to openai-whisper's.

The format (CTranslate2 ``python/ctranslate2/specs/model_spec.py``, ``ModelSpec._serialize``; binary version 6):
``uint32 version``, ``string spec name``, ``uint32 revision``, ``uint32 count``, then per variable ``string name``,
``uint8 rank``, ``rank x uint32 dims``, ``uint8 dtype`` (float32, int8, int16, int32, float16, bfloat16),
``uint32 byte count``, the bytes; then ``uint32 alias count`` and (alias, target) string pairs. A string is a
``uint16`` length (the terminating NUL included), the UTF-8 bytes and a NUL. Little endian throughout.

A CTranslate2 Whisper model fuses attention projections (self-attention: ``linear_0`` = query|key|value;
cross-attention: ``linear_0`` = query, ``linear_1`` = key|value) with a zero bias on the key, which openai-whisper
leaves out; everything else maps one to one (conv and linear weights share PyTorch's layout).
"""

from __future__ import annotations

import mmap
import re
import struct
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[Any]

BINARY_VERSION = 6
_DTYPES: tuple[str, ...] = ("float32", "int8", "int16", "int32", "float16", "bfloat16")


@dataclass(frozen=True)
class Ct2Model:
    spec: str
    revision: int
    variables: dict[str, Array]
    aliases: dict[str, str]


class _Reader:
    def __init__(self, buffer: memoryview) -> None:
        self.buffer = buffer
        self.offset = 0

    def unpack(self, fmt: str) -> int:
        (value,) = struct.unpack_from("<" + fmt, self.buffer, self.offset)
        self.offset += struct.calcsize(fmt)
        return int(value)

    def string(self) -> str:
        length = self.unpack("H")
        raw = bytes(self.buffer[self.offset : self.offset + length])
        self.offset += length
        return raw.rstrip(b"\0").decode("utf-8")


def read_model(path: str | Path) -> Ct2Model:
    """Every variable of a CTranslate2 ``model.bin`` as a numpy array (copied out of a read-only map)."""
    with open(path, "rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
        view = memoryview(mapped)
        try:
            reader = _Reader(view)
            version = reader.unpack("I")
            if not 5 <= version <= BINARY_VERSION:
                raise ValueError(f"{path}: CTranslate2 binary version {version} is not supported (5..{BINARY_VERSION})")
            spec = reader.string()
            revision = reader.unpack("I")
            variables: dict[str, Array] = {}
            for _ in range(reader.unpack("I")):
                name = reader.string()
                dims = [reader.unpack("I") for _ in range(reader.unpack("B"))]
                dtype = _DTYPES[reader.unpack("B")]
                size = reader.unpack("I")
                if dtype == "bfloat16":
                    raise ValueError(f"{path}: {name} is bfloat16, which numpy cannot read; convert with float16")
                data = np.frombuffer(
                    view[reader.offset : reader.offset + size], dtype=np.dtype(dtype).newbyteorder("<")
                )
                variables[name] = data.reshape(dims).copy()
                del data
                reader.offset += size
            aliases: dict[str, str] = {}
            for _ in range(reader.unpack("I")):
                alias = reader.string()
                aliases[alias] = reader.string()
        finally:
            view.release()
    return Ct2Model(spec=spec, revision=revision, variables=variables, aliases=aliases)


def write_model(path: str | Path, model: Ct2Model) -> None:
    """The inverse of :func:`read_model` (used for tiny test checkpoints)."""
    with open(path, "wb") as handle:
        _write(handle, model)


def _write(handle: BinaryIO, model: Ct2Model) -> None:
    def string(value: str) -> None:
        raw = value.encode("utf-8")
        handle.write(struct.pack("<H", len(raw) + 1) + raw + b"\0")

    handle.write(struct.pack("<I", BINARY_VERSION))
    string(model.spec)
    handle.write(struct.pack("<II", model.revision, len(model.variables)))
    for name, value in model.variables.items():
        array = np.asarray(value, order="C")
        string(name)
        handle.write(struct.pack("<B", array.ndim))
        for dim in array.shape:
            handle.write(struct.pack("<I", dim))
        handle.write(struct.pack("<BI", _DTYPES.index(array.dtype.name), array.nbytes))
        handle.write(array.astype(array.dtype.newbyteorder("<"), copy=False).tobytes())
    handle.write(struct.pack("<I", len(model.aliases)))
    for alias, target in model.aliases.items():
        string(alias)
        string(target)


# --- Whisper: CTranslate2 <-> openai-whisper ------------------------------------------------------------------


@dataclass(frozen=True)
class WhisperDims:
    """openai-whisper's ``ModelDimensions``, field for field."""

    n_mels: int
    n_audio_ctx: int
    n_audio_state: int
    n_audio_head: int
    n_audio_layer: int
    n_vocab: int
    n_text_ctx: int
    n_text_state: int
    n_text_head: int
    n_text_layer: int


def _layer_count(variables: Mapping[str, Array], prefix: str) -> int:
    pattern = re.compile(rf"^{prefix}/layer_(\d+)/")
    return 1 + max(int(match.group(1)) for name in variables if (match := pattern.match(name)))


def whisper_dims(model: Ct2Model) -> WhisperDims:
    v = model.variables
    if model.spec != "WhisperSpec":
        raise ValueError(f"not a Whisper model: {model.spec}")
    conv1 = v["encoder/conv1/weight"]
    embeddings = v["decoder/embeddings/weight"]
    return WhisperDims(
        n_mels=int(conv1.shape[1]),
        n_audio_ctx=int(v["encoder/position_encodings/encodings"].shape[0]),
        n_audio_state=int(conv1.shape[0]),
        n_audio_head=int(v["encoder/num_heads"]),
        n_audio_layer=_layer_count(v, "encoder"),
        n_vocab=int(embeddings.shape[0]),
        n_text_ctx=int(v["decoder/position_encodings/encodings"].shape[0]),
        n_text_state=int(embeddings.shape[1]),
        n_text_head=int(v["decoder/num_heads"]),
        n_text_layer=_layer_count(v, "decoder"),
    )


def _dequantized(variables: Mapping[str, Array], name: str) -> Array:
    """A weight as a float array; int8/int16 weights carry a per-row ``<name>_scale`` (value = q / scale)."""
    value = variables[name]
    if value.dtype.kind in "iu":
        scale = variables[name + "_scale"].astype(np.float32)
        return value.astype(np.float32) / (scale[:, None] if value.ndim == 2 else scale)
    return value


def _pairs(ct2: str, openai: str) -> Iterator[tuple[str, str]]:
    """(CTranslate2 name, openai-whisper name) for a layer norm or a plain linear/conv layer."""
    if ct2.endswith("layer_norm"):
        yield f"{ct2}/gamma", f"{openai}.weight"
        yield f"{ct2}/beta", f"{openai}.bias"
    else:
        yield f"{ct2}/weight", f"{openai}.weight"
        yield f"{ct2}/bias", f"{openai}.bias"


def _one_to_one(dims: WhisperDims) -> Iterator[tuple[str, str]]:
    yield from _pairs("encoder/conv1", "encoder.conv1")
    yield from _pairs("encoder/conv2", "encoder.conv2")
    yield "encoder/position_encodings/encodings", "encoder.positional_embedding"
    yield from _pairs("encoder/layer_norm", "encoder.ln_post")
    yield "decoder/embeddings/weight", "decoder.token_embedding.weight"
    yield "decoder/position_encodings/encodings", "decoder.positional_embedding"
    yield from _pairs("decoder/layer_norm", "decoder.ln")
    for side, count in (("encoder", dims.n_audio_layer), ("decoder", dims.n_text_layer)):
        for i in range(count):
            ct2, openai = f"{side}/layer_{i}", f"{side}.blocks.{i}"
            yield from _pairs(f"{ct2}/self_attention/layer_norm", f"{openai}.attn_ln")
            yield from _pairs(f"{ct2}/self_attention/linear_1", f"{openai}.attn.out")
            yield from _pairs(f"{ct2}/ffn/layer_norm", f"{openai}.mlp_ln")
            yield from _pairs(f"{ct2}/ffn/linear_0", f"{openai}.mlp.0")
            yield from _pairs(f"{ct2}/ffn/linear_1", f"{openai}.mlp.2")
            if side == "decoder":
                yield from _pairs(f"{ct2}/attention/layer_norm", f"{openai}.cross_attn_ln")
                yield from _pairs(f"{ct2}/attention/linear_0", f"{openai}.cross_attn.query")
                yield from _pairs(f"{ct2}/attention/linear_2", f"{openai}.cross_attn.out")


def _fused(dims: WhisperDims) -> Iterator[tuple[str, list[str]]]:
    """(CTranslate2 fused projection, the openai-whisper projections it concatenates, in order)."""
    for side, count in (("encoder", dims.n_audio_layer), ("decoder", dims.n_text_layer)):
        for i in range(count):
            ct2, openai = f"{side}/layer_{i}", f"{side}.blocks.{i}"
            yield f"{ct2}/self_attention/linear_0", [f"{openai}.attn.{p}" for p in ("query", "key", "value")]
            if side == "decoder":
                yield f"{ct2}/attention/linear_1", [f"{openai}.cross_attn.{p}" for p in ("key", "value")]


def to_openai_state(model: Ct2Model, dtype: str = "float16") -> tuple[WhisperDims, dict[str, Array]]:
    """openai-whisper's state dict (numpy arrays) from a CTranslate2 Whisper model; loads with strict=True."""
    dims = whisper_dims(model)
    v = model.variables
    state: dict[str, Array] = {}
    for ct2, openai in _one_to_one(dims):
        state[openai] = _dequantized(v, ct2)
    for ct2, parts in _fused(dims):
        weights = np.split(_dequantized(v, f"{ct2}/weight"), len(parts), axis=0)
        biases = np.split(v[f"{ct2}/bias"], len(parts), axis=0)
        for part, weight, bias in zip(parts, weights, biases, strict=True):
            state[f"{part}.weight"] = weight
            if part.endswith(".key"):
                if np.any(bias != 0):
                    raise ValueError(f"{ct2}: the key bias is not zero; openai-whisper's key projection has none")
            else:
                state[f"{part}.bias"] = bias
    return dims, {name: np.ascontiguousarray(value.astype(dtype)) for name, value in state.items()}


def from_openai_state(dims: WhisperDims, state: Mapping[str, Array]) -> Ct2Model:
    """A CTranslate2 Whisper model (spec ``WhisperSpec`` revision 3) from openai-whisper's tensors."""
    variables: dict[str, Array] = {}
    for ct2, openai in _one_to_one(dims):
        variables[ct2] = np.asarray(state[openai])
    for ct2, parts in _fused(dims):
        weights = [np.asarray(state[f"{part}.weight"]) for part in parts]
        biases = [
            np.zeros(weight.shape[0], weight.dtype) if part.endswith(".key") else np.asarray(state[f"{part}.bias"])
            for part, weight in zip(parts, weights, strict=True)
        ]
        variables[f"{ct2}/weight"] = np.concatenate(weights, axis=0)
        variables[f"{ct2}/bias"] = np.concatenate(biases, axis=0)
    scalars: dict[str, Array] = {
        "encoder/num_heads": np.array(dims.n_audio_head, np.int16),
        "decoder/num_heads": np.array(dims.n_text_head, np.int16),
        "decoder/activation": np.array(
            3, np.int8
        ),  # GELU in CTranslate2's ActivationType (RELU, GELUTanh, SWISH, GELU)
        "decoder/alibi": np.array(False, np.int8),
        "decoder/pre_norm": np.array(True, np.int8),
        "decoder/scale_embeddings": np.array(False, np.int8),
        "decoder/start_from_zero_embedding": np.array(False, np.int8),
        # The heads themselves live in config.json; these two are the spec's defaults, as the converter writes them.
        "decoder/alignment_heads": np.array(1, np.int16),
        "decoder/alignment_layer": np.array(-1, np.int16),
    }
    variables.update(scalars)
    ordered = {name: variables[name] for name in sorted(variables)}
    return Ct2Model(
        spec="WhisperSpec",
        revision=3,
        variables=ordered,
        aliases={"decoder/projection/weight": "decoder/embeddings/weight"},
    )
