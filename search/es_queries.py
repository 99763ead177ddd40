"""Elasticsearch request bodies for searching, "similar proposals" and checks, and reading the answers back.

Pure functions (no client), held to the engines' common contract (``search.analysis``, and the embedded
engine's ``search/engines/tantivy_query.py``):

- a clause is found as a phrase of bigrams (as typed, or a synonym) in some text field (title weighs most);
  every clause must be found (strict) or ``minimum_match`` of them, those holding all first (relaxed); a
  whole-word match adds to the score; a proposal number is an exact lookup on ``number``, which comes
  first when the text is searched too;
- filters, permissions (``acl``) and excluded ids are filters: they never change the score;
- facets count the documents the query (with its filters) finds;
- snippets are cut from the *original* texts by ``search.highlight``, at the places Elasticsearch's
  highlighter marked in the normalised texts (the same offsets), so both engines show the same snippets.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from search.analysis import SYNONYM_SCORE, Clause, ParsedQuery, is_single_cjk
from search.documents import FIELD_BOOSTS, TEXT_FIELDS, FacetValue, Hit, SearchQuery, SimilarQuery
from search.highlight import MARK_CLOSE, MARK_OPEN, Span, find_spans, highlights, spans_from_marked

JSON = dict[str, Any]

FACET_SIZE = 60
#: What a whole-word match adds; the bonuses of a relaxed query (as the embedded engine's, ``tantivy_query``).
WORD_BOOST = 0.5
ALL_CLAUSES_BONUS = 1000.0
NUMBER_BONUS = 100_000.0
#: What the returned hits carry: the id and the original texts (the normalised ones stay on the server).
SOURCE_FIELDS = ["object_id", "source"]
#: "Similar proposals": how a draft's subject words become a ``more_like_this`` query.
SIMILAR_TITLE_BOOST = 2.0
SIMILAR_MAX_TERMS = 25
SIMILAR_MINIMUM_SHOULD_MATCH = "10%"


# --- matching --------------------------------------------------------------------------------


def grams_in(name: str, text: str, tokens: Sequence[str], boost: float) -> JSON:
    """The bigrams of ``text`` in one field: in a row (a phrase), or the single token itself."""
    if len(tokens) > 1:
        return {"match_phrase": {name: {"query": text, "boost": boost}}}
    if is_single_cjk(tokens[0]):
        # One Chinese character: the bigrams that start or end with it, or the character standing alone.
        char = tokens[0]
        around = [{"term": {name: char}}, {"prefix": {name: char}}, {"wildcard": {name: f"*{char}"}}]
        return {"bool": {"should": around, "minimum_should_match": 1, "boost": boost}}
    return {"match": {name: {"query": text, "operator": "and", "boost": boost}}}


def clause_query(clause: Clause, *, word_fields: bool = False) -> JSON:
    """Found in any text field, as typed or as a synonym (weighing less); a whole-word match (jieba's, or
    the cluster plugin's) adds to the score."""
    anywhere: list[JSON] = []
    as_word: list[JSON] = []
    for text, tokens, weight in clause.variants:
        for name in TEXT_FIELDS:
            if weight < 1.0:  # a synonym: a fixed score, so that a long one never outweighs the word typed
                found = {"constant_score": {"filter": grams_in(name, text, tokens, 1.0), "boost": 0.0}}
                found["constant_score"]["boost"] = FIELD_BOOSTS[name] * weight * SYNONYM_SCORE
                anywhere.append(found)
            else:
                anywhere.append(grams_in(name, text, tokens, FIELD_BOOSTS[name]))
        as_word.append({"term": {"words": {"value": text, "boost": WORD_BOOST * weight}}})
        if word_fields:
            fields = [f"{name}.words^{FIELD_BOOSTS[name]}" for name in TEXT_FIELDS]
            phrase = {"query": text, "type": "phrase", "fields": fields, "boost": WORD_BOOST * weight}
            as_word.append({"multi_match": phrase})
    return {"bool": {"must": [{"bool": {"should": anywhere, "minimum_should_match": 1}}], "should": as_word}}


def text_queries(parsed: ParsedQuery, *, word_fields: bool = False) -> list[JSON]:
    """What must hold of the clauses: each of them (strict), or one query holding the quoted ones and
    ``minimum_match`` of the others, those holding every clause first (a constant bonus above any score a
    partial match reaches): the embedded engine's rule."""
    queries = [(clause.quoted, clause_query(clause, word_fields=word_fields)) for clause in parsed.clauses]
    if not parsed.relaxed:
        return [query for _, query in queries]
    every = {"constant_score": {"filter": {"bool": {"must": [q for _, q in queries]}}, "boost": ALL_CLAUSES_BONUS}}
    relaxed: JSON = {
        "should": [*(query for quoted, query in queries if not quoted), every],
        "minimum_should_match": parsed.minimum_match,
    }
    required = [query for quoted, query in queries if quoted]
    return [{"bool": {"must": required, **relaxed} if required else relaxed}]


def restrictions(query: SearchQuery | SimilarQuery) -> tuple[list[JSON], list[JSON]]:
    """``(filter, must_not)``: filter values (any of), who may see (``acl``), ids left out."""
    filters: list[JSON] = []
    if isinstance(query, SearchQuery):
        for name, values in query.filters.items():
            if values:
                filters.append({"terms": {name: [str(value) for value in values]}})
    if query.acl is not None:  # an empty list finds nothing: a searcher who may see nothing sees nothing
        filters.append({"terms": {"acl": [str(key) for key in query.acl]}})
    must_not: list[JSON] = []
    if query.exclude_ids:
        must_not.append({"terms": {"object_id": sorted({int(object_id) for object_id in query.exclude_ids})}})
    return filters, must_not


def bool_query(must: list[JSON], filters: list[JSON], must_not: list[JSON]) -> JSON:
    """A ``bool`` query with only the parts that are there (nothing at all finds every document)."""
    parts = {"must": must, "filter": filters, "must_not": must_not}
    return {"bool": {occur: clauses for occur, clauses in parts.items() if clauses}}


def search_query(query: SearchQuery, parsed: ParsedQuery, *, word_fields: bool = False) -> JSON:
    filters, must_not = restrictions(query)
    text = text_queries(parsed, word_fields=word_fields)
    number = {"term": {"number": parsed.number.value}} if parsed.number is not None else None
    if number is not None and text and parsed.minimum_match is not None:
        # Both run: the proposal with that number first, then what the text finds.
        first = {"constant_score": {"filter": number, "boost": NUMBER_BONUS}}
        either = [first, text[0] if len(text) == 1 else {"bool": {"must": text}}]
        return bool_query([{"bool": {"should": either, "minimum_should_match": 1}}], filters, must_not)
    return bool_query([number, *text] if number is not None else text, filters, must_not)


# --- ordering, snippets, facets --------------------------------------------------------------


def sort_of(query: SearchQuery, parsed: ParsedQuery) -> list[JSON | str]:
    """Relevance (then newest), newest or oldest; the id last so that pages never overlap."""
    if query.sort == "oldest":
        return [{"date": {"order": "asc"}}, {"object_id": {"order": "asc"}}]
    newest: list[JSON | str] = [{"date": {"order": "desc"}}, {"object_id": {"order": "desc"}}]
    if query.sort == "relevance" and not parsed.empty:
        return ["_score", *newest]
    return newest


def highlight_spec() -> JSON:
    """Whole fields marked (no fragments): ``search.highlight`` cuts the snippet from the original."""
    return {
        "type": "unified",
        "number_of_fragments": 0,
        "pre_tags": [MARK_OPEN],
        "post_tags": [MARK_CLOSE],
        "require_field_match": True,
        "fields": {name: {} for name in TEXT_FIELDS},
    }


def facet_aggs(names: Sequence[str]) -> JSON:
    return {
        name: {"terms": {"field": name, "size": FACET_SIZE, "order": [{"_count": "desc"}, {"_key": "asc"}]}}
        for name in names
    }


def search_body(query: SearchQuery, parsed: ParsedQuery, *, word_fields: bool = False) -> JSON:
    """The whole ``_search`` request for a user's query."""
    body: JSON = {
        "query": search_query(query, parsed, word_fields=word_fields),
        "sort": sort_of(query, parsed),
        "from": max(0, query.offset),
        "size": max(0, query.limit),
        "track_total_hits": True,
        "_source": SOURCE_FIELDS,
    }
    if not query.highlight:
        body["_source"] = ["object_id"]
    elif parsed.clauses:
        body["highlight"] = highlight_spec()
    if query.facets:
        body["aggs"] = facet_aggs(query.facets)
    return body


# --- similar proposals -----------------------------------------------------------------------


def more_like_this(field: str, like: str, boost: float) -> JSON:
    return {
        "more_like_this": {
            "fields": [field],
            "like": like,
            "min_term_freq": 1,
            "min_doc_freq": 1,
            "max_query_terms": SIMILAR_MAX_TERMS,
            "minimum_should_match": SIMILAR_MINIMUM_SHOULD_MATCH,
            "boost": boost,
        }
    }


def similar_body(query: SimilarQuery, terms: Sequence[str]) -> JSON:
    """``more_like_this`` over title and body, fed with the draft's subject words (``analysis.similar_terms``).

    The words, not the raw draft: boilerplate (关于, 建议, 进一步加强…) is already gone, and no bigram
    straddles two words, so the draft finds what the embedded engine finds for it.
    """
    like = " ".join(terms)
    subject = {
        "bool": {
            "should": [more_like_this("title", like, SIMILAR_TITLE_BOOST), more_like_this("body", like, 1.0)],
            "minimum_should_match": 1,
        }
    }
    filters, must_not = restrictions(query)
    return {
        "query": bool_query([subject], filters, must_not),
        "size": max(0, query.limit),
        "track_total_hits": True,
        "_source": SOURCE_FIELDS,
    }


# --- checks --------------------------------------------------------------------------------


def versions_body() -> JSON:
    """For ``helpers.scan``: every document's id and version, nothing else, in index order (cheapest)."""
    return {"query": {"match_all": {}}, "_source": ["object_id", "version"], "sort": ["_doc"]}


def versions_of(hits: Iterable[Mapping[str, Any]]) -> dict[int, int]:
    versions: dict[int, int] = {}
    for hit in hits:
        source: Mapping[str, Any] = hit.get("_source") or {}
        if "object_id" in source and "version" in source:
            versions[int(source["object_id"])] = int(source["version"])
    return versions


# --- reading answers -----------------------------------------------------------------------


def total_of(response: Mapping[str, Any]) -> int:
    total = response.get("hits", {}).get("total", 0)
    return int(total["value"] if isinstance(total, Mapping) else total)


def spans_of(
    originals: Mapping[str, str], marked: Mapping[str, Sequence[str]], terms: Sequence[str]
) -> dict[str, list[Span]]:
    """Where each field matched: Elasticsearch's marks, else the terms found in the text (as the embedded engine)."""
    spans: dict[str, list[Span]] = {}
    for name, original in originals.items():
        fragments = marked.get(name)
        spans[name] = spans_from_marked(fragments[0]) if fragments else find_spans(original, terms)
    return spans


def hits_of(response: Mapping[str, Any], terms: Sequence[str], *, scored: bool) -> list[Hit]:
    hits: list[Hit] = []
    for hit in response.get("hits", {}).get("hits", ()):
        source: Mapping[str, Any] = hit.get("_source") or {}
        originals: dict[str, str] = {name: str(text) for name, text in (source.get("source") or {}).items() if text}
        spans = spans_of(originals, hit.get("highlight") or {}, terms)
        ordered = [(name, originals[name]) for name in TEXT_FIELDS if name in originals]
        score = float(hit.get("_score") or 0.0) if scored else 0.0
        object_id = int(source.get("object_id", hit.get("_id")))
        hits.append(Hit(object_id=object_id, score=score, highlights=highlights(ordered, spans)))
    return hits


def facets_of(response: Mapping[str, Any], names: Sequence[str]) -> dict[str, list[FacetValue]]:
    aggregations: Mapping[str, Any] = response.get("aggregations") or {}
    return {
        name: [
            FacetValue(str(bucket["key"]), int(bucket["doc_count"]))
            for bucket in (aggregations.get(name) or {}).get("buckets", ())
        ]
        for name in names
    }
