"""Elasticsearch through the official client. The only module that imports ``elasticsearch``.

What is sent is built by pure functions: index names, template, mappings and documents in
``search/es_mapping.py``; queries and reading answers back in ``search/es_queries.py``. This module
talks to the cluster: it creates the first index when an alias is missing, writes so that changes are
searchable when a call returns, rebuilds into a new index and swaps the alias, and turns every failure
of the cluster into ``SearchUnavailable`` (indexing retries it, searching reports it).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from typing import Any, TypeVar

from elasticsearch import ApiError, AuthorizationException, Elasticsearch, NotFoundError, TransportError, helpers

from search import analysis, es_mapping, es_queries, synonyms
from search.documents import (
    EngineHealth,
    SearchDocument,
    SearchQuery,
    SearchResults,
    SearchUnavailable,
    SimilarQuery,
)

logger = logging.getLogger(__name__)

T = TypeVar("T")

REQUEST_TIMEOUT = 10.0  # seconds: a search, or a write waiting for the next refresh
HEALTH_TIMEOUT = 2.0
REBUILD_TIMEOUT = 120.0  # one bulk chunk, the refresh and the alias swap of a rebuild
BULK_CHUNK = 500
SCAN_PAGE = 2000


class _AliasMissing(Exception):
    """A write reached no index: the alias was dropped since this process last saw it."""


_CLUSTER_ERRORS = (ApiError, TransportError, helpers.BulkIndexError, helpers.ScanError, _AliasMissing)


@contextmanager
def _unavailable(action: str) -> Iterator[None]:
    try:
        yield
    except _CLUSTER_ERRORS as exc:
        raise SearchUnavailable(f"elasticsearch {action} failed: {_describe(exc)}") from exc


def _describe(exc: Exception) -> str:
    if isinstance(exc, ApiError):
        return f"{exc.meta.status} {exc.message}"
    if isinstance(exc, helpers.BulkIndexError):
        return f"{exc} (first: {exc.errors[:1]})"
    return f"{type(exc).__name__}: {exc}"


class ElasticsearchBackend:
    name = "elasticsearch"

    def __init__(self, url: str, *, prefix: str) -> None:
        hosts = [part.strip() for part in url.split(",") if part.strip()]  # several nodes: comma-separated
        self.prefix = prefix.lower()  # Elasticsearch index names are lower case
        self.client = Elasticsearch(hosts, request_timeout=REQUEST_TIMEOUT, max_retries=2, retry_on_timeout=False)
        #: doc type -> whether its live index has plugin word sub-fields; present once the alias is known to exist
        self._word_fields: dict[str, bool] = {}

    def _alias(self, doc_type: str) -> str:
        return es_mapping.alias_name(self.prefix, doc_type)

    # --- the live index behind the alias ---------------------------------------------------------

    def _ensure(self, doc_type: str) -> bool:
        """Make sure the alias exists (creating the first index); returns whether it has word sub-fields."""
        known = self._word_fields.get(doc_type)
        if known is not None:
            return known
        alias = self._alias(doc_type)
        if not self.client.indices.exists_alias(name=alias):
            self._create_first_index(doc_type)
        mappings = self.client.indices.get_mapping(index=alias).body
        word_fields = any(es_mapping.has_word_fields(entry.get("mappings") or {}) for entry in mappings.values())
        self._word_fields[doc_type] = word_fields
        return word_fields

    def _create_first_index(self, doc_type: str) -> None:
        alias = self._alias(doc_type)
        self._put_template(doc_type)
        name = self._new_index_name(doc_type)
        try:
            self.client.indices.create(index=name, aliases=es_mapping.first_index_aliases(alias))
        except ApiError:
            if not self.client.indices.exists_alias(name=alias):
                raise
            # Another process created the first index at the same moment and won; use that one.
            self.client.indices.delete(index=name, ignore_unavailable=True)

    def _put_template(self, doc_type: str) -> es_mapping.WordsAnalyzer | None:
        """(Re)write the index template; the segmentation plugin is chosen from what the nodes have now."""
        try:
            nodes = self.client.nodes.info(metric="plugins").body
            words = es_mapping.choose_words_analyzer(es_mapping.plugins_by_node(nodes))
        except AuthorizationException:
            logger.warning("cannot list the cluster's plugins (no 'monitor' privilege): bigrams only")
            words = None
        self.client.indices.put_index_template(**es_mapping.index_template(self.prefix, doc_type, words))
        return words

    def _new_index_name(self, doc_type: str) -> str:
        return es_mapping.new_index_name(self.prefix, doc_type, datetime.now(UTC), uuid.uuid4().hex[:6])

    def _indices_behind(self, alias: str) -> list[str]:
        try:
            return sorted(self.client.indices.get_alias(name=alias).body)
        except NotFoundError:
            return []

    def _with_alias(self, doc_type: str, call: Callable[[bool], T]) -> T:
        """``call(word_fields)`` on the live index, created first if missing (again if it vanished meanwhile)."""
        try:
            return call(self._ensure(doc_type))
        except (NotFoundError, _AliasMissing):
            self._word_fields.pop(doc_type, None)
            return call(self._ensure(doc_type))

    def _bulk(self, client: Elasticsearch, actions: Iterable[dict[str, Any]], **options: Any) -> int:
        try:
            done, _ = helpers.bulk(client, actions, chunk_size=BULK_CHUNK, stats_only=True, **options)
        except helpers.BulkIndexError as exc:
            if es_mapping.bulk_alias_missing(exc.errors):
                raise _AliasMissing from exc
            raise
        return done

    # --- the interface -------------------------------------------------------------------------

    def health(self) -> EngineHealth:
        try:
            client = self.client.options(request_timeout=HEALTH_TIMEOUT, max_retries=0)
            status = client.cluster.health(timeout="1s")["status"]
        except Exception as exc:  # the client raises many transport errors; all mean "down"
            return EngineHealth(False, f"unreachable: {type(exc).__name__}")
        return EngineHealth(status in {"green", "yellow"}, f"cluster status {status}")

    def index(self, doc_type: str, documents: Sequence[SearchDocument]) -> None:
        if not documents:
            return
        actions = list(es_mapping.index_actions(self._alias(doc_type), documents))
        with _unavailable("indexing"):
            # require_alias: a write to a missing alias must fail, not create an index without our mappings
            self._with_alias(
                doc_type, lambda _: self._bulk(self.client, actions, refresh="wait_for", require_alias=True)
            )

    def delete(self, doc_type: str, object_ids: Sequence[int]) -> None:
        if not object_ids:
            return
        actions = list(es_mapping.delete_actions(self._alias(doc_type), object_ids))
        with _unavailable("deleting"):
            # 404 per item: already gone, which is what was asked
            self._with_alias(
                doc_type, lambda _: self._bulk(self.client, actions, refresh="wait_for", ignore_status=404)
            )

    def search(self, query: SearchQuery) -> SearchResults:
        parsed = synonyms.parse(query)
        alias = self._alias(query.doc_type)

        def run(word_fields: bool) -> dict[str, Any]:
            body = es_queries.search_body(query, parsed, word_fields=word_fields)
            response: dict[str, Any] = self.client.search(index=alias, body=body).body
            return response

        with _unavailable("search"):
            response = self._with_alias(query.doc_type, run)
        return SearchResults(
            hits=es_queries.hits_of(response, parsed.highlight_terms, scored=query.sort == "relevance"),
            total=es_queries.total_of(response),
            facets=es_queries.facets_of(response, query.facets),
        )

    def similar(self, query: SimilarQuery) -> SearchResults:
        terms = analysis.similar_terms(query.title, query.body)
        if not terms:
            return SearchResults(hits=[], total=0)
        alias = self._alias(query.doc_type)
        body = es_queries.similar_body(query, terms)
        with _unavailable("similar search"):
            response = self._with_alias(query.doc_type, lambda _: self.client.search(index=alias, body=body).body)
        return SearchResults(hits=es_queries.hits_of(response, terms, scored=True), total=es_queries.total_of(response))

    def versions(self, doc_type: str) -> dict[int, int]:
        alias = self._alias(doc_type)

        def scan(_: bool) -> dict[int, int]:
            return es_queries.versions_of(
                helpers.scan(self.client, query=es_queries.versions_body(), index=alias, size=SCAN_PAGE)
            )

        with _unavailable("version check"):
            return self._with_alias(doc_type, scan)

    def rebuild(self, doc_type: str, documents: Iterable[SearchDocument]) -> int:
        """Load a new index (no refreshes while loading), refresh it, swap the alias in one call, drop the old."""
        alias = self._alias(doc_type)
        client = self.client.options(request_timeout=REBUILD_TIMEOUT)
        with _unavailable("rebuild"):
            self._put_template(doc_type)
            name = self._new_index_name(doc_type)
            client.indices.create(index=name, settings=es_mapping.LOADING_SETTINGS)
            try:
                count = self._bulk(client, es_mapping.index_actions(name, documents), max_retries=3)
                client.indices.put_settings(index=name, settings=es_mapping.LIVE_SETTINGS)
                client.indices.refresh(index=name)
                old = self._indices_behind(alias)
                client.indices.update_aliases(actions=es_mapping.swap_actions(alias, old, name))
            except BaseException:
                self._discard(name)
                raise
            self._word_fields.pop(doc_type, None)
            self._discard(*(index for index in old if index != name))
        return count

    def _discard(self, *indices: str) -> None:
        """Delete indexes no alias needs; a failure only leaves one behind (logged), never fails the caller."""
        if not indices:
            return
        try:
            self.client.indices.delete(index=list(indices), ignore_unavailable=True)
        except _CLUSTER_ERRORS:
            logger.warning("could not delete old search indexes %s; delete them by hand", indices, exc_info=True)

    def drop(self, doc_type: str) -> None:
        alias = self._alias(doc_type)
        with _unavailable("drop"):
            indices = self._indices_behind(alias)
            if indices:
                self.client.indices.delete(index=indices, ignore_unavailable=True)
            with suppress(NotFoundError):
                self.client.indices.delete_index_template(name=es_mapping.template_name(self.prefix, doc_type))
        self._word_fields.pop(doc_type, None)
