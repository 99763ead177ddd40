"""Celery tasks of the search app: drain the indexing outbox, with backoff while the engine is down."""

from __future__ import annotations

import logging

from celery import Task, shared_task

from search.indexing import drain

logger = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 300


@shared_task(bind=True, max_retries=8, acks_late=True)
def drain_index(self: Task) -> int:
    """Index what the outbox holds. Engine down: retry in 2, 4, 8 … seconds (at most 5 minutes apart);
    after the last retry the periodic sweep below carries on, so nothing is ever given up."""
    try:
        return drain()
    except Exception as exc:
        countdown = min(MAX_BACKOFF_SECONDS, 2 ** (self.request.retries + 1))
        logger.warning("search indexing failed (%s); retrying in %ss", exc, countdown)
        raise self.retry(exc=exc, countdown=countdown) from exc


@shared_task
def sweep_index() -> int:
    """Every minute: whatever is still queued (worker killed, retries used up, broker was down)."""
    try:
        return drain()
    except Exception as exc:
        logger.warning("search sweep failed (%s); the next sweep retries", exc)
        return 0
