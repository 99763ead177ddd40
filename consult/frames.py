"""Decoding of JSON WebSocket frames, shared by every socket (live events, chat)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FrameProblem:
    """Why a frame was refused: ``too_large`` closes the socket; the others answer with an error frame."""

    code: str
    message: str = ""

    @property
    def too_large(self) -> bool:
        return self.code == "too_large"


def decode_frame(text_data: str | None, bytes_data: bytes | None, *, max_bytes: int) -> dict[str, Any] | FrameProblem:
    raw = text_data if text_data is not None else (bytes_data or b"").decode("utf-8", "replace")
    if len(raw.encode("utf-8")) > max_bytes:
        return FrameProblem("too_large")
    try:
        frame = json.loads(raw)
    except json.JSONDecodeError:
        return FrameProblem("bad_json", "frame is not JSON")
    if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
        return FrameProblem("bad_frame", "frame must be an object with a 'type'")
    return frame
