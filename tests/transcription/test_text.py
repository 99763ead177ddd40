"""Normalisation and the filters every engine's text goes through (transcription.text)."""

from __future__ import annotations

import pytest

from transcription.text import RawSegment, is_hallucination, is_prompt_echo, normalise, postprocess


def seg(text: str, start: float = 0.0, end: float = 1.0, logprob: float = -0.2) -> RawSegment:
    return RawSegment(start, end, text, logprob)


def test_traditional_becomes_simplified_with_punctuation_kept_and_full_width():
    assert normalise(" 我們明天上午開會, 謝謝 大家! ", "zh") == "我们明天上午开会，谢谢大家！"
    assert normalise("頭髮乾燥。", "zh") == "头发干燥。"  # phrase-level t2s, not one character at a time


def test_english_is_only_trimmed():
    assert normalise("  The committee  will meet. ", "en") == "The committee will meet."


@pytest.mark.parametrize(
    "text",
    [
        "字幕由Amara.org社区提供",
        "請不吝點贊 訂閱 轉發 打賞支持明鏡與點點欄目",
        "明镜与点点栏目",
        "谢谢观看",
        "感谢您的观看",
        "中文字幕志愿者 李宗盛",
        " Thank you for watching.",
        "Subtitles by the Amara.org community",
    ],
)
def test_known_credits_are_hallucinations(text):
    assert is_hallucination(text)


@pytest.mark.parametrize(
    "text", ["谢谢大家的支持。", "订阅这份报纸很方便", "支持这个提案", "字幕很重要", "Thank you for your question."]
)
def test_real_sentences_that_mention_such_words_are_kept(text):
    assert not is_hallucination(text)


def test_prompt_echo_is_detected_only_with_a_prompt():
    assert is_prompt_echo("以下是普通话的句子。", "以下是普通话的句子。")
    assert not is_prompt_echo("以下是普通话的句子。", None)
    assert not is_prompt_echo("我们开会", "以下是普通话的句子。")


def test_postprocess_drops_credits_echoes_and_segment_loops_and_collapses_inner_repeats():
    segments = [
        seg("我們明天上午開會。", 0, 2),
        seg("好的。", 2, 3),
        seg("好的。", 3, 4),
        seg("好的。", 4, 5),
        seg("好的。", 5, 6),
        seg("金1,1,4,5,5,5,5,5,5,5,5,5,5,5,5,5", 6, 7),
        seg("請不吝點贊 訂閱 轉發 打賞支持明鏡與點點欄目", 7, 9),
        seg("以下是普通话的句子", 9, 10),
    ]
    out = postprocess(segments, language="zh", prompt="以下是普通话的句子。")
    assert [text for _, _, text, _ in out] == ["我们明天上午开会。", "好的。", "好的。", "金1,1,4,5,5,5"]
    assert all(0.0 <= confidence <= 1.0 for *_, confidence in out)
    assert out[0][:2] == (0, 2)
