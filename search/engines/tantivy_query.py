"""Queries for the embedded engine, and reading its results back (hits with highlights, facets).

The matching rules are the engines' common contract (``search.analysis``): a clause is found as a phrase
of bigrams (as typed, or one of its synonyms) in some text field; every clause must be found (strict), or
``minimum_match`` of them with those holding all first (relaxed); a proposal number named in the query
comes first; whole-word matches and title matches rank higher; filters, permissions and excluded ids
never change the score.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from typing import Any

import tantivy

from search.analysis import SYNONYM_SCORE, Clause, ParsedQuery, grams, is_single_cjk, normalize
from search.documents import FIELD_BOOSTS, TEXT_FIELDS, FacetValue, Hit, SearchQuery, SimilarQuery
from search.highlight import find_spans, highlights

Occur = tantivy.Occur
Query = tantivy.Query
FACET_SIZE = 60
#: What a whole-word match adds.
WORD_BOOST = 0.5
#: Added to documents holding every clause of a relaxed query: above what a partial match scores.
ALL_CLAUSES_BONUS = 1000.0
#: Added to the proposal whose number the query names: above any text match.
NUMBER_BONUS = 100_000.0


class QueryBuilder:
    def __init__(self, schema: tantivy.Schema) -> None:
        self.schema = schema

    def _grams_in(self, name: str, tokens: Sequence[str]) -> tantivy.Query:
        if len(tokens) > 1:
            return Query.phrase_query(self.schema, name, list(tokens))
        token = tokens[0]
        if not is_single_cjk(token):
            return Query.term_query(self.schema, name, token)
        # One Chinese character: the bigrams that start or end with it, or the character standing alone.
        escaped = re.escape(token)
        return Query.boolean_query(
            [
                (Occur.Should, Query.term_query(self.schema, name, token)),
                (Occur.Should, Query.regex_query(self.schema, name, f"{escaped}.")),
                (Occur.Should, Query.regex_query(self.schema, name, f".{escaped}")),
            ]
        )

    def clause(self, clause: Clause) -> tantivy.Query:
        """Found in any text field (title weighs most), as typed or as a synonym (weighing less);
        a whole-word match adds to the score."""
        anywhere = []
        as_word = []
        for text, tokens, weight in clause.variants:
            for name in TEXT_FIELDS:
                matched = self._grams_in(f"g_{name}", tokens)
                if weight < 1.0:  # a synonym: a fixed score, so that a long one never outweighs the word typed
                    found = Query.const_score_query(matched, FIELD_BOOSTS[name] * weight * SYNONYM_SCORE)
                else:
                    found = Query.boost_query(matched, FIELD_BOOSTS[name])
                anywhere.append((Occur.Should, found))
            word = Query.boost_query(Query.term_query(self.schema, "words", text), WORD_BOOST * weight)
            as_word.append((Occur.Should, word))
        return Query.boolean_query([(Occur.Must, Query.boolean_query(anywhere)), *as_word])

    def text(self, parsed: ParsedQuery) -> tantivy.Query | None:
        """The clauses: all of them (strict), or quoted ones and ``minimum_match`` of the others, those
        holding every clause first (a constant bonus above any score a partial match can reach)."""
        if not parsed.clauses:
            return None
        if parsed.minimum_match is None:
            return Query.boolean_query([(Occur.Must, self.clause(clause)) for clause in parsed.clauses])
        parts = [(Occur.Must if c.quoted else Occur.Should, self.clause(c)) for c in parsed.clauses]
        if not parsed.relaxed:
            return Query.boolean_query([(Occur.Must, query) for _, query in parts])
        every = Query.boolean_query([(Occur.Must, query) for _, query in parts])
        parts.append((Occur.Should, Query.const_score_query(every, ALL_CLAUSES_BONUS)))
        return Query.boolean_query(parts, parsed.minimum_match)

    def _filter(self, query: SearchQuery | SimilarQuery) -> list[tuple[tantivy.Occur, tantivy.Query]]:
        parts: list[tuple[tantivy.Occur, tantivy.Query]] = []
        filters = query.filters.items() if isinstance(query, SearchQuery) else ()
        for name, values in filters:
            if values:
                parts.append((Occur.Must, self._any_of(name, values)))
        if query.acl is not None:
            parts.append((Occur.Must, self._any_of("acl", query.acl)))
        for object_id in query.exclude_ids:
            parts.append((Occur.MustNot, Query.term_query(self.schema, "object_id", int(object_id))))
        return parts

    def _any_of(self, name: str, values: Iterable[str]) -> tantivy.Query:
        return Query.const_score_query(Query.term_set_query(self.schema, name, [str(v) for v in values]), 0.0)

    def search(self, query: SearchQuery, parsed: ParsedQuery) -> tantivy.Query:
        parts = self._filter(query)
        text = self.text(parsed)
        number = Query.term_query(self.schema, "number", parsed.number.value) if parsed.number else None
        if number is not None and text is not None and parsed.minimum_match is not None:
            # Both run: the proposal with that number first, then what the text finds.
            first = Query.const_score_query(number, NUMBER_BONUS)
            parts.append((Occur.Must, Query.boolean_query([(Occur.Should, first), (Occur.Should, text)])))
        else:
            parts.extend((Occur.Must, part) for part in (number, text) if part is not None)
        if not any(occur == Occur.Must for occur, _ in parts):
            parts.append((Occur.Must, Query.all_query()))
        return Query.boolean_query(parts)

    def similar(self, query: SimilarQuery, terms: Sequence[str]) -> tantivy.Query:
        """Any of the subject's words, weighted by their place in the list (most telling first)."""
        should = []
        for rank, term in enumerate(terms):
            tokens = grams(normalize(term))
            if tokens:
                weight = 2.0 if rank < 5 else 1.0
                should.append((Occur.Should, Query.boost_query(self._grams_in("g_title", tokens), 2.0 * weight)))
                should.append((Occur.Should, Query.boost_query(self._grams_in("g_body", tokens), weight)))
        parts = self._filter(query)
        parts.append((Occur.Must, Query.boolean_query(should)))
        return Query.boolean_query(parts)


def hits_of(
    searcher: tantivy.Searcher, found: Sequence[tuple[Any, tantivy.DocAddress]], terms: Sequence[str], *, scored: bool
) -> list[Hit]:
    hits = []
    for key, address in found:
        document = searcher.doc(address)
        texts: dict[str, str] = json.loads(bytes(document["source"][0]).decode())
        spans = {name: find_spans(text, terms) for name, text in texts.items()}
        ordered = [(name, texts[name]) for name in TEXT_FIELDS if name in texts]
        score = float(key) if scored else 0.0
        hits.append(Hit(object_id=int(document["object_id"][0]), score=score, highlights=highlights(ordered, spans)))
    return hits


def ids_of(searcher: tantivy.Searcher, found: Sequence[tuple[Any, tantivy.DocAddress]], *, scored: bool) -> list[Hit]:
    """Hits without texts: ids from the fast field, no stored document read."""
    ids = searcher.fast_field_values("object_id", [address for _, address in found])
    return [
        Hit(object_id=int(object_id), score=float(key) if scored else 0.0)
        for (key, _), object_id in zip(found, ids, strict=True)
        if object_id is not None
    ]


def facets_of(searcher: tantivy.Searcher, query: tantivy.Query, names: Sequence[str]) -> dict[str, list[FacetValue]]:
    if not names:
        return {}
    spec = {name: {"terms": {"field": name, "size": FACET_SIZE}} for name in names}
    result = searcher.aggregate(query, spec)
    return {
        name: [FacetValue(str(bucket["key"]), int(bucket["doc_count"])) for bucket in result[name]["buckets"]]
        for name in names
    }
