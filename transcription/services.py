"""Every change of a transcript, one function per state change, each in one transaction.

Life cycle (the row is the record; the Celery message carries only the id)::

    request_transcript ─► queued ──start──► running ──finish──► done
                            ▲                 │
                            │ fail (attempts  │ fail (attempts used up, or the recording is missing)
                            │ left: backoff)  ▼
                            └──────────────  failed ──retry_transcript──► queued

- ``start`` claims the job under a row lock: two workers (a redelivered message, the sweeper's extra one)
  never run it at once; a job ``running`` with a live heartbeat is left alone, one with a dead worker is
  taken over. Each claim counts an attempt; ``finish``/``fail`` of a claim that was taken over are ignored.
- ``finish`` replaces the segments in its transaction: re-running never duplicates them.
- ``requeue_orphans`` (the sweeper, every minute) re-queues jobs left running by dead workers and queued
  jobs whose message was lost, and fails those whose attempts are used up.
- After every change, the source's ``on_change`` hook runs after commit (``transcription.sources``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from transcription.models import Transcript, TranscriptRevision, TranscriptSegment, TranscriptStatus
from transcription.sources import hooks_for, is_registered

logger = logging.getLogger(__name__)

MAX_ERROR_CHARS = 2000


class SegmentLike(Protocol):
    """What an engine returns per segment (``transcription.engines.Segment``)."""

    @property
    def start(self) -> float: ...
    @property
    def end(self) -> float: ...
    @property
    def text(self) -> str: ...
    @property
    def confidence(self) -> float: ...


# --- settings -------------------------------------------------------------------------------------------


def time_limit_s() -> int:
    """The soft time limit of one job (Celery raises inside the task); the hard limit is a margin later."""
    return int(getattr(settings, "TRANSCRIPTION_TIME_LIMIT", 600))


def max_attempts() -> int:
    return int(getattr(settings, "TRANSCRIPTION_MAX_ATTEMPTS", 3))


def retry_backoff_s(attempts: int) -> int:
    """30 s, 60 s, 120 s … after the 1st, 2nd, 3rd failed attempt, at most 10 minutes."""
    base = int(getattr(settings, "TRANSCRIPTION_RETRY_BACKOFF", 30))
    return int(min(600, base * 2 ** max(0, attempts - 1)))


def heartbeat_s() -> float:
    """How often a running job's worker touches ``heartbeat_at`` (0: never)."""
    return float(getattr(settings, "TRANSCRIPTION_HEARTBEAT_SECONDS", 15))


def heartbeat_timeout_s() -> float | None:
    """A running job whose heartbeat is older than this has a dead worker (None: heartbeats are off)."""
    if not heartbeat_s():
        return None
    return float(getattr(settings, "TRANSCRIPTION_HEARTBEAT_TIMEOUT", 4 * heartbeat_s()))


def overdue_after_s() -> int:
    """A job running longer than this is dead whatever its heartbeat says: past the hard limit, with a margin."""
    return time_limit_s() + hard_limit_margin_s() + 60


def hard_limit_margin_s() -> int:
    return 30


def lost_after_s() -> float:
    """A queued job whose message is older than this was lost (or is stuck behind a dead worker): send again."""
    return float(getattr(settings, "TRANSCRIPTION_REQUEUE_AFTER", 600))


# --- requesting ----------------------------------------------------------------------------------------


def request_transcript(*, source_kind: str, source_id: int, audio: str, language: str = "zh") -> Transcript:
    """The transcript of this source, queued once: a second call (a retried upload, a race) returns the same
    row and sends nothing more. The task is sent after commit."""
    if not is_registered(source_kind):
        raise LookupError(f"no transcription source registered as {source_kind!r}")
    now = timezone.now()
    with transaction.atomic():
        # get_or_create inserts in a savepoint and, when a concurrent request won the unique constraint,
        # reads the winner's row instead.
        transcript, created = Transcript.objects.get_or_create(
            source_kind=source_kind,
            source_id=source_id,
            defaults={"audio": audio, "language": language, "queued_at": now, "dispatched_at": now},
        )
        if created:
            _changed_on_commit(transcript)  # listeners first: in eager mode the message runs the whole job
            _dispatch_on_commit(transcript.pk)
    return transcript


def retry_transcript(*, transcript_id: int) -> Transcript:
    """A failed job queued again with a fresh set of attempts (the caller checks who may). Any other status is
    returned unchanged, so a double click queues once."""
    with transaction.atomic():
        transcript = Transcript.objects.select_for_update().get(pk=transcript_id)
        if transcript.status != TranscriptStatus.FAILED:
            return transcript
        now = timezone.now()
        transcript.status = TranscriptStatus.QUEUED
        transcript.attempts = 0
        transcript.error = ""
        transcript.queued_at = now
        transcript.dispatched_at = now
        transcript.started_at = transcript.finished_at = transcript.heartbeat_at = None
        transcript.worker = ""
        transcript.save()
        _changed_on_commit(transcript)
        _dispatch_on_commit(transcript.pk)
    return transcript


# --- a worker's claim ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    """What ``start`` hands the worker: the job and which attempt it holds."""

    transcript_id: int
    attempt: int
    worker: str
    audio: str
    language: str


def start(transcript_id: int, *, worker: str) -> Claim | None:
    """queued → running for this worker, one attempt more. None when there is nothing to run: the job is done,
    failed, gone, not yet due (a retry's backoff), or running on a worker that is alive."""
    now = timezone.now()
    with transaction.atomic():
        transcript = Transcript.objects.select_for_update().filter(pk=transcript_id).first()
        if transcript is None or transcript.status in (TranscriptStatus.DONE, TranscriptStatus.FAILED):
            return None
        if transcript.status == TranscriptStatus.RUNNING and not _worker_is_dead(transcript, now):
            return None
        if transcript.attempts >= max_attempts():
            _give_up(transcript, now, _stopped_message(transcript))
            return None
        transcript.status = TranscriptStatus.RUNNING
        transcript.attempts += 1
        transcript.started_at = transcript.heartbeat_at = now
        transcript.finished_at = None
        transcript.worker = worker[:200]
        transcript.save()
        _changed_on_commit(transcript)
    return Claim(transcript.pk, transcript.attempts, transcript.worker, transcript.audio, transcript.language)


def heartbeat(claim: Claim) -> bool:
    """The worker is alive and still holds the job. False once the claim was taken over."""
    return bool(
        Transcript.objects.filter(
            pk=claim.transcript_id, status=TranscriptStatus.RUNNING, attempts=claim.attempt, worker=claim.worker
        ).update(heartbeat_at=timezone.now())
    )


def finish(
    claim: Claim,
    *,
    segments: Sequence[SegmentLike],
    engine: str,
    model: str,
    duration_s: float | None = None,
) -> Transcript | None:
    """running → done: the segments replace any earlier ones in this transaction. None (nothing written) when
    the claim was taken over meanwhile (the sweeper thought this worker dead)."""
    now = timezone.now()
    with transaction.atomic():
        transcript = _holding(claim)
        if transcript is None:
            logger.warning("transcript %s: attempt %s lost its claim; result dropped", *_ids(claim))
            return None
        transcript.segments.all().delete()
        rows = [
            TranscriptSegment(
                transcript=transcript,
                index=index,
                start=float(segment.start),
                end=float(segment.end),
                text=segment.text.strip(),
                confidence=float(segment.confidence),
            )
            for index, segment in enumerate(segments)
        ]
        TranscriptSegment.objects.bulk_create([row for row in rows if row.text])
        transcript.machine_text = _joined(row.text for row in rows if row.text)
        transcript.text = _current_text(transcript)
        transcript.status = TranscriptStatus.DONE
        transcript.error = ""
        transcript.engine = engine[:40]
        transcript.model = model[:200]
        transcript.duration_s = duration_s
        transcript.finished_at = now
        transcript.processing_s = (now - transcript.started_at).total_seconds() if transcript.started_at else None
        transcript.save()
        _changed_on_commit(transcript)
    return transcript


def fail(claim: Claim, *, error: str, retry: bool = True) -> Transcript | None:
    """A failed attempt: queued again after a backoff while attempts are left (and ``retry``), else failed.
    ``error`` is shown to people: say what went wrong in words. None when the claim was taken over."""
    now = timezone.now()
    with transaction.atomic():
        transcript = _holding(claim)
        if transcript is None:
            return None
        transcript.error = error[:MAX_ERROR_CHARS]
        transcript.finished_at = now
        transcript.processing_s = (now - transcript.started_at).total_seconds() if transcript.started_at else None
        if retry and transcript.attempts < max_attempts():
            countdown = retry_backoff_s(transcript.attempts)
            transcript.status = TranscriptStatus.QUEUED
            transcript.queued_at = now
            transcript.dispatched_at = now + timedelta(seconds=countdown)
            transcript.heartbeat_at = None
            transcript.save()
            _changed_on_commit(transcript)
            _dispatch_on_commit(transcript.pk, countdown=countdown)
        else:
            transcript.status = TranscriptStatus.FAILED
            transcript.save()
            _changed_on_commit(transcript)
    return transcript


# --- the sweeper --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SweepResult:
    requeued_running: list[int]
    resent_queued: list[int]
    failed: list[int]


def requeue_orphans() -> SweepResult:
    """Jobs left ``running`` by a dead worker (heartbeat gone, or started longer ago than the time limit and a
    margin) are queued again, or failed once their attempts are used up; ``queued`` jobs whose message was
    sent long ago (lost: broker flushed or down, worker killed before acking) get another message. Rows
    another sweeper holds are skipped."""
    now = timezone.now()
    requeued: list[int] = []
    resent: list[int] = []
    failed: list[int] = []
    with transaction.atomic():
        dead = Q(started_at__isnull=True) | Q(started_at__lt=now - timedelta(seconds=overdue_after_s()))
        timeout = heartbeat_timeout_s()
        if timeout is not None:
            dead |= Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lt=now - timedelta(seconds=timeout))
        stale_running = Q(status=TranscriptStatus.RUNNING) & dead
        lost_queued = Q(status=TranscriptStatus.QUEUED, dispatched_at__lt=now - timedelta(seconds=lost_after_s()))
        candidates = Transcript.objects.select_for_update(skip_locked=True).filter(stale_running | lost_queued)
        for transcript in candidates.order_by("pk")[:500]:
            if transcript.status == TranscriptStatus.RUNNING:
                if transcript.attempts >= max_attempts():
                    _give_up(transcript, now, _stopped_message(transcript))
                    failed.append(transcript.pk)
                    continue
                transcript.status = TranscriptStatus.QUEUED
                transcript.error = (
                    f"The worker {transcript.worker or '(unknown)'} stopped during attempt {transcript.attempts} "
                    "(killed, out of memory or past the time limit); queued again."
                )
                transcript.queued_at = now
                transcript.heartbeat_at = None
                requeued.append(transcript.pk)
            else:
                resent.append(transcript.pk)
            transcript.dispatched_at = now
            transcript.save()
            if transcript.pk in requeued:
                _changed_on_commit(transcript)
            _dispatch_on_commit(transcript.pk)
    if requeued or resent or failed:
        logger.warning(
            "transcription sweep: re-queued %s (dead worker), re-sent %s (message lost), failed %s",
            requeued,
            resent,
            failed,
        )
    return SweepResult(requeued, resent, failed)


# --- corrections ----------------------------------------------------------------------------------------


class TooManyCorrections(Exception):
    """The transcript has had ``max_corrections()`` revisions: no more are kept (the caller says so, 400)."""


def max_corrections() -> int:
    """Revisions kept per transcript (whole text and lines together): each is a row, so the work is bounded."""
    return int(getattr(settings, "TRANSCRIPT_MAX_CORRECTIONS", 200))


def correct_transcript(*, transcript_id: int, author_id: int, text: str) -> TranscriptRevision:
    """A new version by this person (the caller checks who may); the machine text is kept and the transcript's
    text becomes this one. The same text as the current version adds nothing and returns the latest version.
    Past ``max_corrections()`` revisions: ``TooManyCorrections``."""
    cleaned = text.strip()
    if not cleaned:
        raise ValueError("a correction needs some text")
    with transaction.atomic():
        transcript = Transcript.objects.select_for_update().get(pk=transcript_id)
        latest = transcript.revisions.filter(segment=None).order_by("-number").first()
        if latest is not None and latest.text == cleaned:
            return latest
        revision = _revise(transcript, author_id, cleaned, segment=None)
        transcript.text = cleaned
        transcript.save(update_fields=["text", "updated_at"])
        _changed_on_commit(transcript)
    return revision


def correct_segment(*, transcript_id: int, index: int, author_id: int, text: str) -> TranscriptRevision | None:
    """A new version of one segment (a call's line; the caller checks who may). Its machine text is kept; the
    transcript's text becomes its segments' current texts joined. The segment's current text again adds nothing
    (None). ``LookupError`` when the transcript has no such segment; past ``max_corrections()``:
    ``TooManyCorrections``."""
    cleaned = text.strip()
    if not cleaned:
        raise ValueError("a correction needs some text")
    with transaction.atomic():
        transcript = Transcript.objects.select_for_update().get(pk=transcript_id)
        current = segment_texts(transcript)
        if index not in current:
            raise LookupError(f"transcript {transcript_id} has no segment {index}")
        if current[index] == cleaned:
            return None
        revision = _revise(transcript, author_id, cleaned, segment=index)
        transcript.text = _current_text(transcript)
        transcript.save(update_fields=["text", "updated_at"])
        _changed_on_commit(transcript)
    return revision


def segment_texts(transcript: Transcript) -> dict[int, str]:
    """Segment index -> its current text: the latest revision of that segment, or the machine's."""
    texts = {segment.index: segment.text for segment in transcript.segments.all()}
    revised = transcript.revisions.filter(segment__in=list(texts)).order_by("number")
    texts.update({index: text for index, text in revised.values_list("segment", "text") if index is not None})
    return texts


def _revise(transcript: Transcript, author_id: int, text: str, *, segment: int | None) -> TranscriptRevision:
    """The next revision (the transcript row is locked by the caller), within the cap."""
    count = transcript.revisions.count()
    if count >= max_corrections():
        raise TooManyCorrections(f"transcript {transcript.pk} has {count} corrections, the most kept")
    latest = transcript.revisions.order_by("-number").values_list("number", flat=True).first()
    return TranscriptRevision.objects.create(
        transcript=transcript, number=(latest or 0) + 1, author_id=author_id, text=text, segment=segment
    )


def _current_text(transcript: Transcript) -> str:
    """The latest whole-text revision; else the segments' current texts joined (the machine's where none)."""
    whole = transcript.revisions.filter(segment=None).order_by("-number").first()
    if whole is not None:
        return whole.text
    if not transcript.revisions.exists():
        return transcript.machine_text
    texts = segment_texts(transcript)
    return _joined(texts[index] for index in sorted(texts) if texts[index])


def transcript_for(source_kind: str, source_id: int) -> Transcript | None:
    return Transcript.objects.filter(source_kind=source_kind, source_id=source_id).first()


# --- helpers ------------------------------------------------------------------------------------------------


def _holding(claim: Claim) -> Transcript | None:
    return (
        Transcript.objects.select_for_update()
        .filter(pk=claim.transcript_id, status=TranscriptStatus.RUNNING, attempts=claim.attempt, worker=claim.worker)
        .first()
    )


def _ids(claim: Claim) -> tuple[int, int]:
    return claim.transcript_id, claim.attempt


def _worker_is_dead(transcript: Transcript, now: datetime) -> bool:
    if transcript.started_at is None or transcript.started_at < now - timedelta(seconds=overdue_after_s()):
        return True
    timeout = heartbeat_timeout_s()
    if timeout is None:
        return False
    return transcript.heartbeat_at is None or transcript.heartbeat_at < now - timedelta(seconds=timeout)


def _stopped_message(transcript: Transcript) -> str:
    return (
        f"Gave up after {transcript.attempts} attempts: the worker stopped each time (killed, out of memory or past "
        f"the {time_limit_s()} s time limit)." + (f" Last error: {transcript.error}" if transcript.error else "")
    )[:MAX_ERROR_CHARS]


def _give_up(transcript: Transcript, now: datetime, error: str) -> None:
    transcript.status = TranscriptStatus.FAILED
    transcript.error = error
    transcript.finished_at = now
    transcript.heartbeat_at = None
    transcript.save()
    _changed_on_commit(transcript)


def _joined(texts: Iterable[str]) -> str:
    """Segments joined as the engine gave them: Chinese needs no space between segments, Latin text does."""
    out = ""
    for part in texts:
        if out and out[-1].isascii() and part[0].isascii():
            out += " "
        out += part
    return out


def dispatch(transcript_id: int, countdown: int = 0) -> None:
    """Send the job's message now. Never raises: a broker down is logged and the sweeper sends it later."""
    from transcription.tasks import transcribe

    try:
        if settings.CELERY_TASK_ALWAYS_EAGER:
            # Last-resort mode without Redis: no worker exists, so the job runs here (after the commit).
            transcribe.apply(args=[transcript_id])
            return
        transcribe.apply_async(args=[transcript_id], countdown=countdown or None)
    except Exception:
        logger.warning("transcript %s: not sent to the queue now; the sweeper sends it", transcript_id, exc_info=True)


def _dispatch_on_commit(transcript_id: int, countdown: int = 0) -> None:
    transaction.on_commit(lambda: dispatch(transcript_id, countdown))


def _changed_on_commit(transcript: Transcript) -> None:
    kind, pk = transcript.source_kind, transcript.pk
    transaction.on_commit(lambda: _notify(kind, pk))


def _notify(kind: str, transcript_id: int) -> None:
    hooks = hooks_for(kind)
    if hooks is None:
        return
    transcript = Transcript.objects.filter(pk=transcript_id).first()
    if transcript is None:
        return
    try:
        hooks.on_change(transcript)
    except Exception:  # a hook's failure (channel layer down) never undoes or breaks the committed change
        logger.exception("transcript %s: the %s on_change hook failed", transcript_id, kind)
