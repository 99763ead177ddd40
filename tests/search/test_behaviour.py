"""The behaviour every search engine must show: the same documents, the same queries, the same answers.

Each test runs on every engine (``engine`` in ``conftest.py``): the embedded engine always, Elasticsearch
when ``ELASTICSEARCH_URL`` is set. No test body looks at which engine it runs on. The documents are
built by hand (no database): proposals of 海滨市 in simplified and in traditional characters, with
numbers, filters, permissions and dates chosen so that each query has one right answer.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from search.analysis import number_keywords
from search.backends import SearchBackend
from search.documents import (
    Hit,
    SearchDocument,
    SearchQuery,
    SearchResults,
    SimilarQuery,
    version_key,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
OFFICE = ("office",)
EVERYONE = None  # no permission filter (commands and checks)
ALL_RESULTS = 100


def on(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, 9, 30, tzinfo=SHANGHAI)


def proposal(
    object_id: int,
    title: str,
    body: str,
    *,
    date: datetime,
    category: str,
    status: str = "closed",
    kind: str = "suggestion",
    bureaus: Sequence[str] = (),
    number: tuple[int, str, int] | None = None,
    replies: str = "",
    acl: Sequence[str] = ("office", "public"),
) -> SearchDocument:
    return SearchDocument.of(
        "proposal",
        object_id,
        texts={"title": title, "body": body, "replies": replies},
        keywords={
            "kind": [kind],
            "status": [status],
            "year": [str(date.year)],
            "bureau": list(bureaus),
            "category": [category],
            "number": number_keywords(*number) if number else [],
        },
        acl=acl,
        date=date,
    )


OLD_ESTATES = proposal(
    101,
    "关于推进西江区老旧小区改造的建议",
    "西江区建成于上世纪八九十年代的老旧小区普遍存在管网老化、缺少电梯、停车位不足等问题。"
    "建议加快实施综合改造，优先解决加装电梯和雨污分流。",
    replies="市住房城乡建设管理委答复：已将西江区十二个小区列入今年改造计划。",
    date=on(2025, 2, 10),
    category="城市建设",
    bureaus=["11", "12"],
    number=(2025, "建", 88),
    acl=["office", "public", "user:1", "bureau:11", "bureau:12"],
)
URBAN_RENEWAL = proposal(
    102,
    "关于以城市更新带动中心区功能提升的提案",
    "城市更新要坚持留改拆并举，保护历史街区的肌理，避免大拆大建。建议设立城市更新专项基金。",
    date=on(2026, 1, 20),
    category="城市建设",
    status="handling",
    kind="proposal",
    bureaus=["12"],
    number=(2026, "提", 123),
    acl=["office", "user:2", "bureau:12"],
)
COMMUNITY_HEALTH_TRADITIONAL = proposal(
    103,
    "關於加強社區醫療服務的提案",
    "社區衛生服務中心缺少全科醫生，老年居民看病排隊時間長。建議增加家庭醫生簽約服務。",
    date=on(2024, 1, 15),
    category="医疗卫生",
    kind="proposal",
    bureaus=["21"],
    number=(2024, "提", 31),
)
BUS_ROUTES = proposal(
    104,
    "关于优化东湖区早晚高峰公交线路的建议",
    "东湖区翠湖新村入住居民增多，早晚高峰公交满载率超过百分之一百二十。建议增开区间车并优化站点。",
    date=on(2027, 1, 12),
    category="交通",
    status="submitted",
    number=(2027, "建", 123),
    acl=["office", "user:1"],
)
NIGHT_PARKING = proposal(
    105,
    "关于缓解中心区夜间停车难的建议",
    "中心区居民夜间停车难，建议利用周边道路施划夜间停车泊位，并鼓励单位停车场错时开放，方便乘坐公交通勤的居民。",
    replies="市交通委答复：将在夜间增开区间车，并施划临时泊位。",
    date=on(2026, 2, 1),
    category="交通",
    bureaus=["31"],
)
CLINIC_IN_COMMUNITY = proposal(
    106,
    "关于在社区设立医疗站点的建议",
    "部分新建社区距离医院较远，建议在社区服务中心内设立医疗站点，配备常用药品。",
    date=on(2023, 3, 3),
    category="医疗卫生",
    bureaus=["21"],
)
GOVERNMENT_APP = proposal(
    107,
    "关于推广政务服务App“一网通办”的建议",
    "市民反映政务服务App功能分散，建议整合为一个App，支持5G网络下的视频办理。",
    date=on(2025, 5, 5),
    category="营商环境",
    bureaus=["41"],
)
SHOP_SIGNS_WITH_MARKUP = proposal(
    108,
    "关于规范户外广告&店招设置的建议",
    "部分店招写着<script>alert('广告')</script>之类的字样，广告牌安装不牢固。",
    date=on(2024, 6, 1),
    category="城市建设",
    bureaus=["12"],
)
PRIVATE_DRAFT = proposal(
    109,
    "关于老旧小区加装电梯补贴的建议（暂存）",
    "老旧小区加装电梯补贴标准偏低，低层住户意见难以统一。",
    date=on(2027, 1, 20),
    category="城市建设",
    status="draft",
    acl=["user:7"],
)
CORPUS = (
    OLD_ESTATES,
    URBAN_RENEWAL,
    COMMUNITY_HEALTH_TRADITIONAL,
    BUS_ROUTES,
    NIGHT_PARKING,
    CLINIC_IN_COMMUNITY,
    GOVERNMENT_APP,
    SHOP_SIGNS_WITH_MARKUP,
    PRIVATE_DRAFT,
)
BY_ID = {document.object_id: document for document in CORPUS}

CONSULTATION_LINE = SearchDocument.of(
    "message",
    101,  # the same id as a proposal: each document type is its own index
    texts={"body": "请问老旧小区改造的补助标准是多少？"},
    keywords={"kind": ["text"], "consultation": ["9"], "bureau": ["12"], "sender": ["1"], "year": ["2026"]},
    acl=["office", "user:1"],
    date=on(2026, 3, 2),
)


@pytest.fixture
def corpus(engine: SearchBackend) -> SearchBackend:
    """The engine holding the proposals above and one consultation message."""
    engine.index("proposal", list(CORPUS))
    engine.index("message", [CONSULTATION_LINE])
    return engine


def search(
    engine: SearchBackend, text: str = "", *, acl: Sequence[str] | None = EVERYONE, **options: object
) -> SearchResults:
    options.setdefault("limit", ALL_RESULTS)
    return engine.search(SearchQuery(doc_type="proposal", text=text, acl=acl, **options))  # type: ignore[arg-type]


def found(engine: SearchBackend, text: str = "", **options: object) -> set[int]:
    return {hit.object_id for hit in search(engine, text, **options).hits}


def ranked(engine: SearchBackend, text: str = "", **options: object) -> list[int]:
    return [hit.object_id for hit in search(engine, text, **options).hits]


def hit_of(results: SearchResults, object_id: int) -> Hit:
    return next(hit for hit in results.hits if hit.object_id == object_id)


# --- words and parts of words ----------------------------------------------------------------------


def test_engine_reports_itself_healthy(engine: SearchBackend) -> None:
    assert engine.health().ok


def test_a_word_finds_the_longer_word_it_begins(corpus: SearchBackend) -> None:
    assert found(corpus, "老旧小区") == {OLD_ESTATES.object_id, PRIVATE_DRAFT.object_id}


def test_city_finds_urban_renewal(corpus: SearchBackend) -> None:
    assert found(corpus, "城市") == {URBAN_RENEWAL.object_id}


@pytest.mark.parametrize("part", ["旧小", "更新", "满载率"])
def test_a_part_of_a_word_is_found(corpus: SearchBackend, part: str) -> None:
    expected = {doc.object_id for doc in CORPUS if any(part in text for text in doc.texts.values())}
    assert expected, "the corpus holds the part"

    assert found(corpus, part) == expected


def test_a_single_character_finds_the_words_containing_it(corpus: SearchBackend) -> None:
    assert found(corpus, "梯") == {OLD_ESTATES.object_id, PRIVATE_DRAFT.object_id}


def test_a_place_name_is_found_only_whole(corpus: SearchBackend) -> None:
    assert found(corpus, "翠湖新村") == {BUS_ROUTES.object_id}
    assert found(corpus, "白沙新村") == set()


def test_words_typed_with_spaces_must_all_be_found(corpus: SearchBackend) -> None:
    assert found(corpus, "老旧小区 电梯") == {OLD_ESTATES.object_id, PRIVATE_DRAFT.object_id}
    assert found(corpus, "停车 公交") == {NIGHT_PARKING.object_id}
    assert found(corpus, "老旧小区 公交") == set()


def test_words_typed_without_spaces_must_all_be_found_anywhere(corpus: SearchBackend) -> None:
    # 社区 and 医疗 apart (在社区设立医疗站点) or together (社區醫療): both found
    assert found(corpus, "社区医疗") == {COMMUNITY_HEALTH_TRADITIONAL.object_id, CLINIC_IN_COMMUNITY.object_id}


@pytest.mark.parametrize("quoted", ['"社区医疗"', "“社区医疗”", "「社区医疗」", '"社区 医疗"'])
def test_a_quoted_phrase_is_found_only_as_written(corpus: SearchBackend, quoted: str) -> None:
    assert found(corpus, quoted) == {COMMUNITY_HEALTH_TRADITIONAL.object_id}


def test_a_phrase_and_a_word_together_must_both_be_found(corpus: SearchBackend) -> None:
    assert found(corpus, '"夜间停车" 公交') == {NIGHT_PARKING.object_id}
    assert found(corpus, '"夜间停车" 电梯') == set()


# --- simplified and traditional, full width and case ------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("舊小區", {OLD_ESTATES.object_id, PRIVATE_DRAFT.object_id}),
        ("醫療", {COMMUNITY_HEALTH_TRADITIONAL.object_id, CLINIC_IN_COMMUNITY.object_id}),
        ("城市更新專項基金", {URBAN_RENEWAL.object_id}),
    ],
)
def test_a_traditional_query_finds_simplified_text(corpus: SearchBackend, query: str, expected: set[int]) -> None:
    assert found(corpus, query) == expected


@pytest.mark.parametrize("query", ["卫生服务中心", "家庭医生签约", "排队时间"])
def test_a_simplified_query_finds_traditional_text(corpus: SearchBackend, query: str) -> None:
    assert found(corpus, query) == {COMMUNITY_HEALTH_TRADITIONAL.object_id}


@pytest.mark.parametrize("query", ["app", "APP", "ＡＰＰ", "ａｐｐ", "5G", "５Ｇ"])
def test_latin_letters_match_in_any_width_and_case(corpus: SearchBackend, query: str) -> None:
    assert found(corpus, query) == {GOVERNMENT_APP.object_id}


# --- proposal numbers -----------------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["2027-建-0123", "2027-建-123", " 2027 - 建 - 0123 ", "２０２７－建－０１２３"])
def test_a_full_proposal_number_finds_exactly_that_proposal(corpus: SearchBackend, query: str) -> None:
    assert found(corpus, query) == {BUS_ROUTES.object_id}


@pytest.mark.parametrize("query", ["第0123号", "第123号", "0123", "123", "第 0123 号"])
def test_a_serial_number_finds_the_proposals_of_every_session_with_it(corpus: SearchBackend, query: str) -> None:
    # 2027-建-0123 and 2026-提-0123 share the serial
    assert found(corpus, query) == {BUS_ROUTES.object_id, URBAN_RENEWAL.object_id}


def test_a_number_of_another_session_finds_nothing(corpus: SearchBackend) -> None:
    assert found(corpus, "2026-建-0123") == set()
    assert found(corpus, "第0124号") == set()


def test_a_number_lookup_still_respects_permissions(corpus: SearchBackend) -> None:
    assert found(corpus, "第0123号", acl=["user:2"]) == {URBAN_RENEWAL.object_id}


# --- filters and facets ---------------------------------------------------------------------------------


def test_a_filter_keeps_documents_with_any_of_its_values(corpus: SearchBackend) -> None:
    assert found(corpus, filters={"category": ["交通", "医疗卫生"]}) == {
        BUS_ROUTES.object_id,
        NIGHT_PARKING.object_id,
        COMMUNITY_HEALTH_TRADITIONAL.object_id,
        CLINIC_IN_COMMUNITY.object_id,
    }


def test_filters_on_several_fields_must_all_hold(corpus: SearchBackend) -> None:
    assert found(corpus, filters={"category": ["交通"], "year": ["2026"]}) == {NIGHT_PARKING.object_id}
    assert found(corpus, filters={"bureau": ["12"], "status": ["closed"]}) == {
        OLD_ESTATES.object_id,
        SHOP_SIGNS_WITH_MARKUP.object_id,
    }


def test_a_filter_narrows_a_text_search(corpus: SearchBackend) -> None:
    assert found(corpus, "医疗", filters={"year": ["2024"]}) == {COMMUNITY_HEALTH_TRADITIONAL.object_id}


def test_an_empty_filter_list_filters_nothing(corpus: SearchBackend) -> None:
    assert found(corpus, "医疗", filters={"year": []}) == {
        COMMUNITY_HEALTH_TRADITIONAL.object_id,
        CLINIC_IN_COMMUNITY.object_id,
    }


def test_facets_count_the_matching_documents_by_value(corpus: SearchBackend) -> None:
    results = search(corpus, acl=OFFICE, facets=["category", "year", "bureau"])

    counts = {name: {value.value: value.count for value in values} for name, values in results.facets.items()}
    assert counts["category"] == {"城市建设": 3, "医疗卫生": 2, "交通": 2, "营商环境": 1}
    assert counts["year"] == {"2027": 1, "2026": 2, "2025": 2, "2024": 2, "2023": 1}
    assert counts["bureau"] == {"11": 1, "12": 3, "21": 2, "31": 1, "41": 1}
    for values in results.facets.values():
        assert [value.count for value in values] == sorted((value.count for value in values), reverse=True)


def test_facets_count_only_what_the_text_and_filters_match(corpus: SearchBackend) -> None:
    results = search(corpus, "医疗", acl=OFFICE, filters={"kind": ["suggestion"]}, facets=["category", "kind"])

    assert {v.value: v.count for v in results.facets["category"]} == {"医疗卫生": 1}
    assert {v.value: v.count for v in results.facets["kind"]} == {"suggestion": 1}


def test_facets_never_count_what_the_searcher_may_not_find(corpus: SearchBackend) -> None:
    results = search(corpus, "电梯", acl=["user:7"], facets=["status"])

    assert {v.value: v.count for v in results.facets["status"]} == {"draft": 1}


# --- permissions and exclusions -------------------------------------------------------------------------


def test_a_document_is_found_only_by_someone_holding_one_of_its_keys(corpus: SearchBackend) -> None:
    assert found(corpus, "电梯", acl=["office", "public"]) == {OLD_ESTATES.object_id}
    assert found(corpus, "电梯", acl=["user:7"]) == {PRIVATE_DRAFT.object_id}
    assert found(corpus, "电梯", acl=["user:7", "public"]) == {OLD_ESTATES.object_id, PRIVATE_DRAFT.object_id}


def test_a_searcher_without_keys_finds_nothing(corpus: SearchBackend) -> None:
    assert search(corpus, "电梯", acl=[]).total == 0
    assert search(corpus, acl=[]).total == 0


def test_without_a_permission_filter_everything_is_found(corpus: SearchBackend) -> None:
    assert found(corpus, acl=EVERYONE) == set(BY_ID)


def test_every_searcher_finds_exactly_the_documents_listing_one_of_their_keys(corpus: SearchBackend) -> None:
    for keys in (["office"], ["public"], ["user:1"], ["user:2", "public"], ["bureau:12"], ["bureau:21"], ["user:99"]):
        expected = {doc.object_id for doc in CORPUS if set(doc.acl) & set(keys)}
        assert found(corpus, acl=keys) == expected, keys
        assert search(corpus, acl=keys).total == len(expected), keys


def test_excluded_ids_never_come_back(corpus: SearchBackend) -> None:
    assert found(corpus, "老旧小区", exclude_ids=[PRIVATE_DRAFT.object_id]) == {OLD_ESTATES.object_id}
    assert search(corpus, "老旧小区", exclude_ids=[101, 109]).total == 0


# --- order and pages ------------------------------------------------------------------------------------


def test_a_title_match_ranks_above_a_match_in_the_body_only(corpus: SearchBackend) -> None:
    # 公交 is in the bus proposal's title and once in the body of the parking one
    assert ranked(corpus, "公交") == [BUS_ROUTES.object_id, NIGHT_PARKING.object_id]


def test_a_match_in_the_body_ranks_above_a_match_in_the_replies_only(corpus: SearchBackend) -> None:
    # 区间车: in the bus proposal's body, and in the reply to the parking one
    assert ranked(corpus, "区间车") == [BUS_ROUTES.object_id, NIGHT_PARKING.object_id]


def test_replies_are_searched_too(corpus: SearchBackend) -> None:
    assert ranked(corpus, "列入") == [OLD_ESTATES.object_id]


@pytest.mark.parametrize(("sort", "newest_first"), [("newest", True), ("oldest", False)])
def test_results_sorted_by_date(corpus: SearchBackend, sort: str, newest_first: bool) -> None:
    expected = sorted(CORPUS, key=lambda doc: doc.date, reverse=newest_first)

    assert ranked(corpus, sort=sort) == [doc.object_id for doc in expected]
    matching = [doc.object_id for doc in expected if doc.keywords["category"] == ["城市建设"]]
    assert ranked(corpus, filters={"category": ["城市建设"]}, sort=sort) == matching


def test_a_text_search_sorted_by_date_keeps_its_matches(corpus: SearchBackend) -> None:
    assert ranked(corpus, "医疗", sort="newest") == [
        COMMUNITY_HEALTH_TRADITIONAL.object_id,
        CLINIC_IN_COMMUNITY.object_id,
    ]
    assert ranked(corpus, "医疗", sort="oldest") == [
        CLINIC_IN_COMMUNITY.object_id,
        COMMUNITY_HEALTH_TRADITIONAL.object_id,
    ]


def test_pages_follow_each_other_without_gaps_or_repeats(corpus: SearchBackend) -> None:
    everything = ranked(corpus, sort="oldest")

    pages = [search(corpus, sort="oldest", offset=offset, limit=4) for offset in (0, 4, 8)]

    assert [page.total for page in pages] == [len(CORPUS)] * 3
    assert [[hit.object_id for hit in page.hits] for page in pages] == [
        everything[0:4],
        everything[4:8],
        everything[8:],
    ]


def test_pages_of_a_ranked_search_follow_each_other(corpus: SearchBackend) -> None:
    everything = ranked(corpus, "建议")
    assert len(everything) >= 4

    first, second = search(corpus, "建议", limit=2), search(corpus, "建议", offset=2, limit=2)

    assert [hit.object_id for hit in first.hits + second.hits] == everything[:4]  # type: ignore[operator]
    assert first.total == second.total == len(everything)


def test_a_page_past_the_end_is_empty_but_keeps_the_total(corpus: SearchBackend) -> None:
    results = search(corpus, "医疗", offset=50, limit=10)
    assert (list(results.hits), results.total) == ([], 2)


# --- highlights -----------------------------------------------------------------------------------------


def test_highlights_mark_the_original_traditional_text_for_a_simplified_query(corpus: SearchBackend) -> None:
    hit = hit_of(search(corpus, "医疗"), COMMUNITY_HEALTH_TRADITIONAL.object_id)

    assert hit.highlights["title"] == "關於加強社區<mark>醫療</mark>服務的提案"


def test_highlights_mark_the_original_text_for_a_traditional_query(corpus: SearchBackend) -> None:
    hit = hit_of(search(corpus, "衛生服務中心"), COMMUNITY_HEALTH_TRADITIONAL.object_id)

    assert hit.highlights["body"].startswith("社區<mark>衛生服務中心</mark>缺少全科醫生")


def test_highlights_mark_a_word_inside_a_longer_one(corpus: SearchBackend) -> None:
    hit = hit_of(search(corpus, "老旧小区"), OLD_ESTATES.object_id)

    assert hit.highlights["title"] == "关于推进西江区<mark>老旧小区</mark>改造的建议"
    assert hit.highlights["body"].count("<mark>老旧小区</mark>") == 1
    assert "replies" not in hit.highlights  # the replies did not match


def test_highlights_show_where_the_replies_matched(corpus: SearchBackend) -> None:
    hit = hit_of(search(corpus, "列入"), OLD_ESTATES.object_id)

    assert "<mark>列入</mark>今年改造计划" in hit.highlights["replies"]
    assert hit.highlights["title"] == "关于推进西江区老旧小区改造的建议"  # title always shown, unmarked here


def test_highlights_mark_every_word_of_the_query(corpus: SearchBackend) -> None:
    hit = hit_of(search(corpus, "停车 公交"), NIGHT_PARKING.object_id)

    assert hit.highlights["title"] == "关于缓解中心区夜间<mark>停车</mark>难的建议"
    assert "<mark>公交</mark>" in hit.highlights["body"]
    assert hit.highlights["body"].count("<mark>停车</mark>") == 3


def test_highlights_escape_html_in_documents(corpus: SearchBackend) -> None:
    hit = hit_of(search(corpus, "广告"), SHOP_SIGNS_WITH_MARKUP.object_id)

    assert hit.highlights["title"] == "关于规范户外<mark>广告</mark>&amp;店招设置的建议"
    assert "&lt;script&gt;alert(&#x27;<mark>广告</mark>&#x27;)&lt;/script&gt;" in hit.highlights["body"]
    assert "<script>" not in "".join(hit.highlights.values())


def test_a_long_body_is_cut_around_the_match(engine: SearchBackend) -> None:
    padding = "会议听取了各方面的意见。" * 30
    long = proposal(
        1, "关于完善社区养老服务的建议", padding + "建议推广长者食堂。" + padding, date=on(2025, 1, 1), category="养老"
    )
    engine.index("proposal", [long])

    body = search(engine, "长者食堂").hits[0].highlights["body"]

    assert "<mark>长者食堂</mark>" in body
    assert body.startswith("…")
    assert body.endswith("…")
    assert len(body.replace("<mark>", "").replace("</mark>", "")) < len(long.texts["body"]) // 2


def test_a_number_lookup_has_snippets_without_marks(corpus: SearchBackend) -> None:
    hit = search(corpus, "2027-建-0123").hits[0]

    assert hit.highlights["title"] == BUS_ROUTES.texts["title"]


# --- document types -------------------------------------------------------------------------------------


def test_messages_and_proposals_are_searched_apart(corpus: SearchBackend) -> None:
    messages = corpus.search(SearchQuery(doc_type="message", text="补助标准", acl=["user:1"]))

    assert [hit.object_id for hit in messages.hits] == [CONSULTATION_LINE.object_id]
    assert messages.hits[0].highlights["body"] == "请问老旧小区改造的<mark>补助标准</mark>是多少？"
    assert found(corpus, "补助标准") == set()
    assert corpus.search(SearchQuery(doc_type="message", text="补助标准", acl=["user:2"])).total == 0


def test_a_message_filter_by_consultation(corpus: SearchBackend) -> None:
    def in_consultation(number: str) -> int:
        return corpus.search(SearchQuery(doc_type="message", filters={"consultation": [number]})).total

    assert (in_consultation("9"), in_consultation("10")) == (1, 0)


# --- keeping the index up to date -----------------------------------------------------------------------


def test_indexing_a_document_again_replaces_it(corpus: SearchBackend) -> None:
    changed = proposal(
        BUS_ROUTES.object_id,
        "关于开通东湖区夜间公交专线的建议",
        "翠湖新村居民夜间出行不便，建议开通夜间公交专线。",
        date=BUS_ROUTES.date,
        category="交通",
        status="registered",
        number=(2027, "建", 123),
        acl=["office", "user:1"],
    )

    corpus.index("proposal", [changed])

    assert found(corpus, "早晚高峰") == set()
    assert found(corpus, "公交专线") == {BUS_ROUTES.object_id}
    assert found(corpus, filters={"status": ["registered"]}) == {BUS_ROUTES.object_id}
    assert search(corpus).total == len(CORPUS)
    assert corpus.versions("proposal")[BUS_ROUTES.object_id] == version_key(changed.version)


def test_a_deleted_document_is_no_longer_found(corpus: SearchBackend) -> None:
    corpus.delete("proposal", [BUS_ROUTES.object_id, 999])  # an id never indexed is no error

    assert found(corpus, "公交") == {NIGHT_PARKING.object_id}
    assert found(corpus, "2027-建-0123") == set()
    assert BUS_ROUTES.object_id not in corpus.versions("proposal")


def test_versions_list_every_indexed_document_with_its_version(corpus: SearchBackend) -> None:
    assert corpus.versions("proposal") == {doc.object_id: version_key(doc.version) for doc in CORPUS}
    assert corpus.versions("message") == {CONSULTATION_LINE.object_id: version_key(CONSULTATION_LINE.version)}


def test_an_empty_index_has_no_versions_and_finds_nothing(engine: SearchBackend) -> None:
    assert engine.versions("proposal") == {}
    assert search(engine, "老旧小区").total == 0
    assert search(engine).total == 0


def test_a_rebuild_replaces_the_index_and_search_keeps_answering_meanwhile(corpus: SearchBackend) -> None:
    renamed = proposal(
        201,
        "关于建设口袋公园的建议",
        "利用边角地建设口袋公园，方便居民休闲。",
        date=on(2026, 4, 1),
        category="城市建设",
    )
    during: list[set[int]] = []

    def new_documents() -> Iterator[SearchDocument]:
        yield OLD_ESTATES
        during.append(found(corpus, "城市"))  # the new index is half full: the old one still answers
        yield renamed

    count = corpus.rebuild("proposal", new_documents())

    assert count == 2
    assert during == [{URBAN_RENEWAL.object_id}]
    assert found(corpus, "城市") == set()
    assert found(corpus, "口袋公园") == {renamed.object_id}
    assert corpus.versions("proposal") == {101: version_key(OLD_ESTATES.version), 201: version_key(renamed.version)}
    assert found(corpus, "老旧小区") == {OLD_ESTATES.object_id}


def test_indexing_after_a_rebuild_goes_to_the_new_index(corpus: SearchBackend) -> None:
    corpus.rebuild("proposal", [OLD_ESTATES])

    corpus.index("proposal", [NIGHT_PARKING])

    assert corpus.versions("proposal").keys() == {OLD_ESTATES.object_id, NIGHT_PARKING.object_id}


def test_a_rebuild_of_one_type_leaves_the_other_alone(corpus: SearchBackend) -> None:
    corpus.rebuild("proposal", [])

    assert corpus.versions("proposal") == {}
    assert corpus.versions("message").keys() == {CONSULTATION_LINE.object_id}


# --- similar proposals ----------------------------------------------------------------------------------


def similar(engine: SearchBackend, title: str, body: str = "", **options: object) -> list[int]:
    query = SimilarQuery(doc_type="proposal", title=title, body=body, **options)  # type: ignore[arg-type]
    return [hit.object_id for hit in engine.similar(query).hits]


DRAFT_TITLE = "关于加快老旧小区加装电梯的建议"
DRAFT_BODY = "我市老旧小区多为六层以下住宅，老年人上下楼困难，加装电梯进展缓慢，低层住户顾虑较多。"


def test_similar_proposals_share_the_subject_of_the_draft(corpus: SearchBackend) -> None:
    hits = similar(corpus, DRAFT_TITLE, DRAFT_BODY, acl=EVERYONE)

    assert set(hits[:2]) == {PRIVATE_DRAFT.object_id, OLD_ESTATES.object_id}
    assert GOVERNMENT_APP.object_id not in hits


def test_similar_proposals_are_only_those_the_writer_may_see(corpus: SearchBackend) -> None:
    hits = similar(corpus, DRAFT_TITLE, DRAFT_BODY, acl=["user:1", "public"])

    assert hits[0] == OLD_ESTATES.object_id
    assert PRIVATE_DRAFT.object_id not in hits


def test_similar_proposals_never_include_the_draft_itself(corpus: SearchBackend) -> None:
    hits = similar(corpus, DRAFT_TITLE, DRAFT_BODY, acl=["user:7", "public"], exclude_ids=[PRIVATE_DRAFT.object_id])

    assert hits[0] == OLD_ESTATES.object_id
    assert PRIVATE_DRAFT.object_id not in hits


def test_similar_proposals_are_limited(corpus: SearchBackend) -> None:
    assert len(similar(corpus, "关于社区医疗和老旧小区公交停车的建议", acl=EVERYONE, limit=2)) == 2
    assert len(similar(corpus, "关于社区医疗和老旧小区公交停车的建议", acl=EVERYONE, limit=5)) == 5


def test_similar_proposals_of_another_subject(corpus: SearchBackend) -> None:
    hits = similar(corpus, "关於社區醫療服務的建議", "社區醫生太少", acl=OFFICE)

    assert hits[0] == COMMUNITY_HEALTH_TRADITIONAL.object_id
    assert OLD_ESTATES.object_id not in hits


def test_a_draft_with_no_telling_words_has_no_similar_proposals(corpus: SearchBackend) -> None:
    assert similar(corpus, "关于", "的", acl=EVERYONE) == []


# --- odd input ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query", ['"', "“", "第号", "   ", "((", "a OR b", "*", "title:城市", "-", "\\", "的", "<mark>", "城市" * 300]
)
def test_odd_queries_answer_without_error(corpus: SearchBackend, query: str) -> None:
    results = search(corpus, query, acl=OFFICE, facets=["year"])

    assert results.total >= len(results.hits) >= 0
