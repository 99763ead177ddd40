"""The job life cycle of a transcript: request, claim, finish, retries, orphans, corrections, hooks.

Only the engine is faked here (``FakeEngine``, at ``jobs.load_engine`` or passed to ``jobs.run``); the
database, the row locks, the on-commit hooks and the Celery task are real. ``test_worker.py`` runs a real
Celery worker.
"""

from __future__ import annotations

import os
import socket
import threading
from datetime import timedelta

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.db import connection, transaction
from django.utils import timezone
from pytest_django.fixtures import Settings

from consult.models import User
from tests.required import require_postgresql
from tests.transcription.conftest import KIND, FakeEngine, Outbox, Seg, Source
from transcription import jobs, services
from transcription.models import Transcript, TranscriptRevision, TranscriptSegment

WORKER_A = "gpu-1:101"
WORKER_B = "gpu-2:202"


def request(audio: str, source_id: int = 1) -> Transcript:
    return services.request_transcript(source_kind=KIND, source_id=source_id, audio=audio)


def age(transcript_id: int, **fields: timedelta) -> None:
    """Move these timestamps into the past (a worker that stopped beating, a message sent long ago)."""
    now = timezone.now()
    Transcript.objects.filter(pk=transcript_id).update(**{name: now - ago for name, ago in fields.items()})


# --- requesting -----------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_request_is_queued_once_per_source_and_sent_after_commit(
    source: Source, audio: str, eager: FakeEngine, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True) as first:
        transcript = request(audio)
    with django_capture_on_commit_callbacks(execute=True) as second:
        again = services.request_transcript(source_kind=KIND, source_id=1, audio="voice/other.wav")

    assert again.pk == transcript.pk
    assert Transcript.objects.count() == 1
    assert len(first) >= 2  # the message and the hook, after commit (then the eager run's own)
    assert second == []  # the second request sends nothing
    assert len(eager.calls) == 1
    assert Transcript.objects.get().status == "done"


@pytest.mark.django_db
def test_an_unregistered_source_is_refused(audio: str) -> None:
    with pytest.raises(LookupError, match="nope"):
        services.request_transcript(source_kind="nope", source_id=1, audio=audio)


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_for_one_source_make_one_row(source: Source, audio: str, outbox: Outbox) -> None:
    require_postgresql("racing inserts on the unique constraint")
    barrier = threading.Barrier(4)
    ids: list[int] = []

    def one() -> None:
        try:
            barrier.wait()
            ids.append(request(audio, source_id=7).pk)
        finally:
            connection.close()

    threads = [threading.Thread(target=one) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(ids) == 4
    assert len(set(ids)) == 1
    assert Transcript.objects.filter(source_id=7).count() == 1
    assert outbox.sent == [(ids[0], 0)]  # only the creator sent a message


# --- the life cycle ---------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_job_runs_queued_running_done_and_records_how(source: Source, audio: str, eager: FakeEngine) -> None:
    fake = eager
    transcript = request(audio)  # on commit: the task runs (eagerly, in this process)

    transcript.refresh_from_db()
    assert source.statuses == ["queued", "running", "done"]
    assert transcript.status == "done"
    assert transcript.attempts == 1
    assert transcript.error == ""
    assert (transcript.engine, transcript.model) == ("fake-engine", "fake-base")
    assert transcript.worker == f"{socket.gethostname()}:{os.getpid()}"
    assert transcript.duration_s == pytest.approx(1.0, abs=0.01)  # probed from the recording
    assert transcript.queued_at <= transcript.started_at <= transcript.finished_at
    assert transcript.processing_s is not None
    assert transcript.processing_s >= 0
    assert transcript.machine_text == transcript.text == "请问学区划分什么时候公布？"
    assert [(s.index, s.start, s.end, s.text) for s in transcript.segments.all()] == [
        (0, 0.0, 1.2, "请问学区划分"),
        (1, 1.2, 2.5, "什么时候公布？"),
    ]
    assert fake.calls[0][0].endswith("voice/clip.wav")
    assert fake.calls[0][1] == "zh"


@pytest.mark.django_db
def test_latin_segments_are_joined_with_spaces(source: Source, audio: str) -> None:
    fake = FakeEngine(segments=[Seg(0, 1, "Hello there.", 0.9), Seg(1, 2, "General Kenobi", 0.9)])
    transcript = request(audio)

    jobs.run(transcript.pk, engine=fake, worker=WORKER_A)

    assert Transcript.objects.get().machine_text == "Hello there. General Kenobi"


@pytest.mark.django_db
def test_a_failed_attempt_is_retried_with_backoff_and_a_readable_error_then_failed(
    source: Source, audio: str, settings: Settings
) -> None:
    settings.TRANSCRIPTION_MAX_ATTEMPTS = 3
    settings.TRANSCRIPTION_RETRY_BACKOFF = 30
    broken = FakeEngine(error=RuntimeError("CUDA out of memory"))
    transcript = request(audio)

    outcomes, backoffs = [], []
    for _ in range(3):
        before = timezone.now()
        outcomes.append(jobs.run(transcript.pk, engine=broken, worker=WORKER_A))
        transcript.refresh_from_db()
        backoffs.append(round((transcript.dispatched_at - before).total_seconds()))

    assert outcomes == ["retrying", "retrying", "failed"]
    assert backoffs[:2] == [30, 60]  # doubling
    assert transcript.status == "failed"
    assert transcript.attempts == 3
    assert transcript.error == "fake-engine failed: RuntimeError: CUDA out of memory"
    assert transcript.segments.count() == 0
    # a failed job is not picked up again by a stray message
    assert jobs.run(transcript.pk, engine=FakeEngine(), worker=WORKER_A) == "skipped"


@pytest.mark.django_db
def test_a_missing_recording_fails_at_once_saying_so(source: Source, media: object) -> None:
    transcript = request("voice/gone.webm")

    assert jobs.run(transcript.pk, engine=FakeEngine(), worker=WORKER_A) == "failed"

    transcript.refresh_from_db()
    assert (transcript.status, transcript.attempts) == ("failed", 1)
    assert transcript.error == "The recording voice/gone.webm is missing from storage."


@pytest.mark.django_db
def test_the_soft_time_limit_is_a_readable_failure_and_retried(source: Source, audio: str, settings: Settings) -> None:
    settings.TRANSCRIPTION_TIME_LIMIT = 120
    transcript = request(audio)

    outcome = jobs.run(transcript.pk, engine=FakeEngine(error=SoftTimeLimitExceeded()), worker=WORKER_A)

    transcript.refresh_from_db()
    assert outcome == "retrying"
    assert transcript.status == "queued"
    assert transcript.error == "Transcription took longer than the 120 s time limit."


@pytest.mark.django_db
def test_retry_queues_a_failed_job_again_with_fresh_attempts(
    source: Source, audio: str, settings: Settings, outbox: Outbox, django_capture_on_commit_callbacks
) -> None:
    settings.TRANSCRIPTION_MAX_ATTEMPTS = 1
    transcript = request(audio)
    jobs.run(transcript.pk, engine=FakeEngine(error=OSError("disk")), worker=WORKER_A)

    with django_capture_on_commit_callbacks(execute=True):
        retried = services.retry_transcript(transcript_id=transcript.pk)
    assert (retried.status, retried.attempts, retried.error) == ("queued", 0, "")
    assert outbox.sent == [(transcript.pk, 0)]
    assert source.statuses == ["queued"]
    assert jobs.run(transcript.pk, engine=FakeEngine(), worker=WORKER_A) == "done"

    # a retry of anything but a failed job changes nothing (a double click)
    with django_capture_on_commit_callbacks() as nothing:
        same = services.retry_transcript(transcript_id=transcript.pk)
    assert same.status == "done"
    assert nothing == []


# --- claims: one worker per job ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_job_running_on_a_live_worker_is_not_claimed_again(source: Source, audio: str) -> None:
    transcript = request(audio)
    claim = services.start(transcript.pk, worker=WORKER_A)

    assert claim is not None
    assert claim.attempt == 1
    assert services.start(transcript.pk, worker=WORKER_B) is None  # a redelivered or duplicate message
    assert Transcript.objects.get().worker == WORKER_A


@pytest.mark.django_db(transaction=True)
def test_two_workers_racing_for_one_job_get_one_claim(source: Source, audio: str) -> None:
    require_postgresql("the claim's row lock")
    transcript = request(audio)
    barrier = threading.Barrier(2)
    claims: list[object] = []

    def claim(worker: str) -> None:
        try:
            barrier.wait()
            claims.append(services.start(transcript.pk, worker=worker))
        finally:
            connection.close()

    threads = [threading.Thread(target=claim, args=(worker,)) for worker in (WORKER_A, WORKER_B)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum(claim is not None for claim in claims) == 1
    assert Transcript.objects.get().attempts == 1


@pytest.mark.django_db(transaction=True)
def test_the_worker_beats_while_the_engine_runs(source: Source, audio: str, settings: Settings) -> None:
    settings.TRANSCRIPTION_HEARTBEAT_SECONDS = 0.2
    transcript = request(audio)
    seen: list[object] = []

    class Watching(FakeEngine):
        def transcribe(self, audio: object, language: str = "zh", prompt: str | None = None) -> list[Seg]:
            started = Transcript.objects.get(pk=transcript.pk).heartbeat_at
            import time

            time.sleep(1.0)
            seen.extend([started, Transcript.objects.get(pk=transcript.pk).heartbeat_at])
            return super().transcribe(audio, language, prompt)

    assert jobs.run(transcript.pk, engine=Watching(), worker=WORKER_A) == "done"
    assert seen[0] is not None
    assert seen[1] > seen[0]  # type: ignore[operator]


# --- the sweeper ---------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_sweeper_requeues_a_job_whose_worker_stopped_beating(
    source: Source, audio: str, settings: Settings, outbox: Outbox, django_capture_on_commit_callbacks
) -> None:
    settings.TRANSCRIPTION_HEARTBEAT_SECONDS = 15  # dead after 60 s without a beat
    transcript = request(audio)
    dead = services.start(transcript.pk, worker=WORKER_A)
    assert dead is not None
    age(transcript.pk, heartbeat_at=timedelta(seconds=61))

    with django_capture_on_commit_callbacks(execute=True):
        result = services.requeue_orphans()

    transcript.refresh_from_db()
    assert outbox.sent == [(transcript.pk, 0)]  # a new message
    assert source.statuses == ["queued"]  # and the listeners are told
    assert result.requeued_running == [transcript.pk]
    assert transcript.status == "queued"
    assert transcript.attempts == 1
    assert transcript.error == (
        f"The worker {WORKER_A} stopped during attempt 1 (killed, out of memory or past the time limit); queued again."
    )

    # another worker takes it; the dead worker's late answer is dropped
    assert jobs.run(transcript.pk, engine=FakeEngine(), worker=WORKER_B) == "done"
    late = services.finish(dead, segments=[Seg(0, 1, "迟到的结果", 0.5)], engine="x", model="y")
    assert late is None
    assert services.fail(dead, error="late") is None
    transcript.refresh_from_db()
    assert (transcript.status, transcript.attempts, transcript.worker) == ("done", 2, WORKER_B)
    assert [s.text for s in transcript.segments.all()] == ["请问学区划分", "什么时候公布？"]


@pytest.mark.django_db
def test_the_sweeper_leaves_a_live_worker_alone_but_not_one_past_the_time_limit(
    source: Source, audio: str, settings: Settings
) -> None:
    settings.TRANSCRIPTION_TIME_LIMIT = 300
    transcript = request(audio)
    services.start(transcript.pk, worker=WORKER_A)

    assert services.requeue_orphans().requeued_running == []

    # still beating (a stuck engine's heartbeat thread) but started longer ago than the hard limit + margin
    age(transcript.pk, started_at=timedelta(seconds=300 + 30 + 61), heartbeat_at=timedelta(seconds=1))
    assert services.requeue_orphans().requeued_running == [transcript.pk]


@pytest.mark.django_db
def test_a_job_whose_worker_died_every_attempt_is_failed(source: Source, audio: str, settings: Settings) -> None:
    settings.TRANSCRIPTION_MAX_ATTEMPTS = 2
    transcript = request(audio)
    for _ in range(2):
        assert services.start(transcript.pk, worker=WORKER_A) is not None
        age(transcript.pk, heartbeat_at=timedelta(minutes=5))
        services.requeue_orphans()

    transcript.refresh_from_db()
    assert transcript.status == "failed"
    assert transcript.attempts == 2
    assert transcript.error.startswith("Gave up after 2 attempts: the worker stopped each time")


@pytest.mark.django_db
def test_a_redelivered_message_for_a_job_of_a_dead_worker_takes_it_over(
    source: Source, audio: str, settings: Settings
) -> None:
    """reject_on_worker_lost: the killed worker's message comes back; once the heartbeat is stale, it runs."""
    transcript = request(audio)
    services.start(transcript.pk, worker=WORKER_A)
    age(transcript.pk, heartbeat_at=timedelta(minutes=5))

    assert jobs.run(transcript.pk, engine=FakeEngine(), worker=WORKER_B) == "done"
    assert Transcript.objects.get().attempts == 2


@pytest.mark.django_db
def test_the_sweeper_resends_a_queued_job_whose_message_was_lost(
    source: Source, audio: str, settings: Settings, outbox: Outbox, django_capture_on_commit_callbacks
) -> None:
    settings.TRANSCRIPTION_REQUEUE_AFTER = 600
    lost = request(audio, source_id=1)
    fresh = request(audio, source_id=2)
    backing_off = request(audio, source_id=3)
    age(lost.pk, dispatched_at=timedelta(minutes=11))
    age(fresh.pk, dispatched_at=timedelta(minutes=2))
    Transcript.objects.filter(pk=backing_off.pk).update(dispatched_at=timezone.now() + timedelta(seconds=60))

    with django_capture_on_commit_callbacks(execute=True):
        result = services.requeue_orphans()

    assert result.resent_queued == [lost.pk]
    assert outbox.sent == [(lost.pk, 0)]
    assert source.seen == []  # nothing a listener would see changed
    # and not again at the next minute's sweep
    assert services.requeue_orphans().resent_queued == []


# --- re-runs never duplicate -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_running_a_job_again_never_duplicates_its_segments(source: Source, audio: str) -> None:
    transcript = request(audio)
    assert jobs.run(transcript.pk, engine=FakeEngine(), worker=WORKER_A) == "done"

    # the same message delivered again (acks_late after a lost connection)
    assert jobs.run(transcript.pk, engine=FakeEngine(), worker=WORKER_B) == "skipped"
    # a retry after a failure, then a fresh run: the segments are replaced, never added
    Transcript.objects.filter(pk=transcript.pk).update(status="failed")
    services.retry_transcript(transcript_id=transcript.pk)
    assert jobs.run(transcript.pk, engine=FakeEngine(segments=[Seg(0, 2, "一句话", 0.7)]), worker=WORKER_A) == "done"

    assert list(TranscriptSegment.objects.values_list("index", "text")) == [(0, "一句话")]
    assert Transcript.objects.get().machine_text == "一句话"


@pytest.mark.django_db
def test_a_claim_finished_twice_writes_once(source: Source, audio: str) -> None:
    transcript = request(audio)
    claim = services.start(transcript.pk, worker=WORKER_A)
    assert claim is not None

    assert services.finish(claim, segments=[Seg(0, 1, "一", 1.0)], engine="e", model="m") is not None
    assert services.finish(claim, segments=[Seg(0, 1, "一", 1.0)], engine="e", model="m") is None
    assert TranscriptSegment.objects.count() == 1


# --- corrections ---------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_corrections_keep_the_machine_text_and_list_every_version_with_who_and_when(
    source: Source, audio: str, deputy: User, expert: User, django_capture_on_commit_callbacks
) -> None:
    transcript = request(audio)
    jobs.run(transcript.pk, engine=FakeEngine(), worker=WORKER_A)

    first = services.correct_transcript(
        transcript_id=transcript.pk, author_id=expert.pk, text=" 请问学区划分何时公布？ "
    )
    with django_capture_on_commit_callbacks(execute=True):
        second = services.correct_transcript(
            transcript_id=transcript.pk, author_id=deputy.pk, text="请问学区划分方案何时公布？"
        )
    same = services.correct_transcript(
        transcript_id=transcript.pk, author_id=deputy.pk, text="请问学区划分方案何时公布？"
    )

    transcript.refresh_from_db()
    assert same.pk == second.pk
    assert transcript.machine_text == "请问学区划分什么时候公布？"
    assert transcript.text == "请问学区划分方案何时公布？"
    versions = list(TranscriptRevision.objects.filter(transcript=transcript).values_list("number", "author", "text"))
    assert versions == [
        (1, expert.pk, "请问学区划分何时公布？"),
        (2, deputy.pk, "请问学区划分方案何时公布？"),
    ]
    assert first.created_at <= second.created_at
    assert source.seen[-1].text == "请问学区划分方案何时公布？"
    with pytest.raises(ValueError, match="needs some text"):
        services.correct_transcript(transcript_id=transcript.pk, author_id=deputy.pk, text="  ")


@pytest.mark.django_db
def test_a_later_machine_run_does_not_overwrite_a_correction(source: Source, audio: str, staff: User) -> None:
    transcript = request(audio)
    services.correct_transcript(transcript_id=transcript.pk, author_id=staff.pk, text="人工写的文字")

    jobs.run(transcript.pk, engine=FakeEngine(), worker=WORKER_A)

    transcript.refresh_from_db()
    assert transcript.text == "人工写的文字"
    assert transcript.machine_text == "请问学区划分什么时候公布？"


@pytest.mark.django_db
def test_transcript_for_finds_the_sources_transcript(source: Source, audio: str) -> None:
    transcript = request(audio, source_id=42)

    assert services.transcript_for(KIND, 42) == transcript
    assert services.transcript_for(KIND, 43) is None


# --- the on_change hook --------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_hook_runs_after_commit_only_and_sees_the_committed_row(source: Source, audio: str) -> None:
    with transaction.atomic():
        transcript = request(audio)
        claim = services.start(transcript.pk, worker=WORKER_A)
        assert source.seen == []  # nothing before the commit

    assert [(seen.status, seen.attempts) for seen in source.seen] == [("running", 1), ("running", 1)]
    assert not any(seen.in_atomic_block for seen in source.seen)

    assert claim is not None

    def finish_then_roll_back() -> None:
        with transaction.atomic():
            services.finish(claim, segments=[Seg(0, 1, "一", 1.0)], engine="e", model="m")
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        finish_then_roll_back()
    assert len(source.seen) == 2  # a rolled-back change is never announced
    assert Transcript.objects.get().status == "running"


@pytest.mark.django_db
def test_a_failing_hook_never_breaks_the_change(source: Source, audio: str, django_capture_on_commit_callbacks) -> None:
    source.fail_with = ConnectionError("channel layer down")

    with django_capture_on_commit_callbacks(execute=True):
        transcript = request(audio)

    assert Transcript.objects.get(pk=transcript.pk).status == "queued"
    assert source.statuses == ["queued"]
