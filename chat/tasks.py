"""Celery adapters of chat's calls (``chat.calls``): the ring timeout and the post-call pipeline."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="chat.tasks.expire_ringing_calls", ignore_result=True)
def expire_ringing_calls() -> int:
    from chat.calls import expire_ringing

    return expire_ringing()


@shared_task(name="chat.tasks.process_call", ignore_result=True, autoretry_for=(OSError,), max_retries=3)
def process_call(call_id: int) -> int:
    from chat.calls import process_call as process

    return len(process(call_id))


@shared_task(name="chat.tasks.sweep_lost_media", ignore_result=True)
def sweep_lost_media() -> int:
    from chat.calls import sweep_lost_media as sweep

    return sweep()


@shared_task(name="chat.tasks.purge_call_recordings", ignore_result=True)
def purge_call_recordings() -> int:
    from chat.calls import purge_recordings

    return purge_recordings()
