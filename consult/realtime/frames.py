"""Decoding of JSON WebSocket frames, shared by every socket (live events, chat)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils import translation
from rest_framework.exceptions import ValidationError

from consult.kernel.validators import plain_text


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


# --- fields of a decoded frame: checked for type and content before any service sees them -------------------


class FieldProblem(Exception):
    """A field of a frame is missing, of the wrong JSON type, or carries characters no text may hold."""

    def __init__(self, field: str, message: str, *, code: str) -> None:
        super().__init__(message)
        self.field, self.message, self.code = field, message, code


def text_field(frame: dict[str, Any], name: str, *, code: str = "invalid_input") -> str:
    """A JSON string without control characters (tab and line breaks are text). Never coerced: 42, null,
    true and objects are refused, so a client bug is reported instead of stored as "42" or "None"."""
    value = frame.get(name)
    if not isinstance(value, str):
        raise FieldProblem(name, f"'{name}' must be a string", code=code)
    try:
        plain_text(value)
    except ValidationError as refused:
        raise FieldProblem(name, f"'{name}': {_first(refused)}", code=code) from None
    return value


def int_field(frame: dict[str, Any], name: str, *, default: int | None = None, minimum: int | None = None) -> int:
    """A JSON integer (``true`` and ``1.0`` are not integers); ``default`` when absent, if one is given."""
    if name not in frame and default is not None:
        return default
    value = frame.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or (minimum is not None and value < minimum):
        rule = "an integer" if minimum is None else f"an integer ≥ {minimum}"
        raise FieldProblem(name, f"'{name}' must be {rule}", code="bad_frame")
    if not -(2**63) < value < 2**63:  # the database's bigint: larger numbers would fail there, not here
        raise FieldProblem(name, f"'{name}' is out of range", code="bad_frame")
    return value


def _first(refused: ValidationError) -> str:
    detail = refused.detail
    return str(detail[0] if isinstance(detail, list) and detail else detail)


def socket_language(scope: Mapping[str, Any]) -> str:
    """The language a socket's frames are written in: the language switch's cookie, else the site's (as pages)."""
    chosen = (scope.get("cookies") or {}).get(settings.LANGUAGE_COOKIE_NAME, "")
    try:
        return translation.get_supported_language_variant(chosen) if chosen else settings.LANGUAGE_CODE
    except LookupError:
        return settings.LANGUAGE_CODE
