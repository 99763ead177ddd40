"""Chinese text analysis shared by every engine (``search.analysis``) and highlighting (``search.highlight``)."""

from __future__ import annotations

import pytest

from search.analysis import (
    NumberRef,
    grams,
    normalize,
    number_keywords,
    parse_query,
    similar_terms,
    words,
)
from search.highlight import find_spans, highlights, merge_spans, render, spans_from_marked


def clause_texts(query: str) -> list[str]:
    return [clause.text for clause in parse_query(query).clauses]


# --- normalize -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("original", "folded"),
    [
        ("關於加強社區醫療服務", "关于加强社区医疗服务"),
        ("舊小區改造", "旧小区改造"),
        ("ＡＰＰ　５Ｇ", "app 5g"),
        ("Hello World", "hello world"),
        ("２０２７－建－０１２３", "2027-建-0123"),
        ("（全角括号）！", "(全角括号)!"),
        ("已经是简体的文字", "已经是简体的文字"),
    ],
)
def test_normalize_folds_traditional_full_width_and_case(original: str, folded: str) -> None:
    assert normalize(original) == folded


@pytest.mark.parametrize("text", ["關於加強社區醫療服務的提案", "ＡＢＣ　ｄｅｆ，醫院！", "混合Mixed繁體與简体", ""])
def test_normalize_keeps_every_character_in_its_place(text: str) -> None:
    folded = normalize(text)

    assert len(folded) == len(text)
    for original, changed in zip(text, folded, strict=True):
        assert len(changed) == 1
        assert changed == original or normalize(original) == changed


def test_normalize_is_idempotent() -> None:
    text = "關於ＡＰＰ醫療"
    assert normalize(normalize(text)) == normalize(text)


# --- grams and words -------------------------------------------------------------------------------------


def test_grams_are_overlapping_bigrams_of_chinese_runs() -> None:
    assert grams("城市更新") == ["城市", "市更", "更新"]


def test_grams_keep_latin_words_and_numbers_whole_and_skip_punctuation() -> None:
    assert grams("推广5g网络，app办事") == ["推广", "5g", "网络", "app", "办事"]


def test_a_lone_chinese_character_stays_one_gram() -> None:
    assert grams("市") == ["市"]
    assert grams("在 城市") == ["在", "城市"]


def test_grams_of_nothing_are_nothing() -> None:
    assert grams("") == grams("，。！ ") == []


def test_words_use_the_custom_dictionary_of_policy_terms() -> None:
    # policy_terms.txt holds 老旧小区改造, 加装电梯 and 城市更新: each stays one word
    assert words("推进老旧小区改造") == ["推进", "老旧小区改造"]
    assert "加装电梯" in words("既有住宅加装电梯")
    assert "城市更新" in words("以城市更新带动发展")


def test_words_leave_out_punctuation_and_spaces() -> None:
    assert all(word.strip() and word not in "，。！" for word in words("城市更新，老旧小区。 电梯！"))


# --- numbers ---------------------------------------------------------------------------------------------


def test_number_keywords_hold_the_full_number_and_the_serial() -> None:
    assert number_keywords(2027, "建", 123) == ["2027-建-0123", "123"]
    assert number_keywords(2026, "提", 12345) == ["2026-提-12345", "12345"]


@pytest.mark.parametrize(
    ("typed", "value"),
    [
        ("2027-建-0123", "2027-建-0123"),
        ("2027-建-123", "2027-建-0123"),
        ("２０２７－建－０１２３", "2027-建-0123"),
        (" 2027 - 提 - 0007 ", "2027-提-0007"),
        ("第0123号", "123"),
        ("第123号", "123"),
        ("0123", "123"),
        ("第 12 号", "12"),
        ("12号", "12"),
    ],
)
def test_proposal_numbers_are_recognised_in_every_usual_form(typed: str, value: str) -> None:
    assert NumberRef.parse(typed) == NumberRef(value)
    assert parse_query(typed).number == NumberRef(value)
    assert parse_query(typed).clauses == ()


@pytest.mark.parametrize("typed", ["1234567", "12号楼", "第一号", "2027-建", "老旧小区"])
def test_other_text_is_not_a_proposal_number(typed: str) -> None:
    assert NumberRef.parse(typed) is None


# --- parse_query -----------------------------------------------------------------------------------------


def test_a_query_is_split_into_words_that_must_all_be_found() -> None:
    assert clause_texts("社区医疗") == ["社区", "医疗"]
    assert clause_texts("城市 更新") == ["城市", "更新"]


def test_a_query_is_folded_like_the_documents() -> None:
    assert clause_texts("醫療") == ["医疗"]
    assert clause_texts("ＡＰＰ") == ["app"]


@pytest.mark.parametrize("quoted", ['"社区医疗"', "“社区医疗”", "「社区医疗」", "『社区医疗』", '"社区 医疗"'])
def test_quoted_text_is_one_phrase(quoted: str) -> None:
    parsed = parse_query(quoted)

    assert [(clause.text, clause.grams) for clause in parsed.clauses] == [("社区医疗", ("社区", "区医", "医疗"))]


def test_a_phrase_and_words_together() -> None:
    assert clause_texts('"老旧小区" 电梯') == ["老旧小区", "电梯"]


def test_lone_function_characters_are_dropped_from_longer_chunks() -> None:
    assert clause_texts("城市的更新") == ["城市", "更新"]


def test_a_lone_character_alone_is_kept() -> None:
    assert clause_texts("茶") == ["茶"]
    assert clause_texts("的") == ["的"]


def test_a_repeated_word_counts_once() -> None:
    assert clause_texts("城市 城市 城市") == ["城市"]


def test_empty_and_punctuation_only_queries_are_empty() -> None:
    for text in ("", "   ", "，。", '""'):
        assert parse_query(text).empty, text


def test_a_very_long_query_is_capped() -> None:
    parsed = parse_query(" ".join(f"城市{i}" for i in range(40)))
    assert len(parsed.clauses) == 12


@pytest.mark.parametrize(
    ("query", "clauses"),
    [("舊小區", ["旧小区"]), ("翠湖新村", ["翠湖", "新村"]), ("老旧小区的停车", ["老旧小区", "停车"])],
)
def test_lone_characters_stay_with_their_neighbours(query: str, clauses: list[str]) -> None:
    assert clause_texts(query) == clauses


@pytest.mark.parametrize("query", ["翠湖新村", "旧小区"])
def test_a_name_split_into_single_characters_is_still_required(query: str) -> None:
    required = "".join(clause.text for clause in parse_query(query).clauses)
    assert set(normalize(query)) <= set(required)


# --- similar_terms ---------------------------------------------------------------------------------------


def test_similar_terms_put_the_subject_of_the_title_first() -> None:
    terms = similar_terms("关于加快推进老旧小区加装电梯的建议", "我市加装电梯资金筹措困难，加装电梯后期维保无人负责。")

    assert set(terms[:2]) == {"老旧小区", "加装电梯"}
    assert "资金" in terms


def test_similar_terms_leave_out_stop_words_and_lone_characters() -> None:
    terms = similar_terms("关于进一步加强工作的建议", "我们建议相关部门加强停车工作，提高居民满意度。")

    assert terms == ["停车", "满意度"]  # 部门, 提高, 居民: words of every policy text


def test_similar_terms_fold_traditional_text() -> None:
    assert similar_terms("關於社區醫療的建議", "")[:2] == ["社区", "医疗"]


def test_similar_terms_are_limited() -> None:
    body = "。".join(
        f"第{i}项措施涉及{word}" for i, word in enumerate(["城市", "交通", "教育", "医疗", "养老", "环境"])
    )
    assert len(similar_terms("关于民生的建议", body, limit=3)) == 3


# --- highlights ------------------------------------------------------------------------------------------


def test_spans_are_found_on_the_folded_text_and_mark_the_original() -> None:
    original = "關於加強社區醫療服務"
    spans = find_spans(original, ["医疗"])

    assert spans == [(6, 8)]
    assert render(original, spans) == "關於加強社區<mark>醫療</mark>服務"


def test_touching_and_overlapping_spans_merge() -> None:
    assert merge_spans([(0, 2), (2, 4), (6, 8), (7, 9)]) == [(0, 4), (6, 9)]
    assert find_spans("社区医疗服务", ["社区", "医疗"]) == [(0, 4)]
    assert find_spans("aaaa", ["aa"]) == [(0, 4)]


def test_every_occurrence_is_found() -> None:
    assert find_spans("停车难，停车场，停车", ["停车"]) == [(0, 2), (4, 6), (8, 10)]


def test_empty_terms_find_nothing() -> None:
    assert find_spans("城市更新", ["", "乡村"]) == []


def test_render_escapes_html_around_and_inside_marks() -> None:
    original = "<b>医疗&</b>"
    assert render(original, find_spans(original, ["医疗&"])) == "&lt;b&gt;<mark>医疗&amp;</mark>&lt;/b&gt;"


def test_render_cuts_a_window_around_the_matches() -> None:
    original = "甲" * 200 + "医疗" + "乙" * 200

    snippet = render(original, find_spans(original, ["医疗"]), size=30)

    assert snippet.startswith("…")
    assert snippet.endswith("…")
    assert "<mark>医疗</mark>" in snippet
    assert len(snippet.replace("<mark>", "").replace("</mark>", "")) == 30 + 2


def test_render_chooses_the_window_with_the_most_matches() -> None:
    original = "医疗" + "甲" * 100 + "医疗乙医疗乙医疗" + "丙" * 100
    snippet = render(original, find_spans(original, ["医疗"]), size=20)
    assert snippet.count("<mark>") == 3


def test_a_short_text_is_shown_whole() -> None:
    assert render("城市更新", [(0, 2)], size=110) == "<mark>城市</mark>更新"


def test_spans_are_read_back_from_marked_text() -> None:
    marked = "關於<mark>社區</mark>與<mark>醫療</mark>"
    spans = spans_from_marked(marked)

    assert spans == [(2, 4), (5, 7)]
    assert render("關於社區與醫療", spans) == marked


def test_snippets_show_title_and_body_always_and_other_fields_where_they_matched() -> None:
    texts = {"title": "关于城市更新的建议", "body": "正文没有命中", "replies": "答复也没有"}
    spans = {name: find_spans(text, ["城市"]) for name, text in texts.items()}

    assert highlights(texts, spans) == {"title": "关于<mark>城市</mark>更新的建议", "body": "正文没有命中"}
