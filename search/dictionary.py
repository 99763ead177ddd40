"""The custom dictionary: policy terms shipped with Consult, plus terms the domain apps provide.

Domain apps register a provider (``consult`` gives the bureau names) in their ``AppConfig.ready``;
the search app never imports them. Segmentation loads the dictionary once per process.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from functools import cache
from pathlib import Path

logger = logging.getLogger(__name__)
TermProvider = Callable[[], Iterable[str]]

_POLICY_TERMS = Path(__file__).with_name("policy_terms.txt")
_providers: list[TermProvider] = []


def register_terms(provider: TermProvider) -> None:
    """Add a source of dictionary terms (called at most once per process, on first use)."""
    _providers.append(provider)


def policy_terms() -> list[str]:
    lines = _POLICY_TERMS.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


@cache
def custom_terms() -> tuple[str, ...]:
    terms = set(policy_terms())
    for provider in _providers:
        try:
            terms.update(term.strip() for term in provider() if term.strip())
        except Exception:  # a provider needing the database before it exists must not break search
            logger.info("dictionary terms from %s unavailable (no database yet?)", provider.__qualname__)
    return tuple(sorted(terms))
