"""Relevance on a judged set: Chinese queries over the demo corpus, precision@5 and recall@10 per engine.

The corpus is the one ``seed_demo`` makes (3000 proposals of 海滨市 over six years: variants of the 300
written ones), seeded once for this module inside a transaction that is rolled back afterwards, so no
other test sees it. Every engine indexes the same documents (``proposals.search``) and answers the
queries of ``judged_queries.json`` as the office would (every proposal but drafts).

- A hit is relevant when its title contains one of the query's ``relevant`` strings (the judged subjects).
- precision@5: relevant hits among the first 5, over 5.
- recall@10: relevant hits among the first 10, over the number of relevant proposals, capped at 10: each
  subject comes back in about ten sessions, so a query often has more relevant proposals than 10 places.

``pytest -s tests/search/test_relevance.py`` prints the table. The floors below sit a little under what
the embedded engine measured when they were set; a change that lowers relevance fails here.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from statistics import mean

import pytest
from django.db import transaction

from consult.demo import seed_people
from proposals.demo import seed_proposals
from proposals.workdays import seed_calendar
from search import analysis, indexing
from search.backends import SearchBackend
from search.dictionary import reload_dictionary
from search.documents import SearchDocument, SearchQuery
from tests.search.conftest import ENGINES, open_engine

# django_db: so that pytest-django sets the test database up; the tests themselves only read the engines.
pytestmark = [pytest.mark.django_db, pytest.mark.slow]
JUDGED = json.loads(Path(__file__).with_name("judged_queries.json").read_text(encoding="utf-8"))["queries"]
DEMO_PROPOSALS = 3000  # what seed_demo makes
SEARCHER = ["office"]
MEAN_P5_FLOOR = 0.90  # measured on the embedded engine: 0.920 (50 queries)
MEAN_R10_FLOOR = 0.87  # measured on the embedded engine: 0.896


@dataclass(frozen=True)
class Demo:
    documents: list[SearchDocument]
    titles: dict[int, str]  # what the office may find: every proposal but drafts


@dataclass(frozen=True)
class Measured:
    query: str
    relevant: int
    p5: float
    r10: float
    first: str


@pytest.fixture(scope="module")
def demo(django_db_setup: None, django_db_blocker: pytest.FixtureRequest) -> Demo:
    """The demo proposals as search documents; the database is left as it was."""
    with django_db_blocker.unblock(), transaction.atomic():  # type: ignore[attr-defined]
        seed_people()
        seed_calendar()
        seed_proposals(DEMO_PROPOSALS, detail=False)
        # Bureau names join the segmentation dictionary now that the database has them, whatever ran before.
        reload_dictionary()
        analysis.words("海滨市")  # loads the dictionary while the bureaus are there
        documents = list(indexing.all_documents("proposal"))
        transaction.set_rollback(True)
    titles = {doc.object_id: doc.texts["title"] for doc in documents if set(doc.acl) & set(SEARCHER)}
    return Demo(documents, titles)


@pytest.fixture(scope="module", params=ENGINES)
def demo_engine(
    request: pytest.FixtureRequest, demo: Demo, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SearchBackend]:
    backend, cleanup = open_engine(request.param, tmp_path_factory.mktemp("relevance"))
    try:
        backend.rebuild("proposal", demo.documents)
        yield backend
    finally:
        cleanup()


def is_relevant(title: str, subjects: list[str]) -> bool:
    return any(subject in title for subject in subjects)


def measure(engine: SearchBackend, demo: Demo, query: str, subjects: list[str]) -> Measured:
    relevant = {pk for pk, title in demo.titles.items() if is_relevant(title, subjects)}
    hits = engine.search(SearchQuery(doc_type="proposal", text=query, acl=SEARCHER, limit=10)).hits
    ranked = [hit.object_id for hit in hits]
    p5 = sum(pk in relevant for pk in ranked[:5]) / 5
    r10 = sum(pk in relevant for pk in ranked[:10]) / min(10, len(relevant))
    first = demo.titles.get(ranked[0], "?") if ranked else "—"
    return Measured(query, len(relevant), p5, r10, first)


def table(engine_name: str, rows: list[Measured]) -> str:
    lines = [
        f"\nrelevance on {engine_name}: {len(rows)} judged queries",
        f"{'query':<18}{'rel':>5}{'P@5':>7}{'R@10':>7}  first hit",
    ]
    lines += [f"{row.query:<18}{row.relevant:>5}{row.p5:>7.2f}{row.r10:>7.2f}  {row.first}" for row in rows]
    lines.append(f"{'mean':<18}{'':>5}{mean(r.p5 for r in rows):>7.3f}{mean(r.r10 for r in rows):>7.3f}")
    return "\n".join(lines)


def test_the_judged_set_has_enough_queries_each_with_relevant_proposals(demo: Demo) -> None:
    assert len(JUDGED) >= 30
    assert len({entry["query"] for entry in JUDGED}) == len(JUDGED)
    for entry in JUDGED:
        relevant = [title for title in demo.titles.values() if is_relevant(title, entry["relevant"])]
        assert len(relevant) >= 5, f"{entry['query']}: only {len(relevant)} relevant proposals in the demo"


def test_precision_and_recall_on_the_judged_set(demo_engine: SearchBackend, demo: Demo) -> None:
    rows = [measure(demo_engine, demo, entry["query"], entry["relevant"]) for entry in JUDGED]

    print(table(demo_engine.name, rows))
    assert mean(row.p5 for row in rows) >= MEAN_P5_FLOOR
    assert mean(row.r10 for row in rows) >= MEAN_R10_FLOOR
