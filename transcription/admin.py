"""Read-only admin for transcripts (the job record), with a retry action for failed ones."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from transcription import services
from transcription.models import Transcript, TranscriptRevision, TranscriptSegment, TranscriptStatus


class _ReadOnly:
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class SegmentInline(_ReadOnly, admin.TabularInline[TranscriptSegment, Transcript]):
    model = TranscriptSegment
    fields = readonly_fields = ("index", "start", "end", "text", "confidence")
    extra = 0


class RevisionInline(_ReadOnly, admin.TabularInline[TranscriptRevision, Transcript]):
    model = TranscriptRevision
    fields = readonly_fields = ("number", "author", "created_at", "text")
    extra = 0


@admin.register(Transcript)
class TranscriptAdmin(_ReadOnly, admin.ModelAdmin[Transcript]):
    list_display = [
        "id",
        "source_kind",
        "source_id",
        "status",
        "attempts",
        "engine",
        "model",
        "duration_s",
        "processing_s",
        "queued_at",
        "worker",
        "short_error",
    ]
    list_filter = ["status", "source_kind", "engine"]
    search_fields = ["text", "machine_text", "error", "worker"]
    date_hierarchy = "queued_at"
    readonly_fields = [field.name for field in Transcript._meta.fields]
    inlines = [SegmentInline, RevisionInline]
    actions = ["retry"]

    @admin.display(description=gettext_lazy("error"))
    def short_error(self, transcript: Transcript) -> str:
        return transcript.error[:80] + ("…" if len(transcript.error) > 80 else "")

    def has_retry_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("transcription.change_transcript")

    @admin.action(description=gettext_lazy("Retry the failed transcripts"), permissions=["retry"])
    def retry(self, request: HttpRequest, queryset: QuerySet[Transcript]) -> None:
        failed = list(queryset.filter(status=TranscriptStatus.FAILED).values_list("pk", flat=True))
        for transcript_id in failed:
            services.retry_transcript(transcript_id=transcript_id)
        skipped = queryset.count() - len(failed)
        self.message_user(request, _("%(n)d queued again.") % {"n": len(failed)}, messages.SUCCESS)
        if skipped:
            self.message_user(request, _("%(n)d not failed, left as they are.") % {"n": skipped}, messages.WARNING)
