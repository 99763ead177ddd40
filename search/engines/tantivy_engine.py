"""The embedded engine: tantivy (a Rust search library) in-process, one index directory per type.

Chosen over SQLite FTS5 by measurement (``tests/bench/bench_search_engines.py``). Text is analysed in
Python (``search.analysis``) and handed over as whitespace-separated tokens: bigrams with positions
for matching (``g_<field>``), words for ranking. An alias is a small pointer file naming the live
index directory; ``rebuild`` fills a new directory and replaces the pointer atomically.

One writer per index at a time (tantivy's lock file): writers from several processes wait their turn.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import tantivy

from search import analysis, synonyms
from search.documents import (
    KEYWORD_FIELDS,
    TEXT_FIELDS,
    EngineHealth,
    SearchDocument,
    SearchQuery,
    SearchResults,
    SearchUnavailable,
    SimilarQuery,
    version_key,
)
from search.engines.tantivy_query import QueryBuilder, facets_of, hits_of, ids_of

logger = logging.getLogger(__name__)

WRITER_HEAP = 64_000_000
REBUILD_HEAP = 256_000_000
LOCK_WAIT_SECONDS = 10.0
ORDER_ID_SPAN = 10_000_000  # ids below this break ties of equal dates the way Elasticsearch's sort does


def build_schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_unsigned_field("object_id", stored=True, indexed=True, fast=True)
    for name in TEXT_FIELDS:
        builder.add_text_field(f"g_{name}", tokenizer_name="whitespace", index_option="position")
    builder.add_text_field("words", tokenizer_name="whitespace", index_option="freq")
    for name in (*KEYWORD_FIELDS, "acl"):
        builder.add_text_field(name, tokenizer_name="raw", index_option="basic", fast=name != "acl")
    builder.add_integer_field("date", indexed=True, fast=True)
    builder.add_integer_field("order", fast=True)  # date, then id: a stable order for newest/oldest
    builder.add_integer_field("version", fast=True)
    builder.add_bytes_field("source", stored=True, indexed=False)
    return builder.build()


def to_tantivy(document: SearchDocument) -> tantivy.Document:
    doc = tantivy.Document()
    doc.add_unsigned("object_id", document.object_id)
    all_words: list[str] = []
    for name in TEXT_FIELDS:
        normalized = analysis.normalize(document.texts.get(name, ""))
        if normalized:
            doc.add_text(f"g_{name}", " ".join(analysis.grams(normalized)))
            all_words.extend(analysis.words(normalized))
    doc.add_text("words", " ".join(all_words))
    for name in KEYWORD_FIELDS:
        for value in document.keywords.get(name, ()):
            doc.add_text(name, str(value))
    for key in document.acl:
        doc.add_text("acl", key)
    doc.add_integer("date", int(document.date.timestamp()))
    doc.add_integer("order", int(document.date.timestamp()) * ORDER_ID_SPAN + document.object_id % ORDER_ID_SPAN)
    doc.add_integer("version", version_key(document.version))
    texts = {name: document.texts[name] for name in TEXT_FIELDS if document.texts.get(name)}
    doc.add_bytes("source", json.dumps(texts, ensure_ascii=False).encode())
    return doc


class TantivyBackend:
    name = "embedded"

    def __init__(self, root: Path) -> None:
        self.root = root
        self.schema = build_schema()
        self._open: dict[str, tuple[str, tantivy.Index]] = {}
        self._lock = threading.Lock()

    # --- where the indexes live -------------------------------------------------------------

    def _alias(self, doc_type: str) -> Path:
        return self.root / f"{doc_type}.alias"

    def _live_dir(self, doc_type: str) -> str:
        """The live index directory's name, creating the first (empty) index when none exists."""
        alias = self._alias(doc_type)
        try:
            return alias.read_text().strip()
        except FileNotFoundError:
            name = self._new_index_dir(doc_type)
            self._point(doc_type, name)
            return name

    def _new_index_dir(self, doc_type: str) -> str:
        name = f"{doc_type}-{time.strftime('%Y%m%d%H%M%S')}-{uuid.uuid4().hex[:6]}"
        path = self.root / name
        path.mkdir(parents=True)
        tantivy.Index(self.schema, path=str(path), reuse=False)
        return name

    def _point(self, doc_type: str, name: str) -> None:
        temporary = self.root / f".{doc_type}.alias.{uuid.uuid4().hex}"
        temporary.write_text(name)
        os.replace(temporary, self._alias(doc_type))

    def _index(self, doc_type: str) -> tantivy.Index:
        """The live index of this process, reopened when a rebuild moved the alias."""
        try:
            name = self._live_dir(doc_type)
            with self._lock:
                cached = self._open.get(doc_type)
                if cached is None or cached[0] != name:
                    cached = self._open_live(doc_type, name)
                    self._open[doc_type] = cached
                return cached[1]
        except (OSError, ValueError) as exc:
            raise SearchUnavailable(f"embedded index for {doc_type} unusable: {exc}") from exc

    def _open_live(self, doc_type: str, name: str) -> tuple[str, tantivy.Index]:
        try:
            return name, tantivy.Index(self.schema, path=str(self.root / name), reuse=True)
        except ValueError as exc:
            if "schema does not match" not in str(exc):
                raise
        # An index written by an older Consult: start an empty one (search_check then reports every
        # document missing, and seed_demo / search_rebuild fill it) rather than fail every search.
        logger.warning("search index %s has an older schema; starting a new empty index", name)
        fresh = self._new_index_dir(doc_type)
        self._point(doc_type, fresh)
        shutil.rmtree(self.root / name, ignore_errors=True)
        return fresh, tantivy.Index(self.schema, path=str(self.root / fresh), reuse=True)

    def _writer(self, index: tantivy.Index, heap: int = WRITER_HEAP) -> tantivy.IndexWriter:
        deadline = time.monotonic() + LOCK_WAIT_SECONDS
        while True:
            try:
                return index.writer(heap_size=heap, num_threads=1)
            except ValueError as exc:
                if "LockBusy" not in str(exc) or time.monotonic() > deadline:
                    raise SearchUnavailable(f"embedded index busy: {exc}") from exc
                time.sleep(0.05)

    def _by_id(self, object_id: int) -> tantivy.Query:
        # Not delete_documents_by_term: tantivy-py makes an i64 term of a Python int, which never
        # matches our u64 field; a term *query* converts by the field's type.
        return tantivy.Query.term_query(self.schema, "object_id", object_id)

    # --- the interface ----------------------------------------------------------------------

    def health(self) -> EngineHealth:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            return EngineHealth(False, f"index directory unusable: {exc.strerror}")
        if not os.access(self.root, os.W_OK):
            return EngineHealth(False, "index directory is not writable")
        return EngineHealth(True, "embedded index directory ready")

    def index(self, doc_type: str, documents: Sequence[SearchDocument]) -> None:
        if not documents:
            return
        converted = [to_tantivy(document) for document in documents]
        index = self._index(doc_type)
        writer = self._writer(index)
        try:
            for document, doc in zip(documents, converted, strict=True):
                writer.delete_documents_by_query(self._by_id(document.object_id))
                writer.add_document(doc)
            writer.commit()
        finally:
            writer.wait_merging_threads()
        index.reload()

    def delete(self, doc_type: str, object_ids: Sequence[int]) -> None:
        if not object_ids:
            return
        index = self._index(doc_type)
        writer = self._writer(index)
        try:
            for object_id in object_ids:
                writer.delete_documents_by_query(self._by_id(object_id))
            writer.commit()
        finally:
            writer.wait_merging_threads()
        index.reload()

    def search(self, query: SearchQuery) -> SearchResults:
        index = self._index(query.doc_type)
        parsed = synonyms.parse(query)
        built = QueryBuilder(self.schema).search(query, parsed)
        searcher = index.searcher()
        scored = query.sort == "relevance" and not parsed.empty
        if scored:
            found = searcher.search(built, query.limit, count=True, offset=query.offset)
        else:
            order = tantivy.Order.Asc if query.sort == "oldest" else tantivy.Order.Desc
            found = searcher.search(
                built, query.limit, count=True, offset=query.offset, order_by_field="order", order=order
            )
        if query.highlight:
            hits = hits_of(searcher, found.hits, parsed.highlight_terms, scored=scored)
        else:
            hits = ids_of(searcher, found.hits, scored=scored)
        facets = facets_of(searcher, built, query.facets)
        return SearchResults(hits=hits, total=_count(found), facets=facets)

    def similar(self, query: SimilarQuery) -> SearchResults:
        index = self._index(query.doc_type)
        terms = analysis.similar_terms(query.title, query.body)
        if not terms:
            return SearchResults(hits=[], total=0)
        built = QueryBuilder(self.schema).similar(query, terms)
        searcher = index.searcher()
        found = searcher.search(built, query.limit, count=True)
        return SearchResults(hits=hits_of(searcher, found.hits, terms, scored=True), total=_count(found))

    def versions(self, doc_type: str) -> dict[int, int]:
        searcher = self._index(doc_type).searcher()
        if searcher.num_docs == 0:
            return {}
        addresses = [address for _, address in searcher.search(tantivy.Query.all_query(), searcher.num_docs).hits]
        ids = searcher.fast_field_values("object_id", addresses)
        keys = searcher.fast_field_values("version", addresses)
        return {int(i): int(k) for i, k in zip(ids, keys, strict=True) if i is not None and k is not None}

    def rebuild(self, doc_type: str, documents: Iterable[SearchDocument]) -> int:
        self.root.mkdir(parents=True, exist_ok=True)
        old = self._alias(doc_type).read_text().strip() if self._alias(doc_type).exists() else None
        name = self._new_index_dir(doc_type)
        index = tantivy.Index(self.schema, path=str(self.root / name), reuse=True)
        writer = self._writer(index, REBUILD_HEAP)
        count = 0
        try:
            for batch in _batches(documents, 2000):
                for doc in map(to_tantivy, batch):
                    writer.add_document(doc)
                count += len(batch)
            writer.commit()
        finally:
            writer.wait_merging_threads()
        self._point(doc_type, name)
        if old and old != name:
            shutil.rmtree(self.root / old, ignore_errors=True)
        return count

    def drop(self, doc_type: str) -> None:
        alias = self._alias(doc_type)
        if alias.exists():
            shutil.rmtree(self.root / alias.read_text().strip(), ignore_errors=True)
            alias.unlink(missing_ok=True)
        with self._lock:
            self._open.pop(doc_type, None)

    def index_size(self, doc_type: str) -> int:
        """Bytes on disk of the live index (benchmarks report it)."""
        path = self.root / self._live_dir(doc_type)
        return sum(entry.stat().st_size for entry in path.rglob("*") if entry.is_file())


def _count(found: tantivy.SearchResult) -> int:
    count: int | None = getattr(found, "count", None)  # present at run time; missing from the package's stubs
    return int(count or 0)


def _batches(documents: Iterable[SearchDocument], size: int) -> Iterator[list[SearchDocument]]:
    batch: list[SearchDocument] = []
    for document in documents:
        batch.append(document)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
