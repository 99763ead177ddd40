"""What happens to Whisper's text before anyone sees it: simplified Chinese, no hallucinated credits, no loops.

Whisper was trained on subtitles, so on silence, music or the tail of a clip it "transcribes" the credits those
subtitles carried (字幕由…提供, 请不吝点赞 订阅 转发 打赏, 明镜与点点栏目, "Thank you for watching") and, decoding
greedily, it can repeat one line until the window ends. These are removed here, for every engine alike; the
punctuation Whisper writes is kept.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache

__all__ = [
    "RawSegment",
    "is_hallucination",
    "is_prompt_echo",
    "normalise",
    "postprocess",
    "to_simplified",
]


@dataclass(frozen=True)
class RawSegment:
    """One segment as an engine decoded it, before filtering."""

    start: float
    end: float
    text: str
    avg_logprob: float
    no_speech_prob: float = 0.0


@cache
def _t2s() -> object:
    import opencc

    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Traditional -> simplified with OpenCC's t2s (phrases, not only characters: 乾燥 -> 干燥, 頭髮 -> 头发)."""
    if not text:
        return text
    converted: str = _t2s().convert(text)  # type: ignore[attr-defined]
    return converted


_SPACE = re.compile(r"\s+")
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_GAP = re.compile(rf"(?<=[{_CJK}，。！？、；：])\s+(?=[{_CJK}])|(?<=[{_CJK}])\s+(?=[，。！？、；：])")
_ZH_PUNCT = str.maketrans({",": "，", "!": "！", "?": "？", ";": "；", ":": "："})
_ZH_PUNCT_AFTER = re.compile(rf"(?<=[{_CJK}])([,!?;:])")
_ZH_STOP = re.compile(rf"(?<=[{_CJK}])\.(?!\d)")


def normalise(text: str, language: str) -> str:
    """One segment's text for display: trimmed, single spaces; for Chinese simplified characters, no spaces
    between characters and full-width punctuation after Chinese characters (Whisper mixes ASCII ``,`` in)."""
    text = _SPACE.sub(" ", unicodedata.normalize("NFC", text)).strip()
    if language.startswith("zh"):
        text = to_simplified(text)
        text = _ZH_PUNCT_AFTER.sub(lambda match: match.group(1).translate(_ZH_PUNCT), text)
        text = _ZH_STOP.sub("。", text)
        text = _CJK_GAP.sub("", text)
    return text


# --- Hallucinations ----------------------------------------------------------------------------------------------

# Matched against the comparison key (simplified, lower case, no punctuation or spaces); each pattern is anchored
# at both ends so a real sentence that merely mentions 订阅 or "thank you" is kept.
_CREDITS = [
    r"(本|以上)?字幕(由|提供|制作|翻译|校对|来自).*",
    r".*字幕(组|提供|制作|翻译|校对)(by.*)?",
    r"(中文)?字幕(志愿者|组).*",
    r"(请|请大家|大家)?(不吝|不要忘记|别忘了|记得)(点赞|订阅|转发|打赏|关注|分享|收藏).*",
    r".*(点赞|订阅|转发|打赏)(和|与|并|加)?(点赞|订阅|转发|打赏).*",
    r"(欢迎|请)?(订阅|关注)(我的|本|我们的)(频道|栏目|节目).*",
    r".*明镜与点点栏目.*",
    r".*(优优独播剧场|yoyo television series exclusive).*",
    r"(感谢|谢谢)(您|你|大家|各位)?的?(观看|收看|收听)(本期)?(节目|视频)?.*",
    r"(thank you|thanks) (so much |very much )?for (watching|listening)",
    r"(please )?(like and )?subscribe.*",
    r"(subtitles|captions) by .*",
    r".*amara org.*|.*amaraorg.*",
]
_CREDIT = re.compile("|".join(f"(?:{pattern})" for pattern in _CREDITS))
_KEY_DROP = re.compile(r"[\W_]+", re.UNICODE)


def _key(text: str) -> str:
    """Comparison key: simplified, lower case, letters/digits/CJK only (spaces between Latin words kept as one)."""
    folded = to_simplified(text).lower()
    latin_spaced = re.sub(r"[^\w]+", " ", folded).strip()
    if re.search(rf"[{_CJK}]", latin_spaced):
        return _KEY_DROP.sub("", latin_spaced)
    return latin_spaced


def is_hallucination(text: str) -> bool:
    """A known subtitle credit or sign-off Whisper invents on silence (the whole segment, not a mention)."""
    key = _key(text)
    return bool(key) and _CREDIT.fullmatch(key) is not None


def is_prompt_echo(text: str, prompt: str | None) -> bool:
    """The initial prompt read back as the transcript (seen on short clips with a Chinese prompt)."""
    if not prompt:
        return False
    key, prompt_key = _key(text), _key(prompt)
    return len(key) >= 4 and key in prompt_key


# --- Loops -------------------------------------------------------------------------------------------------------


def _collapse_inner_repeats(text: str, *, max_repeats: int = 3) -> str:
    """``好的好的好的好的好的…`` or ``5,5,5,5,5,…`` inside one segment: a unit (1-20 characters) repeated more than
    ``max_repeats`` times in a row is cut back to ``max_repeats`` times."""
    pattern = re.compile(r"(.{1,20}?)\1{" + str(max_repeats) + r",}", re.DOTALL)
    return pattern.sub(lambda match: match.group(1) * max_repeats, text)


def drop_loops(segments: Sequence[RawSegment], *, max_repeats: int = 2) -> list[RawSegment]:
    """Consecutive segments with the same text: the first ``max_repeats`` kept (people do say "好的。好的。"),
    the rest of the run dropped."""
    kept: list[RawSegment] = []
    run_key, run_length = "", 0
    for segment in segments:
        key = _key(segment.text)
        if key and key == run_key:
            run_length += 1
        else:
            run_key, run_length = key, 1
        if run_length <= max_repeats:
            kept.append(segment)
    return kept


def confidence(avg_logprob: float) -> float:
    """exp(average token log-probability), clamped to 0..1."""
    if math.isnan(avg_logprob):
        return 0.0
    return max(0.0, min(1.0, math.exp(avg_logprob)))


def postprocess(
    segments: Iterable[RawSegment], *, language: str, prompt: str | None = None
) -> list[tuple[float, float, str, float]]:
    """Normalised and filtered (start, end, text, confidence) tuples, in order."""
    cleaned: list[RawSegment] = []
    for segment in segments:
        text = normalise(_collapse_inner_repeats(segment.text), language)
        if not text or is_hallucination(text) or is_prompt_echo(text, prompt):
            continue
        cleaned.append(
            RawSegment(
                round(segment.start, 3), round(segment.end, 3), text, segment.avg_logprob, segment.no_speech_prob
            )
        )
    return [(s.start, s.end, s.text, confidence(s.avg_logprob)) for s in drop_loops(cleaned)]
