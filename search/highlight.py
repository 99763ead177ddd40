"""Highlighted snippets on the original text, the same for every engine.

Engines report *where* a query matched as spans over the normalised text (the embedded engine finds
them itself; Elasticsearch's highlighter marks them and ``spans_from_marked`` reads them back). Since
``normalize`` keeps every character in place, the spans mark the original text as the user wrote it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from html import escape

from search.analysis import normalize

Span = tuple[int, int]
MARK_OPEN, MARK_CLOSE = "<mark>", "</mark>"
_MARKED = re.compile(re.escape(MARK_OPEN) + "(.*?)" + re.escape(MARK_CLOSE), re.S)


def find_spans(original: str, terms: Iterable[str]) -> list[Span]:
    """Every place a (normalised) term occurs in the text, merged where they touch or overlap."""
    text = normalize(original)
    spans: list[Span] = []
    for term in terms:
        if not term:
            continue
        start = text.find(term)
        while start != -1:
            spans.append((start, start + len(term)))
            start = text.find(term, start + 1)
    return merge_spans(spans)


def merge_spans(spans: Iterable[Span]) -> list[Span]:
    merged: list[Span] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def spans_from_marked(marked: str) -> list[Span]:
    """Spans of ``<mark>…</mark>`` in a marked-up copy of a text (tags removed from the offsets)."""
    spans: list[Span] = []
    removed = 0
    for match in _MARKED.finditer(marked):
        start = match.start() - removed
        spans.append((start, start + len(match[1])))
        removed += len(MARK_OPEN) + len(MARK_CLOSE)
    return merge_spans(spans)


def _window(length: int, spans: Sequence[Span], size: int) -> Span:
    """The stretch of ``size`` characters holding the most matched characters (starts a little before)."""
    if length <= size or not spans:
        return 0, min(length, size)
    best_start, best_score = 0, -1
    for start, _ in spans:
        begin = max(0, min(start - size // 6, length - size))
        score = sum(min(end, begin + size) - max(s, begin) for s, end in spans if s < begin + size and end > begin)
        if score > best_score:
            best_start, best_score = begin, score
    return best_start, best_start + size


def render(original: str, spans: Sequence[Span], *, size: int | None = None) -> str:
    """HTML-escaped text (or the best window of ``size`` characters), matches in ``<mark>``."""
    begin, end = (0, len(original)) if size is None else _window(len(original), spans, size)
    parts: list[str] = ["…" if begin > 0 else ""]
    cursor = begin
    for start, stop in spans:
        start, stop = max(start, begin), min(stop, end)
        if start >= stop:
            continue
        parts.append(escape(original[cursor:start]))
        parts.append(MARK_OPEN + escape(original[start:stop]) + MARK_CLOSE)
        cursor = stop
    parts.append(escape(original[cursor:end]))
    parts.append("…" if end < len(original) else "")
    return "".join(parts)


#: How long a snippet of each text field is (None: the whole field, e.g. a title).
SNIPPET_SIZES: dict[str, int | None] = {"title": None, "body": 110, "replies": 110}


def highlights(texts: dict[str, str] | Iterable[tuple[str, str]], spans_of: dict[str, list[Span]]) -> dict[str, str]:
    """Snippets of the title and body always (the body's best window), of other fields where they matched."""
    pairs = texts.items() if isinstance(texts, dict) else texts
    out: dict[str, str] = {}
    for name, original in pairs:
        spans = spans_of.get(name, [])
        if original and (spans or name in ("title", "body")):
            out[name] = render(original, spans, size=SNIPPET_SIZES.get(name, 110))
    return out
