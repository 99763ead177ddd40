"""Search engines behind one small interface, chosen by a setting.

``ELASTICSEARCH_URL`` set: Elasticsearch (production). Unset: the embedded engine, whose
index lives under ``SEARCH_INDEX_DIR``. Indexing and querying arrive with the search issue;
the foundation needs each engine to report its health.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Protocol

from django.conf import settings


@dataclass(frozen=True)
class EngineHealth:
    ok: bool
    detail: str


class SearchBackend(Protocol):
    name: str

    def health(self) -> EngineHealth: ...


class EmbeddedBackend:
    """The embedded engine: an index directory on local disk."""

    name = "embedded"

    def __init__(self, index_dir: Path) -> None:
        self.index_dir = index_dir

    def health(self) -> EngineHealth:
        try:
            self.index_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            return EngineHealth(False, f"index directory unusable: {exc.strerror}")
        if not os.access(self.index_dir, os.W_OK):
            return EngineHealth(False, "index directory is not writable")
        return EngineHealth(True, "embedded index directory ready")


@cache
def get_backend() -> SearchBackend:
    if settings.ELASTICSEARCH_URL:
        from search.elasticsearch_backend import ElasticsearchBackend

        return ElasticsearchBackend(settings.ELASTICSEARCH_URL)
    return EmbeddedBackend(Path(settings.SEARCH_INDEX_DIR))
