"""Periodic tasks of the proposal cycle."""

from __future__ import annotations

from celery import shared_task

from proposals.services import sweep_deadlines


@shared_task
def sweep_deadlines_task() -> int:
    """Remind handlers, bureau leads and the office of deadlines and due publications (only in working hours)."""
    report = sweep_deadlines()
    return report.reminders + report.publication_reminders
