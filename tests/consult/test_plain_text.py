"""What counts as text people type (``consult.kernel.validators.plain_text``): any script and emoji, tabs and line
breaks; never control characters or invisible format characters that make a line read other than it is stored."""

from __future__ import annotations

import pytest
from rest_framework.exceptions import ValidationError

from consult.kernel.validators import plain_text


@pytest.mark.parametrize(
    "text",
    [
        "翠湖新村的孩子能否就近入学？",
        "第一行\n第二行\t缩进\r\n",
        "家人 👨\u200d👩\u200d👧 一起",  # an emoji sequence joined by ZWJ
        "می\u200cخواهم",  # ZWNJ inside a Persian word
        "Ünïcödé ½ — “quotes”",
    ],
)
def test_text_of_any_script_passes(text: str) -> None:
    plain_text(text)


@pytest.mark.parametrize(
    "char",
    ["\x00", "\x1b", "\x7f", "\u202e", "\u202a", "\u2066", "\u200b", "\ufeff", "\u200e", "\ue000", "\U000e0001"],
    ids=["NUL", "ESC", "DEL", "RLO", "LRE", "LRI", "ZWSP", "BOM", "LRM", "private-use", "tag"],
)
def test_control_and_invisible_format_characters_are_refused_naming_the_code_point(char: str) -> None:
    with pytest.raises(ValidationError) as refused:
        plain_text(f"正常{char}文字")

    assert f"U+{ord(char):04X}" in str(refused.value.detail[0])
