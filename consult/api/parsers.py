"""Request body parsers of the API: JSON that a client nests too deeply is refused with a 400.

Python's JSON decoder recurses once per level; ~1 000 levels raised ``RecursionError`` (a 500) and a few
hundred levels parsed fine only to overflow later in validation. No request of this API nests deeper than a
handful of levels, so the parser refuses anything past ``MAX_DEPTH``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError

MAX_DEPTH = 32


class JSONParser(parsers.JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(too_deep()) from None
        if depth_exceeds(data, MAX_DEPTH):
            raise ParseError(too_deep())
        return data


def too_deep() -> str:
    return _("JSON parse error - nested deeper than %(n)d levels") % {"n": MAX_DEPTH}


def depth_exceeds(data: Any, limit: int) -> bool:
    """Whether ``data`` nests lists/objects deeper than ``limit``, walked without recursion."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children: Any = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False
