"""Judging a search on the demo corpus: the judged queries, their relevant proposals and the measures.

Shared by ``tests/search/test_relevance.py`` (the suite, with floors) and ``tests/bench/bench_search.py``
(the same figures at the benchmark's size is not possible: the judgements are about the demo's titles, so
the benchmark measures relevance on the demo corpus it also builds). Relevance is binary: a hit is relevant
when its title holds one of the query's judged subjects (or, for a number query, holds that number).

- P@5: relevant hits among the first 5, over 5.
- R@10: relevant hits among the first 10, over the relevant proposals, capped at 10.
- nDCG@10: discounted gain of the first 10 (1 / log2(rank + 1) per relevant hit) over the best possible.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from statistics import mean

from search.analysis import NumberRef

HERE = Path(__file__).parent
BASE_SET = json.loads((HERE / "judged_queries.json").read_text(encoding="utf-8"))["queries"]
CLASSES = json.loads((HERE / "judged_classes.json").read_text(encoding="utf-8"))
CLASS_ORDER = ("words", "synonym", "question", "number", "bureau")


@dataclass(frozen=True)
class Judged:
    kind: str  # the class of miss ("words": the original judged set)
    query: str
    relevant: frozenset[int]


@dataclass(frozen=True)
class Scores:
    p5: float
    r10: float
    ndcg10: float


def is_relevant(title: str, subjects: Sequence[str]) -> bool:
    return any(subject in title for subject in subjects)


def scores(ranked: Sequence[int], relevant: frozenset[int]) -> Scores:
    if not relevant:
        return Scores(0.0, 0.0, 0.0)
    p5 = sum(pk in relevant for pk in ranked[:5]) / 5
    r10 = sum(pk in relevant for pk in ranked[:10]) / min(10, len(relevant))
    dcg = sum(1 / math.log2(rank + 2) for rank, pk in enumerate(ranked[:10]) if pk in relevant)
    ideal = sum(1 / math.log2(rank + 2) for rank in range(min(10, len(relevant))))
    return Scores(p5, r10, dcg / ideal)


def judged(
    entries: Sequence[Mapping[str, object]], titles: Mapping[int, str], numbers: Mapping[int, Sequence[str]]
) -> list[Judged]:
    """The entries with their relevant proposals; number templates filled with a real proposal's number."""
    out: list[Judged] = []
    for entry in entries:
        subjects = [str(s) for s in entry.get("relevant", ())]  # type: ignore[attr-defined]
        query = str(entry["query"])
        relevant = {pk for pk, title in titles.items() if subjects and is_relevant(title, subjects)}
        if "{" in query:
            subject = str(entry.get("subject", ""))
            candidates = [pk for pk in sorted(numbers) if numbers[pk] and subject in titles.get(pk, "")]
            pick = candidates[int(str(entry.get("pick", 1))) - 1]
            full, serial = numbers[pick][0], numbers[pick][1]
            query = query.format(full=full, serial=f"{int(serial):04d}")
            wanted = NumberRef.parse(full if "{full}" in str(entry["query"]) else serial)
            relevant |= {pk for pk, held in numbers.items() if wanted is not None and wanted.value in held}
        out.append(Judged(str(entry.get("class", "words")), query, frozenset(relevant)))
    return out


Search = Callable[[str, bool], list[int]]  # (query, expand) -> ranked ids, 10 at most


@dataclass(frozen=True)
class Row:
    item: Judged
    before: Scores
    after: Scores


def run(search: Search, items: Sequence[Judged]) -> list[Row]:
    return [
        Row(item, scores(search(item.query, False), item.relevant), scores(search(item.query, True), item.relevant))
        for item in items
    ]


def by_class(rows: Sequence[Row]) -> dict[str, tuple[Scores, Scores, int]]:
    """Class -> (mean before, mean after, number of queries)."""
    out: dict[str, tuple[Scores, Scores, int]] = {}
    for kind in CLASS_ORDER:
        mine = [row for row in rows if row.item.kind == kind]
        if mine:
            out[kind] = (_mean([r.before for r in mine]), _mean([r.after for r in mine]), len(mine))
    return out


def _mean(values: Sequence[Scores]) -> Scores:
    return Scores(mean(v.p5 for v in values), mean(v.r10 for v in values), mean(v.ndcg10 for v in values))


def class_table(title: str, rows: Sequence[Row]) -> str:
    lines = [
        f"\n{title}: mean per class, before (strict: no expansion, every word required) -> after",
        f"{'class':<10}{'n':>4}   {'P@5':>13}   {'R@10':>13}   {'nDCG@10':>13}",
    ]
    for kind, (before, after, n) in by_class(rows).items():
        lines.append(
            f"{kind:<10}{n:>4}   {before.p5:>5.3f} -> {after.p5:.3f}   {before.r10:>5.3f} -> {after.r10:.3f}"
            f"   {before.ndcg10:>5.3f} -> {after.ndcg10:.3f}"
        )
    return "\n".join(lines)


def query_table(rows: Sequence[Row]) -> str:
    lines = [f"{'class':<9}{'query':<26}{'rel':>5}  {'R@10 before':>11} {'after':>6}  {'nDCG before':>11} {'after':>6}"]
    for row in rows:
        lines.append(
            f"{row.item.kind:<9}{row.item.query:<26}{len(row.item.relevant):>5}  {row.before.r10:>11.2f} "
            f"{row.after.r10:>6.2f}  {row.before.ndcg10:>11.2f} {row.after.ndcg10:>6.2f}"
        )
    return "\n".join(lines)
