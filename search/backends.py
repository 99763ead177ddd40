"""Search engines behind one small interface, chosen by a setting.

``ELASTICSEARCH_URL`` set: Elasticsearch (production, ``search/elasticsearch_backend.py``). Unset: the
embedded engine (tantivy, ``search/engines/tantivy_engine.py``), whose indexes live under
``SEARCH_INDEX_DIR``. Both keep one index per document type behind an alias (a pointer file for the
embedded engine), so a rebuild fills a new index and swaps the alias: search never goes empty.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cache
from pathlib import Path
from typing import Protocol

from django.conf import settings

from search.documents import (
    EngineHealth,
    SearchDocument,
    SearchQuery,
    SearchResults,
    SimilarQuery,
)

__all__ = ["EngineHealth", "SearchBackend", "get_backend", "reset_backend"]


class SearchBackend(Protocol):
    name: str

    def health(self) -> EngineHealth: ...

    def index(self, doc_type: str, documents: Sequence[SearchDocument]) -> None:
        """Add or replace these documents (by object id); visible to searches when this returns."""

    def delete(self, doc_type: str, object_ids: Sequence[int]) -> None: ...

    def search(self, query: SearchQuery) -> SearchResults: ...

    def similar(self, query: SimilarQuery) -> SearchResults: ...

    def versions(self, doc_type: str) -> dict[int, int]:
        """Object id -> ``version_key`` of every document in the live index (for ``search_check``)."""

    def rebuild(self, doc_type: str, documents: Iterable[SearchDocument]) -> int:
        """Fill a new index with ``documents``, then point the alias at it and drop the old one."""

    def drop(self, doc_type: str) -> None:
        """Remove the index and its alias (tests and ``search_rebuild --drop``)."""


@cache
def get_backend() -> SearchBackend:
    if settings.ELASTICSEARCH_URL:
        from search.elasticsearch_backend import ElasticsearchBackend

        return ElasticsearchBackend(settings.ELASTICSEARCH_URL, prefix=settings.SEARCH_INDEX_PREFIX)
    from search.engines.tantivy_engine import TantivyBackend

    return TantivyBackend(Path(settings.SEARCH_INDEX_DIR))


def reset_backend() -> None:
    """Forget the cached engine (after settings change in tests)."""
    get_backend.cache_clear()
