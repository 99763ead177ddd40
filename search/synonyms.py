"""The 同义词库: policy synonyms and abbreviations, applied at query time on every engine.

Two sources, joined: the built-in dictionary ``search/data/synonyms.tsv`` (shipped, reviewed like code) and
the ``Synonym`` table office staff edit in the admin. A group is a set of terms that mean the same thing
(公租房 / 公共租赁住房); a query word that is one of a group's terms also finds the others
(``search.analysis.parse_query`` adds them to the word's clause as alternatives). Query-time expansion,
not an index-time or Elasticsearch ``synonym_graph`` filter: both engines expand the same way, the index
never needs rebuilding when a group changes, and a change is live on the next query
(docs/decisions/0010-query-time-synonyms.md).

Reloaded without a restart: every query compares the table's *stamp* (kept in Django's cache, bumped by
saving or deleting a row) with the stamp this process last loaded; when the cache has none (evicted, or a
fresh cache) it is read from the database. ``SEARCH_EXPANSION = False`` turns expansion and
minimum-should-match off (the strict behaviour from before: the relevance suite's baseline).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from search.analysis import ParsedQuery
    from search.documents import SearchQuery

logger = logging.getLogger(__name__)

BUILT_IN = Path(__file__).with_name("data") / "synonyms.tsv"
GENERIC_WORDS = Path(__file__).with_name("data") / "generic_words.txt"
STAMP_KEY = "search:synonyms:stamp"
STAMP_TIMEOUT = 300  # seconds: a stamp lost by the cache is read from the database again at the latest then
RETRY_SECONDS = 30.0  # no database (yet): built-in groups only, asked again this much later
MAX_ALTERNATIVES = 8  # per query word: the first terms of its groups


def parse_groups(lines: Iterable[str], *, category_column: bool) -> list[tuple[str, ...]]:
    """Groups from text lines: terms separated by tabs, commas (，、,) or spaces; ``#`` starts a comment."""
    groups: list[tuple[str, ...]] = []
    for line in lines:
        line = line.split("#", 1)[0] if line.lstrip().startswith("#") else line
        separated = line.replace("\t", ",").replace("，", ",").replace("、", ",").replace(" ", ",")
        terms = [term.strip() for term in separated.split(",") if term.strip()]
        if category_column and terms:
            terms = terms[1:]
        unique = tuple(dict.fromkeys(terms))
        if len(unique) >= 2:
            groups.append(unique)
    return groups


@cache
def built_in_groups() -> tuple[tuple[str, ...], ...]:
    lines = BUILT_IN.read_text(encoding="utf-8").splitlines()
    return tuple(parse_groups(lines, category_column=True))


def built_in_terms() -> list[str]:
    """Every term of the built-in groups: the segmenter keeps them whole (``search.dictionary``)."""
    return sorted({term for group in built_in_groups() for term in group})


@cache
def generic_words() -> frozenset[str]:
    """Question words and words about proposals rather than their subject (``data/generic_words.txt``)."""
    lines = GENERIC_WORDS.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


@dataclass(frozen=True)
class Thesaurus:
    """Normalised term -> the other terms of every group holding it (normalised, in the groups' order)."""

    alternatives: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    stamp: str = ""

    @classmethod
    def of(cls, groups: Iterable[Sequence[str]], stamp: str = "") -> Thesaurus:
        from search.analysis import normalize

        found: dict[str, dict[str, None]] = {}
        for group in groups:
            terms = [normalize(term.strip()) for term in group if term.strip()]
            for term in terms:
                others = found.setdefault(term, {})
                # A one-character term is looked up but never added: it would match too much.
                others.update((other, None) for other in terms if other != term and len(other) > 1)
        alternatives = {term: tuple(others)[:MAX_ALTERNATIVES] for term, others in found.items() if others}
        return cls(alternatives, stamp)

    def expand(self, word: str) -> tuple[str, ...]:
        return self.alternatives.get(word, ())

    @property
    def terms(self) -> set[str]:
        return set(self.alternatives)


@dataclass
class _Loaded:
    thesaurus: Thesaurus | None = None
    stamp: str | None = None
    retry_at: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)


_loaded = _Loaded()


def _table_stamp() -> str:
    """The table's stamp: from the cache, else from the database (and put in the cache)."""
    from django.core.cache import cache as django_cache

    stamp = django_cache.get(STAMP_KEY)
    if stamp is None:
        from django.db.models import Count, Max

        from search.models import Synonym

        summary = Synonym.objects.aggregate(changed=Max("updated_at"), rows=Count("pk"))
        changed = summary["changed"].timestamp() if summary["changed"] else 0
        stamp = f"{summary['rows']}:{changed}"
        django_cache.set(STAMP_KEY, stamp, STAMP_TIMEOUT)
    return str(stamp)


def bump_stamp() -> None:
    """A row changed: every process reloads the table on its next query (``Synonym`` calls this)."""
    from django.core.cache import cache as django_cache

    django_cache.set(STAMP_KEY, f"changed:{time.time_ns()}", STAMP_TIMEOUT)


def _table_groups() -> list[tuple[str, ...]]:
    from search.models import Synonym

    rows = Synonym.objects.filter(active=True).values_list("terms", flat=True)
    return [group for text in rows for group in parse_groups([text], category_column=False)]


def current() -> Thesaurus:
    """The built-in groups and the table's, reloaded when the table's stamp changed."""
    try:
        stamp: str | None = _table_stamp() if time.monotonic() >= _loaded.retry_at else _loaded.stamp
    except Exception:  # no database (yet), or a test without one: the built-in groups still apply
        logger.debug("synonym table unavailable: built-in synonyms only", exc_info=True)
        _loaded.retry_at = time.monotonic() + RETRY_SECONDS
        stamp = None
    if _loaded.thesaurus is not None and stamp == _loaded.stamp:
        return _loaded.thesaurus
    with _loaded.lock:
        groups: list[tuple[str, ...]] = list(built_in_groups())
        if stamp is not None:
            try:
                groups.extend(_table_groups())
            except Exception:
                logger.debug("synonym table unreadable: built-in synonyms only", exc_info=True)
                stamp = None
        thesaurus = Thesaurus.of(groups, stamp or "built-in")
        _teach_segmenter(thesaurus)
        _loaded.thesaurus, _loaded.stamp = thesaurus, stamp
    return thesaurus


def _teach_segmenter(thesaurus: Thesaurus) -> None:
    """Terms added in the admin are kept whole by the segmenter too (the built-in ones already are)."""
    from search.analysis import add_query_word

    for term in thesaurus.terms:
        add_query_word(term)


def reset() -> None:
    """Forget what was loaded (tests)."""
    _loaded.thesaurus, _loaded.stamp, _loaded.retry_at = None, None, 0.0


#: The document types whose searches are expanded unless a query says otherwise: proposals (issue 14).
#: Consultation messages keep the strict reading until their own relevance set says expansion helps them.
EXPANDED_TYPES = frozenset({"proposal"})


def expansion_on(query: SearchQuery) -> bool:
    from django.conf import settings

    if query.expand is not None:
        return query.expand
    return bool(getattr(settings, "SEARCH_EXPANSION", True)) and query.doc_type in EXPANDED_TYPES


def parse(query: SearchQuery) -> ParsedQuery:
    """A user's query as every engine reads it: expanded and ranked by should-match, or strictly (the old way)."""
    from search.analysis import parse_query

    if not expansion_on(query):
        return parse_query(query.text)
    return parse_query(query.text, thesaurus=current(), relaxed=True)
