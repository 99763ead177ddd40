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
_expansions: dict[str, list[tuple[str, Callable[[Sequence[int]], Iterable[int]]]]] = {}


def register(source: DocumentSource) -> None:
    _sources[source.doc_type] = source


def register_expansion(label: str, doc_type: str, expand: Callable[[Sequence[int]], Iterable[int]]) -> None:
    """A change to ``label`` objects re-indexes the ``doc_type`` documents that ``expand`` names. A label may
    expand into several document types (a consultation: its messages and its transcripts); registering the same
    document type again replaces its expander."""
    expansions = [entry for entry in _expansions.get(label, []) if entry[0] != doc_type]
    _expansions[label] = [*expansions, (doc_type, expand)]


def source(doc_type: str) -> DocumentSource:
    return _sources[doc_type]


def doc_types() -> list[str]:
    return sorted(_sources)


def expand(label: str, ids: Sequence[int]) -> list[tuple[str, list[int]]]:
    """The document types and ids a queued change stands for (itself unless it is an expansion)."""
    if label in _expansions:
        return [(doc_type, list(expander(ids))) for doc_type, expander in _expansions[label]]
    return [(label, list(ids))]
