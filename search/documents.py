"""The shapes that cross the search interface: documents in, queries in, results out.

Domain apps build ``SearchDocument``s with pure functions (``proposals/search.py``, ``chat/search.py``);
engines never see a model. Every engine indexes the same fixed set of fields, so the same query gives
the same hits on every engine (the behaviour suite in ``tests/search/`` holds them to it).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

#: Full-text fields, searched and highlighted. A proposal's replies go in ``replies``; the names and
#: subjects of the bureaus handling it in ``bureaus`` (found by 卫健委 though its text never says so).
TEXT_FIELDS: tuple[str, ...] = ("title", "body", "replies", "bureaus")
#: How much a match in each text field weighs in relevance.
FIELD_BOOSTS: Mapping[str, float] = {"title": 3.0, "body": 1.0, "replies": 0.7, "bureaus": 0.5}
#: Exact-match fields: filters, facets and lookups (all values are strings; a field may hold several).
KEYWORD_FIELDS: tuple[str, ...] = (
    "kind",
    "status",
    "year",
    "session",
    "bureau",
    "outcome_class",
    "category",
    "proposer",
    "number",
    "consultation",
    "sender",
)
#: The document types; each has its own index (and alias) in every engine.
DOC_TYPES: tuple[str, ...] = ("proposal", "message", "transcript")

Sort = Literal["relevance", "newest", "oldest"]


@dataclass(frozen=True)
class SearchDocument:
    """One searchable thing. ``acl`` lists who may find it: ``office``, ``public``, ``user:<id>``,
    ``bureau:<id>``… (the domain app decides; the engine only filters on them)."""

    doc_type: str
    object_id: int
    texts: Mapping[str, str]
    keywords: Mapping[str, Sequence[str]]
    acl: Sequence[str]
    date: datetime
    version: str  # changes whenever the document would change: compared by ``search_check``

    @classmethod
    def of(
        cls,
        doc_type: str,
        object_id: int,
        *,
        texts: Mapping[str, str],
        keywords: Mapping[str, Sequence[str]],
        acl: Sequence[str],
        date: datetime,
    ) -> SearchDocument:
        """A document whose version is a digest of its whole content (so any change is seen as stale)."""
        content = json.dumps(
            [dict(texts), {k: sorted(map(str, v)) for k, v in keywords.items()}, sorted(acl), date.timestamp()],
            ensure_ascii=False,
            sort_keys=True,
        )
        version = hashlib.blake2b(content.encode(), digest_size=12).hexdigest()
        return cls(doc_type, object_id, texts, keywords, tuple(acl), date, version)


@dataclass(frozen=True)
class SearchQuery:
    doc_type: str
    text: str = ""
    filters: Mapping[str, Sequence[str]] = field(default_factory=dict)  # field -> any of these values
    acl: Sequence[str] | None = None  # None: unrestricted (commands and checks only, never a user's search)
    sort: Sort = "relevance"
    offset: int = 0
    limit: int = 20
    facets: Sequence[str] = ()
    exclude_ids: Sequence[int] = ()
    #: Synonyms, generic words left out, numbers inside the text and minimum-should-match
    #: (``search.synonyms.parse``); None: as ``settings.SEARCH_EXPANSION`` says (on unless turned off).
    expand: bool | None = None
    #: False: hits carry the id and score only (no texts read, no snippets): a list asking which ids match.
    highlight: bool = True


@dataclass(frozen=True)
class SimilarQuery:
    """Earlier documents on the same subject as a text being written (a draft's title and body)."""

    doc_type: str
    title: str
    body: str
    acl: Sequence[str] | None
    exclude_ids: Sequence[int] = ()
    limit: int = 5


@dataclass(frozen=True)
class Hit:
    object_id: int
    score: float
    #: field -> HTML-escaped snippet of the *original* text, matches wrapped in ``<mark>``
    highlights: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class FacetValue:
    value: str
    count: int


@dataclass(frozen=True)
class SearchResults:
    hits: Sequence[Hit]
    total: int
    facets: Mapping[str, Sequence[FacetValue]] = field(default_factory=dict)


@dataclass(frozen=True)
class EngineHealth:
    ok: bool
    detail: str


def version_key(version: str) -> int:
    """A document version as a signed 63-bit number: what engines store and ``versions()`` returns."""
    return int.from_bytes(hashlib.blake2b(version.encode(), digest_size=8).digest(), "big") >> 1


class SearchUnavailable(Exception):
    """The engine cannot be reached or refused the operation; indexing retries, searching reports it."""
