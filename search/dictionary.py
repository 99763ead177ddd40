"""The custom dictionary: policy terms and synonym terms shipped with Consult, plus terms the domain apps provide.

Domain apps register a provider (``consult`` gives the bureau names) in their ``AppConfig.ready``;
the search app never imports them. Segmentation loads the dictionary once per process.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

logger = logging.getLogger(__name__)
TermProvider = Callable[[], Iterable[str]]

_POLICY_TERMS = Path(__file__).with_name("policy_terms.txt")
_providers: list[TermProvider] = []
RETRY_SECONDS = 30.0


def register_terms(provider: TermProvider) -> None:
    """Add a source of dictionary terms (called at most once per process, on first use)."""
    _providers.append(provider)


def policy_terms() -> list[str]:
    lines = _POLICY_TERMS.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def custom_terms() -> tuple[tuple[str, ...], bool]:
    """All terms, and whether every provider answered (one needing the database may not, yet)."""
    from search.synonyms import built_in_terms, generic_words

    # Generic words too, so that a question's wording (提过, 有没有) is cut whole and then left out.
    generic = {word for word in generic_words() if len(word) > 1}
    terms = set(policy_terms()) | set(built_in_terms()) | generic
    complete = True
    for provider in _providers:
        try:
            terms.update(term.strip() for term in provider() if term.strip())
        except Exception:  # a provider needing the database before it exists must not break search
            logger.info("dictionary terms from %s unavailable (no database yet?)", provider.__qualname__)
            complete = False
    return tuple(sorted(terms)), complete


@dataclass
class _Loaded:
    terms: set[str] = field(default_factory=set)
    complete: bool = False
    tried_at: float = -RETRY_SECONDS


_loaded = _Loaded()


def ensure_loaded(add_word: Callable[[str], None]) -> None:
    """Give the segmenter every term once per process; retried (at most every 30 s) until complete."""
    if _loaded.complete or time.monotonic() - _loaded.tried_at < RETRY_SECONDS:
        return
    _loaded.tried_at = time.monotonic()
    terms, complete = custom_terms()
    for term in terms:
        if term not in _loaded.terms:
            add_word(term)
            _loaded.terms.add(term)
    _loaded.complete = complete


def reload_dictionary() -> None:
    """Read the terms again on next use (after bureaus were added or renamed)."""
    _loaded.complete = False
    _loaded.tried_at = -RETRY_SECONDS
