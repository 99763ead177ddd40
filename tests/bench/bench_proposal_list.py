"""How fast the proposal list API answers on 100 000 proposals, against the plain ORM doing the same query.

Run with ``make bench`` (PostgreSQL only; skipped elsewhere). The corpus is the demo generator's
(``proposals.demo.build_benchmark_corpus``), built once inside a transaction that is rolled back.
Each query is asked ``BENCH_REPEAT`` times (default 30) after a warm-up, as a staff user (who sees
everything) through the real Django test client: middleware, session auth, DRF, django-filter,
pagination (which adds a COUNT) and serialisation. The baseline is the same filter in plain ORM,
``[:50]`` materialised with ``values()`` of the columns the list shows. The table prints p50/p95 of
both, the baseline plus the COUNT the paginator runs, and the ratios; nothing is asserted about time.

Environment: ``BENCH_PROPOSALS`` (default 100000), ``BENCH_REPEAT`` (default 30), ``BENCH_DETAIL=1``
to build the timelines, ratings and talks too (slower; the list reads none of them).
"""

from __future__ import annotations

import os
import statistics
import time
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.test import Client
from django.utils import timezone

from consult.models import Bureau, User
from proposals.demo import SeedReport, build_benchmark_corpus
from proposals.models import Assignment, Proposal
from proposals.models.choices import IN_HANDS_OF_BUREAUS

pytestmark = pytest.mark.bench

PROPOSALS = int(os.environ.get("BENCH_PROPOSALS", "100000"))
REPEAT = int(os.environ.get("BENCH_REPEAT", "30"))
DETAIL = os.environ.get("BENCH_DETAIL", "") == "1"
PAGE = 50  # REST_FRAMEWORK["PAGE_SIZE"]
# The columns ProposalListSerializer shows, with the session and proposer it reads through select_related.
COLUMNS = (
    "id",
    "number",
    "kind",
    "title",
    "category",
    "status",
    "outcome_class",
    "reply_due",
    "created_at",
    "updated_at",
    "session_id",
    "session__name",
    "session__year",
    "session__number_prefix",
    "proposer_id",
    "proposer__full_name",
)


@dataclass(frozen=True)
class Case:
    name: str
    query: str
    orm: Callable[[QuerySet[Proposal]], QuerySet[Proposal]]
    # What the API and the ORM must agree on, row by row. Orderings on a column with ties (due dates,
    # numbers repeat across sessions) may order the tied rows differently, so compare the column itself.
    same: str = "id"
    page: int = 1


def api_key(case: Case, row: dict[str, Any]) -> object:
    if case.same == "number":
        return int(row["code"].rsplit("-", 1)[1]) if row["code"] else None
    return row[case.same]


def orm_key(case: Case, row: dict[str, Any]) -> object:
    value = row[case.same]
    return value.isoformat() if case.same == "reply_due" and value is not None else value


def cases(transport: Bureau) -> list[Case]:
    today = timezone.localdate()
    in_hands = list(IN_HANDS_OF_BUREAUS)
    assigned_to = Exists(Assignment.objects.filter(proposal=OuterRef("pk"), bureau_id=transport.pk))
    return [
        Case("all (first page)", "", lambda qs: qs),
        Case("status=handling", "status=handling", lambda qs: qs.filter(status="handling")),
        Case(
            "year+bureau",
            f"year=2026&bureau={transport.pk}",
            lambda qs: qs.filter(assigned_to, session__year=2026),
        ),
        Case("overdue", "overdue=true", lambda qs: qs.filter(status__in=in_hands, reply_due__lt=today)),
        Case(
            "due within 10 days",
            "due_within=10",
            lambda qs: qs.filter(status__in=in_hands, reply_due__gte=today, reply_due__lte=today + timedelta(days=10)),
        ),
        Case("category=交通", "category=交通", lambda qs: qs.filter(category="交通")),
        Case("q=停车", "q=停车", lambda qs: qs.filter(Q(title__icontains="停车") | Q(body__icontains="停车"))),
        Case(
            "kind+class B",
            "kind=proposal&outcome_class=B",
            lambda qs: qs.filter(kind="proposal", outcome_class__in=["B"]),
        ),
        Case(
            "closed by number",
            "status=closed&ordering=number",
            lambda qs: qs.filter(status="closed").order_by("number"),
            same="number",
        ),
        Case("by reply due", "ordering=reply_due", lambda qs: qs.order_by("reply_due"), same="reply_due"),
        Case("page 100", "", lambda qs: qs, page=100),
    ]


@pytest.fixture(scope="module")
def corpus(django_db_setup: None, django_db_blocker: Any) -> Iterator[SeedReport]:
    if connection.vendor != "postgresql":
        pytest.skip("the list benchmark needs PostgreSQL (set DATABASE_URL)")
    with django_db_blocker.unblock(), transaction.atomic():
        started = time.perf_counter()
        report = build_benchmark_corpus(PROPOSALS, detail=DETAIL)
        with connection.cursor() as cursor:  # fresh statistics, as autovacuum would give a real database
            cursor.execute("ANALYZE")
        print(f"\ncorpus: {report.summary()}\n  rows {report.rows}\n  built in {time.perf_counter() - started:.1f} s")
        yield report
        transaction.set_rollback(True)


def timed(run: Callable[[], object]) -> list[float]:
    for _ in range(3):  # warm caches and connections
        run()
    samples = []
    for _ in range(REPEAT):
        start = time.perf_counter()
        run()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def p50(samples: list[float]) -> float:
    return statistics.median(samples)


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20, method="inclusive")[-1]


def test_proposal_list_api_against_plain_orm(corpus: SeedReport, db: None) -> None:
    staff = User.objects.get(username="staff")
    client = Client()
    client.force_login(staff)
    base = Proposal.objects.exclude(status="draft").order_by("-created_at", "-id")  # visible_to(staff)
    rows = []
    for case in cases(Bureau.objects.get(name="市交通委")):
        filtered = case.orm(base)
        page = min(case.page, max(1, -(-filtered.count() // PAGE)))  # the last page of a small corpus
        url = f"/api/proposals/?{case.query}" + (f"&page={page}" if page > 1 else "")

        def api(url: str = url) -> dict[str, Any]:
            response = client.get(url)
            assert response.status_code == 200, response.content[:300]
            return dict(response.json())

        def orm(filtered: QuerySet[Proposal] = filtered, page: int = page) -> list[dict[str, Any]]:
            return list(filtered.values(*COLUMNS)[(page - 1) * PAGE : page * PAGE])

        def orm_and_count(filtered: QuerySet[Proposal] = filtered, page: int = page) -> int:
            return filtered.count() + len(orm(filtered, page))

        answer = api()
        assert answer["count"] == filtered.count(), case.name
        assert [api_key(case, r) for r in answer["results"]] == [orm_key(case, r) for r in orm()], case.name
        rows.append((case, answer["count"], timed(api), timed(orm), timed(orm_and_count)))
    print_table(rows)


def pad(text: str, width: int) -> str:
    """Left-aligned in ``width`` columns of a terminal, where a Chinese character takes two."""
    wide = sum(unicodedata.east_asian_width(ch) in "WF" for ch in text)
    return text + " " * max(0, width - len(text) - wide)


def print_table(rows: list[tuple[Case, int, list[float], list[float], list[float]]]) -> None:
    print(f"\nproposal list, {PROPOSALS} proposals, {REPEAT} runs each, milliseconds (p50 / p95)")
    header = f"{'query':<20} {'matches':>8} {'API p50':>8} {'p95':>7} {'ORM p50':>8} {'p95':>7} {'ORM+count':>10}"
    print(f"{header} {'API/ORM':>8} {'API/ORM+count':>14}")
    for case, count, api, orm, counted in rows:
        print(
            f"{pad(case.name, 20)} {count:>8} {p50(api):>8.1f} {p95(api):>7.1f} {p50(orm):>8.1f} {p95(orm):>7.1f} "
            f"{p50(counted):>10.1f} {p50(api) / p50(orm):>8.1f} {p50(api) / p50(counted):>14.2f}"
        )
