"""One transcription job run by a worker: claim, transcribe, record; the worker's heartbeat meanwhile.

``run`` never raises for a failure of the job itself: every failure is written on the transcript in words
(``services.fail``) and retried with backoff while attempts are left. Celery's soft time limit arrives here as
``SoftTimeLimitExceeded`` and is recorded the same way; a hard kill (the hard limit, out of memory, a lost
machine) leaves the job ``running`` with a heartbeat that stops, which the sweeper notices.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from celery.exceptions import SoftTimeLimitExceeded
from django.core.files.storage import default_storage
from django.db import connection

from transcription import services
from transcription.engines import Engine, get_engine
from transcription.services import Claim

logger = logging.getLogger(__name__)


class MissingAudio(Exception):
    """The recording is not in storage: retrying cannot help."""


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def load_engine() -> Engine:
    """The configured engine (TRANSCRIPTION_ENGINE), loaded once per process; the tests' one seam."""
    return get_engine()


def run(transcript_id: int, *, engine: Engine | None = None, worker: str | None = None) -> str:
    """Run the job if it is this worker's to run. Returns what happened: done, retrying, failed, skipped."""
    claim = services.start(transcript_id, worker=worker or worker_name())
    if claim is None:
        return "skipped"
    beat = Heartbeat(claim, services.heartbeat_s())
    beat.start()
    engine_name = engine.name if engine is not None else "The engine"
    try:
        with local_audio(claim.audio) as path:
            used = engine or load_engine()
            engine_name = used.name
            segments = used.transcribe(path, language=claim.language)
            duration = probe_duration(path)
        done = services.finish(
            claim, segments=list(segments), engine=used.name, model=used.model_name, duration_s=duration
        )
        return "done" if done is not None else "skipped"
    except MissingAudio as exc:
        return _failed(claim, str(exc), retry=False)
    except SoftTimeLimitExceeded:
        return _failed(claim, f"Transcription took longer than the {services.time_limit_s()} s time limit.")
    except Exception as exc:
        logger.exception("transcript %s: attempt %s failed", claim.transcript_id, claim.attempt)
        return _failed(claim, f"{engine_name} failed: {type(exc).__name__}: {exc}".strip())
    finally:
        beat.stop()


def _failed(claim: Claim, error: str, retry: bool = True) -> str:
    transcript = services.fail(claim, error=error, retry=retry)
    if transcript is None:
        return "skipped"
    return "retrying" if transcript.status == "queued" else "failed"


class Heartbeat(threading.Thread):
    """Touches the running job's ``heartbeat_at`` every ``interval`` seconds until stopped or taken over."""

    def __init__(self, claim: Claim, interval: float) -> None:
        super().__init__(name=f"transcript-{claim.transcript_id}-heartbeat", daemon=True)
        self.claim = claim
        self.interval = interval
        self._stopped = threading.Event()

    def start(self) -> None:
        if self.interval > 0:
            super().start()

    def run(self) -> None:
        try:
            while not self._stopped.wait(self.interval):
                try:
                    if not services.heartbeat(self.claim):
                        return  # taken over: the job is someone else's now
                except Exception:
                    logger.warning("transcript %s: heartbeat not written", self.claim.transcript_id, exc_info=True)
        finally:
            connection.close()  # this thread's own database connection

    def stop(self) -> None:
        self._stopped.set()
        if self.is_alive():
            self.join(timeout=10)


@contextmanager
def local_audio(name: str) -> Iterator[str]:
    """A local file path for the recording's storage name (a temporary copy for remote storage)."""
    if not name or not default_storage.exists(name):
        raise MissingAudio(f"The recording {name or '(no name)'} is missing from storage.")
    try:
        local: str | None = default_storage.path(name)
    except NotImplementedError:
        local = None
    if local is not None:
        yield local
        return
    with tempfile.NamedTemporaryFile(suffix=Path(name).suffix) as copy, default_storage.open(name, "rb") as source:
        shutil.copyfileobj(source, copy)
        copy.flush()
        yield copy.name


def probe_duration(path: str) -> float | None:
    """The recording's duration in seconds, from its container or by counting decoded samples (MediaRecorder's
    WebM often has no duration in its header); None when PyAV cannot read it."""
    try:
        import av

        with av.open(path) as container:
            if container.duration:
                return float(container.duration) / 1_000_000
            samples = 0.0
            for frame in container.decode(audio=0):
                samples += frame.samples / (frame.sample_rate or 1)
            return samples or None
    except Exception:
        return None
