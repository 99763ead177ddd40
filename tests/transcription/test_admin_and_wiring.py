"""The admin's read-only transcripts and retry action; the task's queue, limits and the beat sweeper."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from consult.models import User
from tests.transcription.conftest import KIND, FakeEngine, Outbox, Source
from transcription import jobs, services
from transcription.models import Transcript


@pytest.mark.django_db
def test_the_admin_lists_transcripts_read_only_and_retries_failed_ones(
    source: Source, audio: str, admin_user: User, outbox: Outbox, django_capture_on_commit_callbacks
) -> None:
    failed = services.request_transcript(source_kind=KIND, source_id=1, audio=audio)
    done = services.request_transcript(source_kind=KIND, source_id=2, audio=audio)
    Transcript.objects.filter(pk=failed.pk).update(status="failed", attempts=3, error="engine failed: boom")
    jobs.run(done.pk, engine=FakeEngine(), worker="w:1")
    client = Client()
    client.force_login(admin_user)

    listing = client.get(reverse("admin:transcription_transcript_changelist"))
    detail = client.get(reverse("admin:transcription_transcript_change", args=[done.pk]))
    assert listing.status_code == 200
    assert "engine failed: boom" in listing.content.decode()
    assert detail.status_code == 200
    assert "请问学区划分" in detail.content.decode()
    assert b'name="_save"' not in detail.content  # nothing to save: read-only
    assert client.get(reverse("admin:transcription_transcript_add")).status_code == 403

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:transcription_transcript_changelist"),
            {"action": "retry", "_selected_action": [failed.pk, done.pk]},
        )

    assert response.status_code == 302
    assert dict(Transcript.objects.values_list("pk", "status")) == {failed.pk: "queued", done.pk: "done"}
    assert outbox.sent == [(failed.pk, 0)]


def test_the_job_runs_on_its_own_queue_with_time_limits_and_late_acks() -> None:
    from consult.celery import app
    from transcription.tasks import transcribe

    assert app.amqp.router.route({}, "transcription.tasks.transcribe")["queue"].name == "transcription"
    assert transcribe.acks_late
    assert transcribe.reject_on_worker_lost
    assert transcribe.soft_time_limit == services.time_limit_s()
    assert transcribe.time_limit == services.time_limit_s() + services.hard_limit_margin_s()


def test_the_sweeper_runs_every_minute() -> None:
    schedule = {entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert schedule["transcription.tasks.sweep_transcripts"] == 60
