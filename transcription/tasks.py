"""Celery adapters: the job (on its own ``transcription`` queue, CELERY_TASK_ROUTES) and the sweeper (beat)."""

from __future__ import annotations

from celery import shared_task

from transcription import jobs, services


@shared_task(
    name="transcription.tasks.transcribe",
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=services.time_limit_s(),
    time_limit=services.time_limit_s() + services.hard_limit_margin_s(),
    ignore_result=True,
)
def transcribe(transcript_id: int) -> str:
    """Carries only the id: the transcript row is the record (``transcription.services``)."""
    return jobs.run(transcript_id)


@shared_task(name="transcription.tasks.sweep_transcripts", ignore_result=True)
def sweep_transcripts() -> dict[str, list[int]]:
    """Every minute (CELERY_BEAT_SCHEDULE): jobs of dead workers and lost messages, queued again."""
    result = services.requeue_orphans()
    return {"requeued": result.requeued_running, "resent": result.resent_queued, "failed": result.failed}
