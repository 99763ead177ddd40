"""Keeping the index in step with the database: queue, drain, check, rebuild.

- ``queue_change`` is called by domain services inside their transaction: it writes the outbox row
  (``PendingChange``) with the change, and after commit asks a worker to drain the outbox. The user's
  request never waits for, or fails because of, the engine.
- ``drain`` turns outbox rows into documents and sends them to the engine; a row is removed only when
  its document is in the index, and only if nobody queued it again meanwhile.
- ``check`` compares the index with the database (missing, stale, extra); ``repair`` fixes it.
- ``rebuild`` fills a new index from the database, swaps the alias, then repairs what changed meanwhile.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import reduce
from operator import or_

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from search import registry
from search.backends import SearchBackend, get_backend
from search.documents import SearchDocument, version_key
from search.models import PendingChange

logger = logging.getLogger(__name__)

DRAIN_BATCH = 500
DEBOUNCE_SECONDS = 1


def queue_change(label: str, *object_ids: int) -> None:
    """Record that these objects' search documents must be refreshed (inside the caller's transaction)."""
    ids = sorted({int(object_id) for object_id in object_ids})
    if not ids:
        return
    now = timezone.now()
    PendingChange.objects.bulk_create(
        [PendingChange(label=label, object_id=object_id, queued_at=now) for object_id in ids],
        update_conflicts=True,
        unique_fields=["label", "object_id"],
        update_fields=["queued_at"],
    )
    transaction.on_commit(schedule_drain, robust=True)


def schedule_drain() -> None:
    """Ask a worker to drain the outbox soon; at most once a second. Never raises."""
    from search.tasks import drain_index

    try:
        if settings.CELERY_TASK_ALWAYS_EAGER:
            drain()  # last-resort mode without Redis: no worker exists, so drain here
            return
        if cache.add("search:drain-scheduled", 1, timeout=DEBOUNCE_SECONDS):
            drain_index.apply_async(countdown=DEBOUNCE_SECONDS)
    except Exception:  # the broker or engine down: the outbox keeps the change, the sweep retries it
        logger.warning("search drain not scheduled now; the periodic sweep will index it", exc_info=True)


def sync(doc_type: str, ids: Sequence[int], backend: SearchBackend | None = None) -> None:
    """Make the index hold exactly the database's documents for these ids."""
    engine = backend or get_backend()
    documents = registry.source(doc_type).documents(ids)
    present = {document.object_id for document in documents}
    engine.index(doc_type, documents)
    engine.delete(doc_type, [object_id for object_id in ids if object_id not in present])


def drain(*, backend: SearchBackend | None = None, batch_size: int = DRAIN_BATCH) -> int:
    """Index everything queued; returns how many changes were applied. Raises when the engine fails."""
    applied = 0
    while True:
        rows = list(PendingChange.objects.order_by("queued_at", "pk")[:batch_size])
        if not rows:
            return applied
        try:
            _apply(rows, backend)
        except Exception:
            PendingChange.objects.filter(pk__in=[row.pk for row in rows]).update(attempts=F("attempts") + 1)
            raise
        # Only rows nobody re-queued since we read them: a newer change keeps its row for the next pass.
        _forget([(row.pk, row.queued_at) for row in rows])
        applied += len(rows)


def _forget(seen: Sequence[tuple[int, datetime]]) -> None:
    """Remove outbox rows that still hold the time we saw: a row queued again since then stays."""
    if seen:
        PendingChange.objects.filter(reduce(or_, (Q(pk=pk, queued_at=queued_at) for pk, queued_at in seen))).delete()


def _apply(rows: Sequence[PendingChange], backend: SearchBackend | None) -> None:
    by_label: dict[str, list[int]] = defaultdict(list)
    for row in rows:
        by_label[row.label].append(row.object_id)
    by_type: dict[str, set[int]] = defaultdict(set)
    for label, ids in by_label.items():
        for doc_type, expanded in registry.expand(label, ids):
            by_type[doc_type].update(expanded)
    for doc_type, doc_ids in by_type.items():
        sync(doc_type, sorted(doc_ids), backend)


def pending_count() -> int:
    return PendingChange.objects.count()


# --- check, repair, rebuild ------------------------------------------------------------------


@dataclass
class CheckReport:
    doc_type: str
    indexed: int = 0
    expected: int = 0
    missing: list[int] = field(default_factory=list)
    stale: list[int] = field(default_factory=list)
    extra: list[int] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (self.missing or self.stale or self.extra)


def all_documents(doc_type: str) -> Iterator[SearchDocument]:
    source = registry.source(doc_type)
    for ids in source.all_ids():
        yield from source.documents(ids)


def check(doc_type: str, backend: SearchBackend | None = None) -> CheckReport:
    engine = backend or get_backend()
    indexed = engine.versions(doc_type)
    report = CheckReport(doc_type=doc_type, indexed=len(indexed))
    seen: set[int] = set()
    for document in all_documents(doc_type):
        seen.add(document.object_id)
        version = indexed.get(document.object_id)
        if version is None:
            report.missing.append(document.object_id)
        elif version != version_key(document.version):
            report.stale.append(document.object_id)
    report.expected = len(seen)
    report.extra = sorted(set(indexed) - seen)
    return report


def repair(report: CheckReport, backend: SearchBackend | None = None) -> None:
    ids = sorted({*report.missing, *report.stale, *report.extra})
    for start in range(0, len(ids), DRAIN_BATCH):
        sync(report.doc_type, ids[start : start + DRAIN_BATCH], backend)


def rebuild(doc_type: str, backend: SearchBackend | None = None) -> tuple[int, CheckReport]:
    """New index from the database, alias swapped, then whatever changed during the rebuild repaired."""
    engine = backend or get_backend()
    # The changes waiting when the rebuild starts are in the new index: those rows (and only those: a row
    # queued again meanwhile carries a newer time and stays for the next drain) are done afterwards.
    waiting = list(PendingChange.objects.filter(label=doc_type).values_list("pk", "queued_at"))
    count = engine.rebuild(doc_type, all_documents(doc_type))
    report = check(doc_type, engine)
    repair(report, engine)
    for start in range(0, len(waiting), DRAIN_BATCH):
        _forget(waiting[start : start + DRAIN_BATCH])
    return count, report
