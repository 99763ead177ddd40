"""What recordings belong to: each domain app registers its source kind and hooks at startup.

This app imports no domain app. ``chat`` registers ``"chat.voice"`` in its ``AppConfig.ready``; its
``on_change`` publishes the live event and re-indexes. Hooks run after the commit of every change of
status, segments or text (``transcription.services``), with the transcript as it is in the database then
(re-read after the commit, so a hook never sees a rolled-back or stale state).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from transcription.models import Transcript


@dataclass(frozen=True)
class SourceHooks:
    #: called after commit whenever status, segments or text change; an exception is logged, never raised
    on_change: Callable[[Transcript], None]


_sources: dict[str, SourceHooks] = {}


def register_source(kind: str, hooks: SourceHooks) -> None:
    _sources[kind] = hooks


def unregister_source(kind: str) -> None:
    """For tests that register a source of their own."""
    _sources.pop(kind, None)


def hooks_for(kind: str) -> SourceHooks | None:
    return _sources.get(kind)


def is_registered(kind: str) -> bool:
    return kind in _sources
