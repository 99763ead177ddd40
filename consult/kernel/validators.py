"""Validators shared by the API's input serializers.

Text typed by people may carry any character of any script but no control characters: a stray NUL or ESC
breaks PostgreSQL (NUL), terminals, CSV exports and the search index. Tabs and line breaks are text. Invisible
format characters are refused too: a right-to-left override (U+202E) makes a line read other than it is stored,
a zero-width space (U+200B) or BOM hides inside words and defeats search; the zero-width joiners (U+200C, U+200D)
stay, as emoji sequences and some scripts need them.
"""

from __future__ import annotations

import unicodedata
from datetime import date, datetime
from typing import Any

from django.utils.translation import gettext as _
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

ALLOWED_CONTROLS = frozenset("\t\n\r\u200c\u200d")
# Dates the platform deals in: the terms of today's congresses, with room either side. Older dates are
# typing slips (0799 for 2027) and fall into local mean time offsets such as +08:05:43.
MIN_YEAR = 2000
MAX_YEAR = 2100


def plain_text(value: str) -> None:
    """Refuse control and invisible format characters (category C), except tab, line breaks and the joiners."""
    for char in value:
        if char not in ALLOWED_CONTROLS and unicodedata.category(char) in {"Cc", "Cf", "Cs", "Co", "Cn"}:
            raise ValidationError(_("control characters are not allowed (U+%(code)04X)") % {"code": ord(char)})


def plausible_date(value: date | datetime) -> None:
    """Refuse dates outside the years the platform can mean (``MIN_YEAR`` to ``MAX_YEAR``)."""
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValidationError(_("the year must be between %(low)d and %(high)d") % {"low": MIN_YEAR, "high": MAX_YEAR})


class TextField(serializers.CharField):
    """A CharField for text people type: a JSON string only (``42`` or ``true`` is refused, not turned into
    text) and no control characters (``plain_text``)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("validators", []).append(plain_text)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            raise ValidationError(_("text is required"))
        return str(super().to_internal_value(data))
