"""Transcripts: the record of every transcription job, its segments and its human corrections.

A ``Transcript`` row is the job: the Celery message carries only its id, so a lost message, a killed worker
or a redelivery never loses or duplicates work (``transcription.services``). Domain apps point at what a
recording belongs to with ``source_kind`` + ``source_id`` (``"chat.voice"``, message id): this app imports no
domain app.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class TranscriptStatus(models.TextChoices):
    QUEUED = "queued", _("queued")
    RUNNING = "running", _("transcribing")
    DONE = "done", _("done")
    FAILED = "failed", _("failed")


class Transcript(models.Model):
    source_kind = models.CharField(_("source kind"), max_length=40)
    source_id = models.BigIntegerField(_("source id"))
    audio = models.CharField(_("audio"), max_length=500, help_text=_("storage name of the recording"))
    language = models.CharField(_("language"), max_length=16, default="zh")

    status = models.CharField(
        _("status"), max_length=16, choices=TranscriptStatus.choices, default=TranscriptStatus.QUEUED
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    error = models.TextField(_("error"), blank=True)
    engine = models.CharField(_("engine"), max_length=40, blank=True)
    model = models.CharField(_("model"), max_length=200, blank=True)
    duration_s = models.FloatField(_("audio duration (s)"), null=True, blank=True)

    queued_at = models.DateTimeField(_("queued at"))
    #: when the last Celery message for this job was sent, or is due (a retry's countdown): the sweeper sends
    #: another when a queued job is still waiting long after this
    dispatched_at = models.DateTimeField(_("dispatched at"))
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("worker heartbeat"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    processing_s = models.FloatField(_("processing time (s)"), null=True, blank=True)
    worker = models.CharField(_("worker"), max_length=200, blank=True, help_text=_("hostname:pid"))

    machine_text = models.TextField(_("machine text"), blank=True)
    text = models.TextField(_("text"), blank=True, help_text=_("the latest correction, or the machine text"))
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("transcript")
        verbose_name_plural = _("transcripts")
        constraints = [
            models.UniqueConstraint(fields=["source_kind", "source_id"], name="transcript_one_per_source"),
            models.CheckConstraint(
                condition=models.Q(status__in=TranscriptStatus.values), name="transcript_status_known"
            ),
        ]
        indexes = [models.Index(fields=["status", "dispatched_at"], name="transcript_status_due")]

    def __str__(self) -> str:
        return f"{self.source_kind}:{self.source_id} ({self.status})"


class TranscriptSegment(models.Model):
    transcript = models.ForeignKey(Transcript, on_delete=models.CASCADE, related_name="segments")
    index = models.PositiveIntegerField(_("index"))
    start = models.FloatField(_("start (s)"))
    end = models.FloatField(_("end (s)"))
    text = models.TextField(_("text"))
    confidence = models.FloatField(_("confidence"))

    class Meta:
        verbose_name = _("transcript segment")
        verbose_name_plural = _("transcript segments")
        ordering = ["transcript", "index"]
        constraints = [models.UniqueConstraint(fields=["transcript", "index"], name="transcript_segment_unique")]

    def __str__(self) -> str:
        return f"[{self.start:.1f}–{self.end:.1f}] {self.text}"


class TranscriptRevision(models.Model):
    """A human correction. The machine text stays on the transcript (and on its segments).

    A whole-text revision (``segment`` None, voice clips) makes the transcript's text; a segment's revision
    (calls: one line of the merged transcript) makes that segment's current text, and the transcript's text is
    then its segments' current texts joined. ``number`` counts every revision of the transcript."""

    transcript = models.ForeignKey(Transcript, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField(_("version"))  # 1, 2, … (the machine text is version 0)
    #: the segment (by ``index``) this revision corrects; None: the whole text (a voice clip's correction)
    segment = models.PositiveIntegerField(_("segment"), null=True, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("author")
    )
    text = models.TextField(_("text"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("transcript revision")
        verbose_name_plural = _("transcript revisions")
        ordering = ["transcript", "number"]
        constraints = [models.UniqueConstraint(fields=["transcript", "number"], name="transcript_revision_unique")]

    def __str__(self) -> str:
        return f"{self.transcript_id} v{self.number}"
