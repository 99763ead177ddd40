"""What each domain app indexes: one ``DocumentSource`` per document type, registered at startup.

The search app never imports a domain app; ``proposals`` and ``chat`` register their sources (pure
document builders plus the queries that feed them) in their ``AppConfig.ready``. A *related* change
(a consultation reassigned: every message's permissions change) is registered as an expansion.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

from search.documents import SearchDocument


@dataclass(frozen=True)
class DocumentSource:
    doc_type: str
    #: documents for these ids; an id with no document (deleted, or not to be indexed) is left out
    documents: Callable[[Sequence[int]], list[SearchDocument]]
    #: every id that should be in the index, in batches (rebuild and check)
    all_ids: Callable[[], Iterator[list[int]]]


_sources: dict[str, DocumentSource] = {}
_expansions: dict[str, tuple[str, Callable[[Sequence[int]], Iterable[int]]]] = {}


def register(source: DocumentSource) -> None:
    _sources[source.doc_type] = source


def register_expansion(label: str, doc_type: str, expand: Callable[[Sequence[int]], Iterable[int]]) -> None:
    """A change to ``label`` objects re-indexes the ``doc_type`` documents that ``expand`` names."""
    _expansions[label] = (doc_type, expand)


def source(doc_type: str) -> DocumentSource:
    return _sources[doc_type]


def doc_types() -> list[str]:
    return sorted(_sources)


def expand(label: str, ids: Sequence[int]) -> tuple[str, list[int]]:
    """The document type and ids a queued change stands for (itself unless it is an expansion)."""
    if label in _expansions:
        doc_type, expander = _expansions[label]
        return doc_type, list(expander(ids))
    return label, list(ids)
