"""Periodic tasks of the proposal cycle."""

from __future__ import annotations

from celery import shared_task

from proposals.services import sweep_deadlines


@shared_task
def sweep_deadlines_task() -> int:
    """Remind handlers, bureau leads and the office of deadlines (only in working hours)."""
    return sweep_deadlines().reminders
