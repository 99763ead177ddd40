"""A call's transcript as people read and correct it: the merged lines with their current text, each line's
versions, and corrections of one line (通话转写的更正), as voice clips' transcripts are corrected.

The machine's lines come from ``chat.calls.call_transcript`` (every track's segments on the call's timeline, naming
the speaker); a line is one segment of one track, and its correction is a revision of that segment
(``transcription.services.correct_segment``): the machine text is kept, every version is listed (who, when), and
the track's transcript text (what search indexes) becomes its lines' current texts.

Who corrects: the same rule as voice clips (``chat.voice.may_correct``): the deputy and the expert answering now,
and the office; everyone else who reads the consultation reads the versions. A speaker who no longer writes in the
consultation (an expert it was transferred away from) reads but does not correct: one rule for clips and calls
(decision 0015). Corrections are capped per track (``TRANSCRIPT_MAX_CORRECTIONS``).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.utils.translation import gettext as _

from chat import calls
from chat.models import Call, CallTrack
from chat.voice import may_correct, too_many_corrections
from consult.kernel.exceptions import InvalidInput, InvalidTransition, NotAllowed
from consult.models import User
from consult.people.selectors import Viewer
from search.indexing import queue_change
from transcription import services as transcription
from transcription.models import Transcript, TranscriptRevision, TranscriptStatus

LINE_MAX_CHARS = 2000


def merged_transcript(call: Call) -> dict[str, Any]:
    """The merged transcript with each line's current text (``chat.calls.call_transcript``)."""
    return calls.call_transcript(call)


def transcript_detail(viewer: Viewer, consultation_id: int, call_id: int) -> dict[str, Any]:
    """The merged transcript, every line's versions (who, when), and whether the viewer corrects."""
    call = calls.readable_call(viewer, consultation_id, call_id)
    merged = merged_transcript(call)
    versions: dict[tuple[int, int], list[dict[str, Any]]] = defaultdict(list)
    track_of = {line["transcript"]: line["track"] for line in merged["lines"]}
    revisions = (
        TranscriptRevision.objects.filter(transcript_id__in=list(track_of), segment__isnull=False)
        .select_related("author")
        .order_by("number")
    )
    for revision in revisions:
        versions[(track_of[revision.transcript_id], int(revision.segment or 0))].append(
            {
                "number": revision.number,
                "text": revision.text,
                "author": revision.author_id,
                "author_name": revision.author.get_full_name() or revision.author.get_username(),
                "created_at": revision.created_at.isoformat(),
            }
        )
    for line in merged["lines"]:
        line["versions"] = versions.get((line["track"], line["index"]), [])
    merged["can_correct"] = may_correct(viewer, call.consultation)
    merged["max_corrections"] = transcription.max_corrections()
    return merged


def correct_line(
    *, actor: User, consultation_id: int, call_id: int, track_id: int, index: int, text: str
) -> dict[str, Any]:
    """A new version of one line (one track's segment); its machine text is kept. Returns the detail."""
    call = calls.readable_call(actor, consultation_id, call_id)
    if not may_correct(actor, call.consultation):
        raise NotAllowed(_("only the people in the consultation and the office correct transcripts"))
    if not CallTrack.objects.filter(pk=track_id, call=call).exists():
        raise InvalidInput(_("this call has no such track"), field="track")
    transcript = transcription.transcript_for(calls.SOURCE_KIND, track_id)
    if transcript is None or transcript.status != TranscriptStatus.DONE:
        raise InvalidTransition(_("the transcript is not ready yet"), code="transcript_not_ready")
    try:
        transcription.correct_segment(transcript_id=transcript.pk, index=index, author_id=actor.pk, text=text)
    except LookupError as missing:
        raise InvalidInput(_("this track has no such line"), field="index") from missing
    except ValueError as empty:
        raise InvalidInput(_("a correction needs some text"), field="text") from empty
    except transcription.TooManyCorrections as full:
        raise too_many_corrections() from full
    return transcript_detail(actor, consultation_id, call_id)


def track_changed(transcript: Transcript) -> None:
    """``SourceHooks.on_change`` of ``chat.call-track``: the thread's call card re-reads it (``chat.calls``), and
    the track's transcript is indexed again (search: the ``transcript`` documents)."""
    calls.track_changed(transcript)
    queue_change("transcript", transcript.pk)
