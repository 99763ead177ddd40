"""Which embedded engine: tantivy or SQLite FTS5, on the same documents, analysis and queries.

Run with ``make bench`` (any database; no server needed). The issue asks to measure both on our data
and pick one; this is that measurement, run again whenever the choice is in doubt.

- **The data**: ``SEARCH_ENGINES_PROPOSALS`` (30 000) proposal documents and ``SEARCH_ENGINES_MESSAGES``
  (200 000) message documents from ``tests/bench/search_corpus.py`` (the demo's texts, varied), built in
  Python before any clock starts.
- **The same analysis**: both engines index what ``search.analysis`` makes of each text (normalised
  bigrams with positions per text field, jieba words) and match a query the same way (``parse_query``:
  every clause a phrase of bigrams in some text field, a whole-word match ranking higher).
- **tantivy**: ``search.engines.tantivy_engine.TantivyBackend``, the engine Consult ships: ``rebuild``,
  then ``search`` (hits with highlights, a total, facets).
- **SQLite FTS5**: ``Fts5Engine`` below, a compact prototype of the same interface. One FTS5 table per
  document type (``unicode61`` over the space-joined bigrams, so a clause is an FTS5 phrase; keyword
  filters and permissions are ``field=value`` tokens in two more columns, ANDed into the ``MATCH``),
  ``bm25()`` with tantivy's field weights, facets by ``GROUP BY`` over the matched rowids, the source
  texts in a side table for the same highlights. A lone character matches the bigrams around it, as
  tantivy's regex queries do: a prefix query for those it starts, the vocabulary's list for those it
  ends. A trigram tokenizer was left out: it cannot match a two-character word, which most Chinese
  words are (``pg_trgm`` has the same limit; see bench_search.py).
- **Queries**: ``SEARCH_ENGINES_QUERIES`` (500) of ``search_corpus.mixed_queries`` (common, rare and
  partial words, several words, phrases, traditional characters, numbers, filters, facets, newest first;
  as staff, a deputy, a bureau, an expert), each asked of both engines in turn after a warm-up.

Printed: indexing docs/s (with the share the common Python analysis takes), index size, query
p50/p95/p99 and the verdict. Asserted: no query fails, and both engines find the same number of
documents and the same facet counts for every query (rankings may differ; their top-10 overlap is
printed).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pytest
from django.db import transaction

from consult.demo.city import load_bureaus
from consult.people import services
from search import analysis
from search.documents import (
    FIELD_BOOSTS,
    KEYWORD_FIELDS,
    TEXT_FIELDS,
    FacetValue,
    Hit,
    SearchDocument,
    SearchQuery,
    SearchResults,
)
from search.engines.tantivy_engine import TantivyBackend
from search.highlight import find_spans, highlights
from tests.bench.search_corpus import (
    BenchQuery,
    Samples,
    batched,
    conversations,
    engine_universe,
    megabytes,
    message_documents,
    mixed_queries,
    pad,
    percentile,
    proposal_documents,
)

pytestmark = pytest.mark.bench

PROPOSALS = int(os.environ.get("SEARCH_ENGINES_PROPOSALS", "30000"))
MESSAGES = int(os.environ.get("SEARCH_ENGINES_MESSAGES", "200000"))
QUERIES = int(os.environ.get("SEARCH_ENGINES_QUERIES", "500"))
WARM_UP = 50
ANALYSIS_SAMPLE = 0.2  # share of the documents whose analysis alone is timed (the engines share its cost)
FACET_SIZE = 60  # as search.engines.tantivy_query


# --- the FTS5 prototype ---------------------------------------------------------------------

_WORD = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]{2,}")


def fts_string(token: str) -> str:
    return '"' + token.replace('"', '""') + '"'


@dataclass(frozen=True)
class Analysed:
    """What both engines index of one document."""

    grams: dict[str, str]  # text field -> space-joined bigrams
    words: str
    kw: str  # "field=value" tokens
    acl: str


def analyse(document: SearchDocument) -> Analysed:
    """As ``to_tantivy``: bigrams per text field, jieba words of all of them."""
    grams, words = {}, []
    for name in TEXT_FIELDS:
        normalized = analysis.normalize(document.texts.get(name, ""))
        grams[name] = " ".join(analysis.grams(normalized)) if normalized else ""
        if normalized:
            words.extend(analysis.words(normalized))
    kw = " ".join(f"{name}={value}" for name in KEYWORD_FIELDS for value in document.keywords.get(name, ()))
    return Analysed(grams, " ".join(words), kw, " ".join(document.acl))


class Fts5Engine:
    """SQLite FTS5 behind ``rebuild`` / ``search`` / ``index_size``: one database file per document type."""

    SCHEMA = (
        "CREATE VIRTUAL TABLE fts USING fts5(title, body, replies, words, kw, acl, "
        "tokenize=\"unicode61 remove_diacritics 0 tokenchars '-:=_'\")",
        "CREATE TABLE doc(id INTEGER PRIMARY KEY, object_id INTEGER NOT NULL, date INTEGER NOT NULL, "
        "version TEXT NOT NULL)",
        "CREATE TABLE source(id INTEGER PRIMARY KEY, texts TEXT NOT NULL)",  # apart: sorting by date skips it
        "CREATE TABLE facet(doc INTEGER NOT NULL, field TEXT NOT NULL, value TEXT NOT NULL, "
        "PRIMARY KEY (doc, field, value)) WITHOUT ROWID",
    )
    # bm25() takes one weight per column: tantivy's field boosts, 0.5 for a whole word, nothing for filters.
    RANK = "bm25(fts, {title}, {body}, {replies}, 0.5, 0.0, 0.0)".format(**FIELD_BOOSTS)

    def __init__(self, root: Path) -> None:
        self.root = root
        self._connections: dict[str, sqlite3.Connection] = {}
        self._ends: dict[str, dict[str, list[str]]] = {}

    def _path(self, doc_type: str) -> Path:
        return self.root / f"{doc_type}.sqlite3"

    def _db(self, doc_type: str) -> sqlite3.Connection:
        if doc_type not in self._connections:
            db = sqlite3.connect(self._path(doc_type), check_same_thread=False)
            db.execute("PRAGMA cache_size = -262144")  # 256 MB, tantivy's rebuild heap
            self._connections[doc_type] = db
        return self._connections[doc_type]

    def rebuild(self, doc_type: str, documents: Iterable[SearchDocument]) -> int:
        self.root.mkdir(parents=True, exist_ok=True)
        self._connections.pop(doc_type, None)
        self._ends.pop(doc_type, None)
        self._path(doc_type).unlink(missing_ok=True)
        db = self._db(doc_type)
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = NORMAL")
        for statement in self.SCHEMA:
            db.execute(statement)
        count = 0
        for batch in batched(iter(documents), 2000):
            rows, docs, sources, facets = [], [], [], []
            for rowid, document in enumerate(batch, start=count + 1):
                a = analyse(document)
                rows.append((rowid, a.grams["title"], a.grams["body"], a.grams["replies"], a.words, a.kw, a.acl))
                texts = {name: document.texts[name] for name in TEXT_FIELDS if document.texts.get(name)}
                source = json.dumps(texts, ensure_ascii=False)
                docs.append((rowid, document.object_id, int(document.date.timestamp()), document.version))
                sources.append((rowid, source))
                facets += [(rowid, n, str(v)) for n in KEYWORD_FIELDS for v in document.keywords.get(n, ())]
            with db:
                db.executemany(
                    "INSERT INTO fts(rowid, title, body, replies, words, kw, acl) VALUES (?,?,?,?,?,?,?)", rows
                )
                db.executemany("INSERT INTO doc VALUES (?,?,?,?)", docs)
                db.executemany("INSERT INTO source VALUES (?,?)", sources)
                db.executemany("INSERT OR IGNORE INTO facet VALUES (?,?,?)", facets)
            count += len(batch)
        with db:
            db.execute("INSERT INTO fts(fts) VALUES ('optimize')")  # one b-tree per term, as a merged index
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.execute("ANALYZE")
        self._endings(doc_type)  # read once, as tantivy opens its term dictionary
        return count

    def index_size(self, doc_type: str) -> int:
        return sum(path.stat().st_size for path in self.root.glob(f"{doc_type}.sqlite3*"))

    # --- searching ----------------------------------------------------------------------------

    def _endings(self, doc_type: str) -> dict[str, list[str]]:
        """Character -> the indexed bigrams ending with it (FTS5 has prefix queries, not suffix ones)."""
        if doc_type not in self._ends:
            db = self._db(doc_type)
            db.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.vocab USING fts5vocab(main, fts, 'row')")
            ends: dict[str, list[str]] = {}
            for (term,) in db.execute("SELECT term FROM temp.vocab"):
                if len(term) == 2 and analysis.is_single_cjk(term[1]):
                    ends.setdefault(term[1], []).append(term)
            self._ends[doc_type] = ends
        return self._ends[doc_type]

    def _clause(self, doc_type: str, clause: analysis.Clause) -> str:
        if len(clause.grams) == 1 and analysis.is_single_cjk(clause.grams[0]):
            # One character: alone, or in any bigram starting or ending with it (as tantivy's regex queries).
            char = clause.grams[0]
            around = [fts_string(char) + " *", *map(fts_string, self._endings(doc_type).get(char, []))]
            return "({title body replies} : (" + " OR ".join(around) + "))"
        found = "{title body replies} : " + fts_string(" ".join(clause.grams))
        # A whole word is always inside the bigram phrase too: ORing it changes the score, not the matches.
        if _WORD.fullmatch(clause.text):
            return f"(({found}) OR (words : {fts_string(clause.text)}))"
        return f"({found})"

    @staticmethod
    def _any(column: str, tokens: Sequence[str]) -> str:
        return f"({column} : ({' OR '.join(fts_string(t) for t in tokens)}))"

    def match(self, query: SearchQuery, parsed: analysis.ParsedQuery) -> str:
        parts = [self._clause(query.doc_type, clause) for clause in parsed.clauses]
        if parsed.number is not None:
            parts.append(f"(kw : {fts_string('number=' + parsed.number.value)})")
        for name, values in query.filters.items():
            if values:
                parts.append(self._any("kw", [f"{name}={v}" for v in values]))
        if query.acl is not None:
            parts.append(self._any("acl", list(query.acl)))
        return " AND ".join(parts)

    def search(self, query: SearchQuery) -> SearchResults:
        db = self._db(query.doc_type)
        parsed = analysis.parse_query(query.text)
        expression = self.match(query, parsed)
        if not expression:
            raise ValueError("an unrestricted search without text is not part of this benchmark")
        params: list[Any] = [expression]
        matched = "fts WHERE fts MATCH ?"
        if query.exclude_ids:
            marks = ",".join("?" * len(query.exclude_ids))
            matched = f"fts JOIN doc ON doc.id = fts.rowid WHERE fts MATCH ? AND doc.object_id NOT IN ({marks})"
            params += list(query.exclude_ids)
        if query.sort == "relevance" and not parsed.empty:
            top = f"SELECT fts.rowid, {self.RANK} AS rank FROM {matched} ORDER BY rank, fts.rowid"  # noqa: S608
        else:
            direction = "ASC" if query.sort == "oldest" else "DESC"
            top = f"SELECT m.id, 0.0 FROM (SELECT fts.rowid AS id FROM {matched}) AS m JOIN doc ON doc.id = m.id "  # noqa: S608
            top += f"ORDER BY doc.date {direction}, doc.object_id {direction}"  # ties as tantivy's "order" field
        page = db.execute(f"{top} LIMIT ? OFFSET ?", [*params, query.limit, query.offset]).fetchall()
        # Only the page's rows are read from ``source``: the big texts stay out of the sort.
        marks = ",".join("?" * len(page))
        pages = "SELECT doc.id, doc.object_id, source.texts FROM doc JOIN source ON source.id = doc.id WHERE doc.id IN "
        found = db.execute(f"{pages}({marks})", [rowid for rowid, _ in page]).fetchall()
        by_id = {rowid: (object_id, texts) for rowid, object_id, texts in found}
        rows = [(*by_id[rowid], rank) for rowid, rank in page]
        (total,) = db.execute(f"SELECT count(*) FROM {matched}", params).fetchone()  # noqa: S608
        scored = query.sort == "relevance"
        hits = [self._hit(object_id, -rank if scored else 0.0, source, parsed) for object_id, source, rank in rows]
        return SearchResults(hits=hits, total=int(total), facets=self._facets(db, expression, query.facets))

    @staticmethod
    def _hit(object_id: int, score: float, source: str, parsed: analysis.ParsedQuery) -> Hit:
        texts: dict[str, str] = json.loads(source)
        terms = parsed.highlight_terms
        spans = {name: find_spans(text, terms) for name, text in texts.items()}
        ordered = [(name, texts[name]) for name in TEXT_FIELDS if name in texts]
        return Hit(object_id=object_id, score=score, highlights=highlights(ordered, spans))

    @staticmethod
    def _facets(db: sqlite3.Connection, expression: str, names: Sequence[str]) -> dict[str, list[FacetValue]]:
        if not names:
            return {}
        rows = db.execute(
            f"SELECT field, value, count(*) FROM facet WHERE field IN ({','.join('?' * len(names))}) "  # noqa: S608
            "AND doc IN (SELECT rowid FROM fts WHERE fts MATCH ?) GROUP BY field, value",
            [*names, expression],
        ).fetchall()
        out: dict[str, list[FacetValue]] = {name: [] for name in names}
        for name, value, count in rows:
            out[name].append(FacetValue(value, count))
        return {name: sorted(values, key=lambda v: (-v.count, v.value))[:FACET_SIZE] for name, values in out.items()}

    def close(self) -> None:
        for db in self._connections.values():
            db.close()
        self._connections.clear()


# --- the measurement ------------------------------------------------------------------------


class Engine(Protocol):
    def rebuild(self, doc_type: str, documents: Iterable[SearchDocument]) -> int: ...

    def search(self, query: SearchQuery) -> SearchResults: ...

    def index_size(self, doc_type: str) -> int: ...


@dataclass
class Indexed:
    engine: str
    doc_type: str
    count: int
    seconds: float
    size: int


@pytest.fixture(scope="module")
def dictionary(django_db_setup: None, django_db_blocker: Any) -> None:
    """Load the segmentation dictionary as production has it (policy terms and bureau names), then roll back."""
    with django_db_blocker.unblock(), transaction.atomic():
        for index, item in enumerate(load_bureaus()):
            services.upsert_bureau(
                code=str(item["code"]),
                name=str(item["name"]),
                full_name=str(item["full_name"]),
                topics=list(item["topics"]),  # type: ignore[call-overload]
                departments=list(item["departments"]),  # type: ignore[call-overload]
                sort_order=index,
            )
        analysis.words("预热")
        transaction.set_rollback(True)


@pytest.fixture
def workdir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="search-engines-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def analysis_rate(corpus: dict[str, list[SearchDocument]]) -> dict[str, float]:
    """Documents a second through the analysis alone (a sample), which both engines pay the same."""
    rates = {}
    for doc_type, documents in corpus.items():
        sample = documents[: max(1, int(len(documents) * ANALYSIS_SAMPLE))]
        started = time.perf_counter()
        for document in sample:
            analyse(document)
        rates[doc_type] = len(sample) / (time.perf_counter() - started)
    return rates


def facet_counts(results: SearchResults) -> dict[str, dict[str, int]]:
    return {name: {v.value: v.count for v in values} for name, values in results.facets.items()}


def overlap(a: SearchResults, b: SearchResults, k: int = 10) -> float | None:
    left, right = {h.object_id for h in a.hits[:k]}, {h.object_id for h in b.hits[:k]}
    if not left and not right:
        return None
    return len(left & right) / max(len(left), len(right))


def test_tantivy_against_sqlite_fts5(dictionary: None, workdir: Path, db: None) -> None:
    started = time.perf_counter()
    corpus = {
        "proposal": list(proposal_documents(PROPOSALS)),
        "message": list(message_documents(conversations(MESSAGES))),
    }
    queries = mixed_queries(engine_universe(PROPOSALS, MESSAGES), QUERIES)
    print(
        f"\ncorpus: {PROPOSALS} proposals, {MESSAGES} messages, {len(queries)} queries, built in "
        f"{time.perf_counter() - started:.1f} s"
    )
    fts5 = Fts5Engine(workdir / "fts5")
    engines: dict[str, Engine] = {"tantivy": TantivyBackend(workdir / "tantivy"), "sqlite-fts5": fts5}
    indexed = []
    for name, engine in engines.items():
        for doc_type, documents in corpus.items():
            begin = time.perf_counter()
            count = engine.rebuild(doc_type, documents)
            seconds = time.perf_counter() - begin
            indexed.append(Indexed(name, doc_type, count, seconds, engine.index_size(doc_type)))
            print(f"  {name} {doc_type}: {count} in {seconds:.1f} s", flush=True)
    rates = analysis_rate(corpus)

    for query in queries[:WARM_UP]:
        for engine in engines.values():
            engine.search(query.query)
    samples = {name: Samples() for name in engines}
    overlaps: list[float] = []
    for query in queries:
        answers = {}
        for name, engine in engines.items():
            begin = time.perf_counter()
            answers[name] = engine.search(query.query)
            samples[name].add(query.category, (time.perf_counter() - begin) * 1000)
        check_same(query, answers["tantivy"], answers["sqlite-fts5"])
        share = overlap(answers["tantivy"], answers["sqlite-fts5"])
        if share is not None:
            overlaps.append(share)
    fts5.close()
    print_report(indexed, rates, samples, overlaps, queries)


def check_same(query: BenchQuery, tantivy: SearchResults, fts5: SearchResults) -> None:
    where = f"{query.category} {query.query.text!r} {dict(query.query.filters)} {query.query.acl}"
    assert tantivy.total == fts5.total, f"{where}: tantivy {tantivy.total}, fts5 {fts5.total}"
    assert facet_counts(tantivy) == facet_counts(fts5), where
    if query.category.startswith("p 编号"):
        assert {h.object_id for h in tantivy.hits} == {h.object_id for h in fts5.hits}, where


def print_report(
    indexed: list[Indexed],
    rates: dict[str, float],
    samples: dict[str, Samples],
    overlaps: list[float],
    queries: list[BenchQuery],
) -> None:
    print(f"\nembedded engines: {PROPOSALS} proposals + {MESSAGES} messages, {len(queries)} queries")
    print(f"{'indexing':<26} {'docs':>8} {'s':>7} {'docs/s':>8} {'engine-only docs/s':>19} {'size':>10}")
    for row in indexed:
        rate = row.count / row.seconds
        analysed = rates[row.doc_type]
        engine_only = 1 / max(1e-9, 1 / rate - 1 / analysed)  # what is left once the shared analysis is taken out
        print(
            f"{row.engine + ' ' + row.doc_type:<26} {row.count:>8} {row.seconds:>7.1f} {rate:>8.0f} "
            f"{engine_only:>19.0f} {megabytes(row.size):>10}"
        )
    for doc_type, rate in rates.items():
        print(f"{'analysis alone ' + doc_type:<26} {'':>8} {'':>7} {rate:>8.0f}")
    names = list(samples)
    print(
        f"\n{'query (ms)':<18} {'n':>4}"
        + "".join(f" {n + ' p50':>17} {'p95':>7}" for n in names)
        + f" {'fts5/tantivy p50':>17}"
    )
    categories = sorted(samples[names[0]].by_category)
    for category in categories:
        cells = [samples[n].by_category[category] for n in names]
        line = f"{pad(category, 18)} {len(cells[0]):>4}"
        line += "".join(f" {percentile(c, 50):>17.1f} {percentile(c, 95):>7.1f}" for c in cells)
        print(line + f" {percentile(cells[1], 50) / percentile(cells[0], 50):>17.1f}")
    print(f"\n{'all queries (ms)':<18} {'p50':>8} {'p95':>8} {'p99':>8} {'max':>8} {'mean':>8} {'QPS (1 client)':>15}")
    for name in names:
        values = samples[name].all
        mean = sum(values) / len(values)
        print(
            f"{name:<18} {percentile(values, 50):>8.1f} {percentile(values, 95):>8.1f} {percentile(values, 99):>8.1f} "
            f"{max(values):>8.1f} {mean:>8.1f} {1000 / mean:>15.0f}"
        )
    print(f"same totals and facets for all {len(queries)} queries; top-10 overlap {sum(overlaps) / len(overlaps):.0%}")
    verdict(indexed, samples)


def verdict(indexed: list[Indexed], samples: dict[str, Samples]) -> None:
    t, f = samples["tantivy"].all, samples["sqlite-fts5"].all
    seconds = {e: sum(r.seconds for r in indexed if r.engine == e) for e in samples}
    size = {e: sum(r.size for r in indexed if r.engine == e) for e in samples}
    faster = "tantivy" if percentile(t, 95) <= percentile(f, 95) else "sqlite-fts5"
    print(
        f"verdict: {faster} answers faster (p95 {percentile(t, 95):.1f} ms tantivy vs {percentile(f, 95):.1f} ms "
        f"fts5, p50 {percentile(t, 50):.1f} vs {percentile(f, 50):.1f}); indexing {seconds['tantivy']:.0f} s vs "
        f"{seconds['sqlite-fts5']:.0f} s; size {megabytes(size['tantivy'])} vs {megabytes(size['sqlite-fts5'])}"
    )
