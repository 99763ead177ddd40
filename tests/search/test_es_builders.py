"""The Elasticsearch index layout and request bodies, as pure functions (no cluster needed).

What a real cluster does with them is checked by the shared behaviour suite (``make test-es``); here we
check that we *ask* for the engines' common contract: every clause a phrase of bigrams in some text field,
permissions and exclusions as filters, the right sort, facets, one atomic alias swap, the analyzer chosen
from the cluster's plugins, and snippets cut from the original text exactly as the embedded engine cuts them.
"""

from __future__ import annotations

import fnmatch
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from search import analysis, es_mapping, es_queries
from search.analysis import SYNONYM_SCORE, SYNONYM_WEIGHT, ParsedQuery, normalize, parse_query
from search.documents import (
    FIELD_BOOSTS,
    KEYWORD_FIELDS,
    TEXT_FIELDS,
    FacetValue,
    SearchDocument,
    SearchQuery,
    SimilarQuery,
    version_key,
)
from search.highlight import find_spans, highlights
from search.synonyms import Thesaurus

IK = es_mapping.WORDS_PLUGINS[0]
SMARTCN = es_mapping.WORDS_PLUGINS[1]


def a_document(**changes: Any) -> SearchDocument:
    fields: dict[str, Any] = {
        "doc_type": "proposal",
        "object_id": 42,
        "texts": {"title": "關於老舊小區改造的建議", "body": "加快推進城市更新，ＡＢＣ社區試點。", "replies": ""},
        "keywords": {"bureau": ["住建局"], "year": [2027], "number": ["2027-建-0123", "123"]},
        "acl": ["office", "user:7"],
        "date": datetime(2027, 3, 1, 8, 30, tzinfo=UTC),
        "version": "v1",
    }
    fields.update(changes)
    return SearchDocument(**fields)


def body_for(text: str = "", **query: Any) -> dict[str, Any]:
    return es_queries.search_body(SearchQuery(doc_type="proposal", text=text, **query), parse_query(text))


def bool_of(body: dict[str, Any]) -> dict[str, Any]:
    parts: dict[str, Any] = body["query"]["bool"]
    return parts


# --- names and the alias swap ------------------------------------------------------------------


def test_versioned_index_names_sit_behind_the_alias_and_match_the_template():
    name = es_mapping.new_index_name("consult", "proposal", datetime(2027, 3, 1, 12, 0, 5), "a1b2c3")

    assert name == "consult-proposal-20270301120005-a1b2c3"
    assert es_mapping.alias_name("consult", "proposal") == "consult-proposal"
    assert fnmatch.fnmatch(name, es_mapping.index_pattern("consult", "proposal"))
    assert not fnmatch.fnmatch("consult-message-20270301120005-a1b2c3", es_mapping.index_pattern("consult", "proposal"))


def test_rebuild_swaps_the_alias_from_every_old_index_to_the_new_one_in_one_call():
    actions = es_mapping.swap_actions(
        "consult-proposal", ["consult-proposal-2", "consult-proposal-1"], "consult-proposal-3"
    )

    assert actions == [
        {"remove": {"index": "consult-proposal-1", "alias": "consult-proposal"}},
        {"remove": {"index": "consult-proposal-2", "alias": "consult-proposal"}},
        {"add": {"index": "consult-proposal-3", "alias": "consult-proposal", "is_write_index": True}},
    ]


def test_first_rebuild_only_adds_the_alias():
    assert es_mapping.swap_actions("consult-proposal", [], "consult-proposal-1") == [
        {"add": {"index": "consult-proposal-1", "alias": "consult-proposal", "is_write_index": True}}
    ]


def test_first_index_is_the_alias_write_index_so_a_racing_second_one_is_refused():
    assert es_mapping.first_index_aliases("consult-message") == {"consult-message": {"is_write_index": True}}


def test_rebuild_loads_without_refreshing_and_goes_live_with_the_default_interval():
    assert es_mapping.LOADING_SETTINGS == {"index": {"refresh_interval": "-1"}}
    assert es_mapping.LIVE_SETTINGS == {"index": {"refresh_interval": None}}


# --- analyzer choice ---------------------------------------------------------------------------


def test_plugins_are_read_per_node_from_nodes_info():
    nodes_info = {
        "nodes": {
            "n1": {"plugins": [{"name": "analysis-ik", "version": "9.0.0"}, {"name": "analysis-smartcn"}]},
            "n2": {"plugins": []},
        }
    }

    assert es_mapping.plugins_by_node(nodes_info) == [{"analysis-ik", "analysis-smartcn"}, set()]


@pytest.mark.parametrize(
    ("node_plugins", "expected"),
    [
        ([{"analysis-ik", "analysis-smartcn"}, {"analysis-ik"}], IK),
        ([{"analysis-smartcn"}, {"analysis-smartcn", "analysis-icu"}], SMARTCN),
        ([{"analysis-ik", "analysis-smartcn"}, {"analysis-smartcn"}], SMARTCN),  # ik not on every node
        ([{"analysis-ik"}, set()], None),
        ([{"analysis-icu"}], None),
        ([], None),
    ],
)
def test_segmentation_plugin_is_used_only_when_every_node_has_it(node_plugins, expected):
    assert es_mapping.choose_words_analyzer(node_plugins) == expected


def test_matching_fields_always_use_bigrams_like_the_embedded_engine():
    settings = es_mapping.index_settings()["analysis"]
    bigrams = settings["analyzer"][es_mapping.BIGRAMS]

    assert bigrams["tokenizer"] == "standard"
    assert bigrams["filter"][:2] == ["cjk_width", "lowercase"]
    assert settings["filter"][bigrams["filter"][2]] == {"type": "cjk_bigram", "output_unigrams": False}
    for words in (None, IK, SMARTCN):
        properties = es_mapping.index_mappings(words)["properties"]
        for name in TEXT_FIELDS:
            assert properties[name]["type"] == "text"
            assert properties[name]["analyzer"] == es_mapping.BIGRAMS


def test_without_plugins_there_are_no_word_sub_fields():
    mappings = es_mapping.index_mappings(None)

    assert all("fields" not in mappings["properties"][name] for name in TEXT_FIELDS)
    assert "words_plugin" not in mappings["_meta"]
    assert not es_mapping.has_word_fields(mappings)


@pytest.mark.parametrize("words", [IK, SMARTCN])
def test_a_segmentation_plugin_adds_word_sub_fields(words):
    mappings = es_mapping.index_mappings(words)

    for name in TEXT_FIELDS:
        sub_field = mappings["properties"][name]["fields"]["words"]
        assert sub_field["analyzer"] == words.index_analyzer
        assert sub_field["search_analyzer"] == words.search_analyzer
    assert es_mapping.has_word_fields(mappings)


def test_ik_indexes_fine_grained_words_and_searches_coarse_ones():
    assert (IK.plugin, IK.index_analyzer, IK.search_analyzer) == ("analysis-ik", "ik_max_word", "ik_smart")
    assert (SMARTCN.plugin, SMARTCN.index_analyzer) == ("analysis-smartcn", "smartcn")


def test_exact_fields_are_keywords_and_originals_are_kept_unindexed():
    mappings = es_mapping.index_mappings(None)
    properties = mappings["properties"]

    assert all(properties[name] == {"type": "keyword"} for name in (*KEYWORD_FIELDS, "acl"))
    assert properties["object_id"] == {"type": "long"}
    assert properties["date"]["type"] == "date"
    assert properties["version"]["type"] == "long"
    assert properties["source"] == {"type": "object", "enabled": False}
    assert properties["words"]["analyzer"] == es_mapping.PRESEGMENTED
    assert mappings["dynamic"] == "strict"


def test_the_template_covers_every_versioned_index_of_its_type():
    template = es_mapping.index_template("consult", "message", SMARTCN)

    assert template["name"] == "consult-message"
    assert template["index_patterns"] == ["consult-message-*"]
    assert template["template"]["settings"] == es_mapping.index_settings()
    assert template["template"]["mappings"] == es_mapping.index_mappings(SMARTCN)
    assert template["priority"] > 100


# --- documents -------------------------------------------------------------------------------


def test_a_document_is_indexed_normalised_with_its_originals_alongside():
    document = a_document()

    source = es_mapping.document_source(document)

    assert source["title"] == "关于老旧小区改造的建议"
    assert source["body"] == normalize(document.texts["body"])
    assert "abc社区" in source["body"]
    assert len(source["title"]) == len(document.texts["title"])
    assert "replies" not in source  # empty texts are left out, as in the embedded engine
    assert source["source"] == {"title": "關於老舊小區改造的建議", "body": "加快推進城市更新，ＡＢＣ社區試點。"}
    assert source["words"].split() == analysis.words(source["title"]) + analysis.words(source["body"])


def test_a_document_carries_keywords_as_strings_acl_date_and_version_key():
    source = es_mapping.document_source(a_document())

    assert source["object_id"] == 42
    assert source["bureau"] == ["住建局"]
    assert source["year"] == ["2027"]
    assert source["number"] == ["2027-建-0123", "123"]
    assert "status" not in source
    assert source["acl"] == ["office", "user:7"]
    assert source["date"] == int(datetime(2027, 3, 1, 8, 30, tzinfo=UTC).timestamp())
    assert source["version"] == version_key("v1")


def test_bulk_actions_replace_and_delete_by_object_id():
    [add] = es_mapping.index_actions("consult-proposal", [a_document()])
    deletes = list(es_mapping.delete_actions("consult-proposal", [3, 4]))

    assert (add["_op_type"], add["_index"], add["_id"]) == ("index", "consult-proposal", "42")
    assert add["_source"] == es_mapping.document_source(a_document())
    assert deletes == [
        {"_op_type": "delete", "_index": "consult-proposal", "_id": "3"},
        {"_op_type": "delete", "_index": "consult-proposal", "_id": "4"},
    ]


def test_a_bulk_write_to_a_dropped_alias_is_recognised():
    missing = [{"index": {"_id": "1", "status": 404, "error": {"type": "index_not_found_exception"}}}]
    refused = [{"index": {"_id": "1", "status": 400, "error": {"type": "document_parsing_exception"}}}]

    assert es_mapping.bulk_alias_missing(missing)
    assert not es_mapping.bulk_alias_missing(refused)


# --- searching -------------------------------------------------------------------------------


def test_every_clause_must_be_found_as_a_phrase_in_some_text_field():
    parsed = parse_query("老舊小區 城市更新")
    body = body_for("老舊小區 城市更新")

    must = bool_of(body)["must"]
    assert len(must) == len(parsed.clauses) >= 2
    for clause, query in zip(parsed.clauses, must, strict=True):
        [anywhere] = query["bool"]["must"]
        assert anywhere["bool"]["minimum_should_match"] == 1
        assert anywhere["bool"]["should"] == [
            {"match_phrase": {name: {"query": clause.text, "boost": FIELD_BOOSTS[name]}}} for name in TEXT_FIELDS
        ]
    assert must[0]["bool"]["must"][0]["bool"]["should"][0]["match_phrase"]["title"]["query"] == "老旧小区"


def test_a_quoted_phrase_is_one_clause():
    [clause] = bool_of(body_for("“老旧小区改造”"))["must"]

    assert clause["bool"]["must"][0]["bool"]["should"][1] == {
        "match_phrase": {"body": {"query": "老旧小区改造", "boost": FIELD_BOOSTS["body"]}}
    }


def test_a_single_latin_token_clause_is_a_plain_match():
    [clause] = bool_of(body_for("COVID"))["must"]

    should = clause["bool"]["must"][0]["bool"]["should"]
    assert should[0] == {"match": {"title": {"query": "covid", "operator": "and", "boost": FIELD_BOOSTS["title"]}}}


def test_a_single_chinese_character_matches_the_bigrams_around_it():
    [clause] = bool_of(body_for("梯"))["must"]

    title = clause["bool"]["must"][0]["bool"]["should"][0]["bool"]
    assert title["should"] == [{"term": {"title": "梯"}}, {"prefix": {"title": "梯"}}, {"wildcard": {"title": "*梯"}}]
    assert title["minimum_should_match"] == 1
    assert title["boost"] == FIELD_BOOSTS["title"]


def test_a_whole_word_match_only_adds_to_the_score():
    [clause] = bool_of(body_for("电梯"))["must"]

    assert clause["bool"]["should"] == [{"term": {"words": {"value": "电梯", "boost": es_queries.WORD_BOOST}}}]


def test_plugin_word_sub_fields_add_to_the_score_when_the_index_has_them():
    parsed = parse_query("电梯")
    body = es_queries.search_body(SearchQuery(doc_type="proposal", text="电梯"), parsed, word_fields=True)

    [clause] = bool_of(body)["must"]
    [_, plugin_words] = clause["bool"]["should"]
    assert plugin_words["multi_match"]["type"] == "phrase"
    assert plugin_words["multi_match"]["fields"] == [f"{name}.words^{FIELD_BOOSTS[name]}" for name in TEXT_FIELDS]


def test_a_proposal_number_is_an_exact_lookup_without_highlighting():
    body = body_for("第0123号")

    assert bool_of(body)["must"] == [{"term": {"number": "123"}}]
    assert "highlight" not in body
    assert bool_of(body_for("2027-建-123"))["must"] == [{"term": {"number": "2027-建-0123"}}]


def test_filters_and_permissions_restrict_without_scoring():
    body = body_for(
        "电梯", filters={"year": ["2027", 2026], "status": [], "bureau": ["住建局"]}, acl=["office", "user:7"]
    )

    assert bool_of(body)["filter"] == [
        {"terms": {"year": ["2027", "2026"]}},
        {"terms": {"bureau": ["住建局"]}},
        {"terms": {"acl": ["office", "user:7"]}},
    ]


def test_no_acl_means_unrestricted_and_an_empty_acl_finds_nothing():
    assert "filter" not in bool_of(body_for("电梯", acl=None))
    assert bool_of(body_for("电梯", acl=[]))["filter"] == [{"terms": {"acl": []}}]


def test_excluded_ids_are_left_out():
    assert bool_of(body_for("电梯", exclude_ids=[5, 3, 5]))["must_not"] == [{"terms": {"object_id": [3, 5]}}]


def test_an_empty_query_finds_every_document_the_searcher_may_see_newest_first():
    body = body_for("", acl=["public"])

    assert body["query"] == {"bool": {"filter": [{"terms": {"acl": ["public"]}}]}}
    assert body["sort"] == [{"date": {"order": "desc"}}, {"object_id": {"order": "desc"}}]
    assert "highlight" not in body
    assert body_for("")["query"] == {"bool": {}}


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("relevance", ["_score", {"date": {"order": "desc"}}, {"object_id": {"order": "desc"}}]),
        ("newest", [{"date": {"order": "desc"}}, {"object_id": {"order": "desc"}}]),
        ("oldest", [{"date": {"order": "asc"}}, {"object_id": {"order": "asc"}}]),
    ],
)
def test_sort_by_relevance_then_date_or_by_date(sort, expected):
    assert body_for("电梯", sort=sort)["sort"] == expected


def test_pages_count_every_hit():
    body = body_for("电梯", offset=40, limit=20)

    assert (body["from"], body["size"], body["track_total_hits"]) == (40, 20, True)
    assert body["_source"] == ["object_id", "source"]


def test_facets_are_terms_aggregations():
    body = body_for("电梯", facets=["year", "bureau"])

    assert body["aggs"] == {
        name: {"terms": {"field": name, "size": 60, "order": [{"_count": "desc"}, {"_key": "asc"}]}}
        for name in ("year", "bureau")
    }
    assert "aggs" not in body_for("电梯")


def test_text_fields_are_highlighted_whole_with_mark_tags():
    highlight = body_for("电梯")["highlight"]

    assert highlight["type"] == "unified"
    assert highlight["number_of_fragments"] == 0
    assert (highlight["pre_tags"], highlight["post_tags"]) == (["<mark>"], ["</mark>"])
    assert set(highlight["fields"]) == set(TEXT_FIELDS)


# --- similar proposals -----------------------------------------------------------------------


def test_similar_is_more_like_this_over_title_and_body_within_what_the_deputy_may_see():
    query = SimilarQuery(
        doc_type="proposal", title="加装电梯", body="老旧小区", acl=["user:7"], exclude_ids=[9], limit=5
    )

    body = es_queries.similar_body(query, ["加装", "电梯", "老旧小区"])

    [subject] = bool_of(body)["must"]
    title, text = (clause["more_like_this"] for clause in subject["bool"]["should"])
    assert (title["fields"], text["fields"]) == (["title"], ["body"])
    assert title["like"] == text["like"] == "加装 电梯 老旧小区"
    assert title["boost"] > text["boost"]
    assert (title["min_term_freq"], title["min_doc_freq"], title["max_query_terms"]) == (1, 1, 25)
    assert bool_of(body)["filter"] == [{"terms": {"acl": ["user:7"]}}]
    assert bool_of(body)["must_not"] == [{"terms": {"object_id": [9]}}]
    assert body["size"] == 5


# --- reading answers -----------------------------------------------------------------------

ORIGINAL = {"title": "關於老舊小區改造的建議", "body": "加快推進城市更新，老舊小區加裝電梯。"}


def a_response(highlight: dict[str, list[str]], **extra: Any) -> dict[str, Any]:
    hit = {"_id": "42", "_score": 3.5, "_source": {"object_id": 42, "source": ORIGINAL}, "highlight": highlight}
    return {"hits": {"total": {"value": 1, "relation": "eq"}, "hits": [hit]}, **extra}


def test_highlights_mark_the_original_text_where_elasticsearch_marked_the_normalised_one():
    response = a_response({"title": ["关于<mark>老旧</mark><mark>小区</mark>改造的建议"]})

    [hit] = es_queries.hits_of(response, ["老旧小区"], scored=True)

    assert hit.object_id == 42
    assert hit.score == 3.5
    assert hit.highlights["title"] == "關於<mark>老舊小區</mark>改造的建議"


def test_snippets_are_the_same_as_the_embedded_engine_makes():
    terms = parse_query("老旧小区").highlight_terms
    response = a_response(
        {
            "title": ["关于<mark>老旧小区</mark>改造的建议"],
            "body": ["加快推进城市更新，<mark>老旧小区</mark>加装电梯。"],
        }
    )

    [hit] = es_queries.hits_of(response, terms, scored=True)

    embedded = highlights(list(ORIGINAL.items()), {name: find_spans(text, terms) for name, text in ORIGINAL.items()})
    assert hit.highlights == embedded


def test_a_field_elasticsearch_did_not_mark_falls_back_to_finding_the_terms():
    [hit] = es_queries.hits_of(a_response({}), ["电梯"], scored=False)

    assert hit.highlights["body"] == "加快推進城市更新，老舊小區加裝<mark>電梯</mark>。"
    assert hit.highlights["title"] == "關於老舊小區改造的建議"
    assert hit.score == 0.0


def test_totals_and_facets_are_read_back():
    response = a_response(
        {}, aggregations={"year": {"buckets": [{"key": "2027", "doc_count": 3}, {"key": "2026", "doc_count": 1}]}}
    )

    assert es_queries.total_of(response) == 1
    assert es_queries.total_of({"hits": {"total": 7, "hits": []}}) == 7
    assert es_queries.facets_of(response, ["year", "bureau"]) == {
        "year": [FacetValue("2027", 3), FacetValue("2026", 1)],
        "bureau": [],
    }


def test_versions_come_from_a_scan_of_ids_and_version_keys():
    assert es_queries.versions_body()["_source"] == ["object_id", "version"]
    hits: list[dict[str, Any]] = [
        {"_source": {"object_id": 1, "version": 11}},
        {"_source": {"object_id": 2, "version": 22}},
        {"_source": {}},
    ]

    assert es_queries.versions_of(hits) == {1: 11, 2: 22}


# --- users' searches: synonyms, generic words, numbers in text, minimum-should-match (issue 14) -------

THESAURUS = Thesaurus.of([("共享单车", "互联网租赁自行车"), ("吵", "噪音", "噪声")])


def relaxed(text: str) -> ParsedQuery:
    return parse_query(text, thesaurus=THESAURUS, relaxed=True)


def test_a_synonym_is_an_alternative_phrase_scoring_a_constant_below_the_word_typed() -> None:
    [must] = es_queries.search_query(SearchQuery(doc_type="proposal"), relaxed("共享单车"))["bool"]["must"]
    anywhere = must["bool"]["must"][0]["bool"]["should"]  # one word: required, as in the strict reading

    typed = [q for q in anywhere if "match_phrase" in q]
    synonyms = [q["constant_score"] for q in anywhere if "constant_score" in q]
    assert {q["match_phrase"]["title"]["query"] for q in typed if "title" in q["match_phrase"]} == {"共享单车"}
    assert {
        s["filter"]["match_phrase"]["title"]["query"] for s in synonyms if "title" in s["filter"]["match_phrase"]
    } == {"互联网租赁自行车"}
    assert max(s["boost"] for s in synonyms) == FIELD_BOOSTS["title"] * SYNONYM_WEIGHT * SYNONYM_SCORE


def test_a_question_needs_only_some_of_its_subject_words_and_leaves_out_its_wording() -> None:
    parsed = relaxed("我们小区晚上广场舞太吵了有没有人提过")
    [must] = es_queries.search_query(SearchQuery(doc_type="proposal"), parsed)["bool"]["must"]

    assert [clause.text for clause in parsed.clauses] == ["小区", "晚上", "广场舞", "吵"]
    assert must["bool"]["minimum_should_match"] == parsed.minimum_match == 2
    every = must["bool"]["should"][-1]["constant_score"]  # holding every word: a bonus above any partial match
    assert len(every["filter"]["bool"]["must"]) == 4
    assert every["boost"] == es_queries.ALL_CLAUSES_BONUS


def test_two_words_stay_both_required() -> None:
    body = es_queries.search_query(SearchQuery(doc_type="proposal"), relaxed("老旧小区 电梯"))

    assert len(body["bool"]["must"]) == 2  # each clause a must, as in the strict reading
    assert all("minimum_should_match" not in clause["bool"] for clause in body["bool"]["must"])


def test_a_number_inside_text_is_looked_up_besides_the_text_search_and_first() -> None:
    parsed = relaxed("第0123号 噪声")
    [must] = es_queries.search_query(SearchQuery(doc_type="proposal"), parsed)["bool"]["must"]

    number, text = must["bool"]["should"]
    assert must["bool"]["minimum_should_match"] == 1
    assert number == {"constant_score": {"filter": {"term": {"number": "123"}}, "boost": es_queries.NUMBER_BONUS}}
    assert "噪声" in json.dumps(text, ensure_ascii=False)


def test_the_strict_reading_is_the_old_one() -> None:
    assert es_queries.search_query(SearchQuery(doc_type="proposal"), parse_query("第0123号"))["bool"]["must"] == [
        {"term": {"number": "123"}}
    ]
