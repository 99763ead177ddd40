"""A real ``celery -A consult worker -Q transcription`` (prefork, as a GPU machine would run it) on its own
redis-server transcribes a spoken clip end to end with a tiny random-weight checkpoint of the real Whisper
architecture (``transcription.testing.build_tiny_model``) on the real faster-whisper engine.

Nothing is faked in the worker. This process only sends the messages to the worker's own broker (instead of
the suite's shared one) and polls the database; loops poll with generous deadlines, nothing asserts on time.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from tests.conftest import REPO_ROOT, child_env, free_port, stop
from tests.required import skip_or_fail
from tests.transcription.conftest import KIND, Source, write_tone
from transcription import services
from transcription.models import Transcript

DEADLINE_S = 180.0  # a guard against hangs, not a measurement
REDIS_SERVER = shutil.which("redis-server")
ESPEAK = shutil.which("espeak-ng")
# as a transcription machine runs it: only the transcription queue, the default (prefork) pool
WORKER_ARGS = ["-m", "celery", "-A", "consult", "worker", "-Q", "transcription", "--concurrency", "1", "-l", "INFO"]


def wait_for(condition: Callable[[], bool], what: str, deadline_s: float = DEADLINE_S) -> None:
    deadline = time.monotonic() + deadline_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within the {deadline_s:.0f} s guard: {what}")
        time.sleep(0.3)


@dataclass
class Worker:
    broker_url: str
    log: Path

    def send(self, transcript_id: int, countdown: int = 0) -> None:
        """What ``services.dispatch`` does (the task's own routing picks the queue), to this worker's broker."""
        from celery.exceptions import AlwaysEagerIgnored

        from consult.celery import app
        from transcription.tasks import transcribe

        with app.connection_for_write(self.broker_url) as connection, warnings.catch_warnings():
            warnings.simplefilter("ignore", AlwaysEagerIgnored)
            transcribe.apply_async(args=[transcript_id], countdown=countdown or None, connection=connection)


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@pytest.fixture
def media_dir(tmp_path: Path, settings: object) -> Path:
    media = tmp_path / "media"
    media.mkdir()
    settings.MEDIA_ROOT = media  # type: ignore[attr-defined]
    return media


@pytest.fixture
def worker(
    transactional_db: None, tmp_path: Path, media_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Worker]:
    if REDIS_SERVER is None:
        skip_or_fail("redis-server is not installed; this test runs a Celery worker on its own Redis")
    from transcription.testing import build_tiny_model

    model_dir = build_tiny_model(tmp_path / "tiny-whisper")
    port = free_port()
    redis = subprocess.Popen(
        [str(REDIS_SERVER), "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    log_path = tmp_path / "worker.log"
    log = open(log_path, "wb")  # noqa: SIM115 (closed below)
    process: subprocess.Popen[bytes] | None = None
    try:
        wait_for(lambda: _answers(port), "redis-server answers", 30)
        url = f"redis://127.0.0.1:{port}/0"
        process = subprocess.Popen(
            [sys.executable, *WORKER_ARGS],
            cwd=REPO_ROOT,
            env=child_env(
                REDIS_URL=url,
                MEDIA_ROOT=str(media_dir),
                WHISPER_MODEL_DIR=str(model_dir),
                TRANSCRIPTION_ENGINE="faster-whisper",
                WHISPER_THREADS="1",
                TRANSCRIPTION_HEARTBEAT_SECONDS="1",
            ),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        worker = Worker(url, log_path)
        monkeypatch.setattr(services, "dispatch", worker.send)  # the services' own messages go to this broker
        yield worker
    finally:
        if process is not None:
            stop(process)
        stop(redis)
        log.close()
        print(log_path.read_text(errors="replace")[-4000:])


def spoken_clip(media: Path) -> str:
    """A few seconds of speech (espeak-ng, Mandarin in pinyin), else a tone, as a storage name."""
    target = media / "voice" / "clip.wav"
    target.parent.mkdir(parents=True, exist_ok=True)
    if ESPEAK:
        subprocess.run(
            [ESPEAK, "-v", "cmn-latn-pinyin", "-w", str(target), "qing3 wen4 xue2 qu1 hua4 fen1 shen2 me5 shi2 hou4"],
            check=True,
            capture_output=True,
        )
    else:
        write_tone(target, seconds=3.0)
    return "voice/clip.wav"


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_celery_worker_transcribes_a_clip_end_to_end_once(worker: Worker, source: Source, media_dir: Path) -> None:
    audio = spoken_clip(media_dir)

    # the request's own message (after commit) and a duplicate delivery of it
    transcript = services.request_transcript(source_kind=KIND, source_id=1, audio=audio)
    worker.send(transcript.pk)

    wait_for(lambda: Transcript.objects.get(pk=transcript.pk).status in {"done", "failed"}, "the worker finished")
    time.sleep(1.0)  # let the duplicate message arrive and be skipped
    transcript.refresh_from_db()
    assert transcript.status == "done", transcript.error
    assert transcript.attempts == 1  # the duplicate never ran a second attempt
    assert (transcript.engine, transcript.model) == ("faster-whisper", "tiny-random")
    host, pid = transcript.worker.rsplit(":", 1)
    assert host == socket.gethostname()
    assert int(pid) != os.getpid()
    assert transcript.duration_s is not None
    assert transcript.duration_s > 0.5
    assert transcript.processing_s is not None
    indexes = list(transcript.segments.values_list("index", flat=True))
    assert indexes == list(range(len(indexes)))  # random weights say anything; their segments are stored once
    assert transcript.machine_text == transcript.text
    assert source.statuses[0] == "queued"  # this process announced the request; the worker has no listener
    assert "transcription.tasks.transcribe" in worker.log.read_text(errors="replace")


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_job_left_running_by_a_dead_worker_is_swept_and_finished_by_a_live_worker(
    worker: Worker, source: Source, media_dir: Path
) -> None:
    from transcription.tasks import sweep_transcripts

    audio = spoken_clip(media_dir)
    transcript = services.request_transcript(source_kind=KIND, source_id=2, audio=audio)
    # a worker on another machine claimed it, then died (no heartbeat for five minutes); its message was acked
    wait_for(lambda: Transcript.objects.get(pk=transcript.pk).status == "done", "the first run")
    Transcript.objects.filter(pk=transcript.pk).update(
        status="running", worker="gone-host:4242", heartbeat_at=timezone.now() - timedelta(minutes=5)
    )

    swept = sweep_transcripts()  # the beat task's body, here; its message goes to the live worker

    assert swept["requeued"] == [transcript.pk]
    wait_for(lambda: Transcript.objects.get(pk=transcript.pk).status == "done", "the live worker took it over")
    transcript.refresh_from_db()
    assert transcript.attempts == 2
    assert transcript.worker != "gone-host:4242"
    indexes = list(transcript.segments.values_list("index", flat=True))
    assert indexes == list(range(len(indexes)))  # the re-run replaced the segments, never added to them
