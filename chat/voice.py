"""Voice messages (语音消息): posting a clip, who played it, and its transcript (the transcription app's job).

A clip is checked by its content (``chat.voice_check``), stored like chat files (``Message.file``, the default
storage under ``MEDIA_ROOT``), numbered and broadcast like any message, and then handed to the transcription app
(``transcription.services.request_transcript(source_kind="chat.voice", source_id=<message id>)``). The transcript
comes back to the thread as the chat event ``transcript`` (``chat.apps`` registers :func:`transcript_changed`).

Who may do what (``consult.desk.access``): everyone who reads the consultation plays a clip and reads its
transcript; the deputy and the expert answering now (``can_post``) post clips, mark them played and correct
transcripts; the office corrects transcripts too and is the only one to retry a failed transcription.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import IO, Any

from django.core.files import File
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from chat.live_events import CONSULTATION_MESSAGE, MESSAGE, PLAYED, TRANSCRIPT
from chat.models import Message, MessageKind, VoicePlay
from chat.services import _clean_client_id, _next_seq, require_open, stored_message
from consult.desk.access import can_post, can_read
from consult.kernel.exceptions import InvalidInput, InvalidTransition, NotAllowed, NotFound
from consult.models import Consultation, User
from consult.people.selectors import Viewer, is_office
from consult.realtime.catalogue import publish
from search.indexing import queue_change
from transcription import services as transcription
from transcription.models import Transcript, TranscriptRevision, TranscriptStatus

SOURCE_KIND = "chat.voice"
logger = logging.getLogger(__name__)


# --- posting ------------------------------------------------------------------------------------------------


def post_voice_message(
    *, actor: User, consultation_id: int, client_id: str, size: int, stream: IO[bytes]
) -> tuple[Message, bool]:
    """Store a voice clip as a message, broadcast it and ask for its transcript; returns (message, created).

    Idempotent by ``client_id`` like text: a retry answers with the stored message and stores nothing (the
    upload is not even checked). Refused uploads (``chat.voice_check``) leave nothing behind: the file is written
    only after the checks, and removed again if the message is then refused.
    """
    from chat.voice_check import check_voice

    client_id = _clean_client_id(client_id)
    existing = stored_message(consultation_id, actor, client_id)
    if existing is not None:
        return existing, False
    require_open(actor, Consultation.objects.select_related("expert").filter(pk=consultation_id).first())
    facts = check_voice(stream, size)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    name = f"voice-{stamp}{facts.extension}"
    message = Message(
        sender=actor,
        client_id=client_id,
        kind=MessageKind.VOICE,
        file_name=name,
        file_size=size,
        content_type=facts.content_type,
        duration=facts.duration,
        levels=facts.levels,
    )
    message.file.save(name, File(stream), save=False)
    try:
        with transaction.atomic():
            consultation, seq = _next_seq(consultation_id)
            require_open(actor, consultation)
            message.consultation, message.seq = consultation, seq
            message.save()
            transcription.request_transcript(
                source_kind=SOURCE_KIND, source_id=message.pk, audio=str(message.file.name)
            )
            publish(MESSAGE, consultation_id, {"message": voice_payload_of(message)})
            publish(CONSULTATION_MESSAGE, consultation_id, {"seq": seq, "sender": actor.pk})
    except IntegrityError:
        message.file.delete(save=False)
        existing = stored_message(consultation_id, actor, client_id)
        if existing is None:
            raise
        return existing, False
    except BaseException:
        message.file.delete(save=False)
        raise
    return message, True


def voice_payload_of(message: Message) -> dict[str, Any]:
    from chat.selectors import message_payload

    return message_payload(message)


# --- reading ------------------------------------------------------------------------------------------------


def readable_voice(viewer: Viewer, consultation_id: int, message_id: int) -> Message:
    """A voice message the viewer may play; 404 otherwise (deleted clips included)."""
    message = (
        Message.objects.select_related("consultation__expert")
        .filter(pk=message_id, consultation_id=consultation_id, kind=MessageKind.VOICE, deleted_at=None)
        .first()
    )
    if message is None or not message.file or not can_read(viewer, message.consultation):
        raise NotFound(_("no such message"))
    return message


def transcripts_of(message_ids: Iterable[int]) -> dict[int, Transcript]:
    """Message id -> its transcript (with segments), in two queries."""
    ids = list(message_ids)
    if not ids:
        return {}
    rows = Transcript.objects.filter(source_kind=SOURCE_KIND, source_id__in=ids).prefetch_related("segments")
    return {int(row.source_id): row for row in rows}


def plays_of(message_ids: Iterable[int]) -> dict[int, list[int]]:
    """Message id -> the users who have played it."""
    found: dict[int, list[int]] = {}
    for message_id, user_id in VoicePlay.objects.filter(message_id__in=list(message_ids)).values_list(
        "message_id", "user_id"
    ):
        found.setdefault(message_id, []).append(user_id)
    return found


def transcript_payload(transcript: Transcript | None) -> dict[str, Any] | None:
    """The transcript as the thread shows it (also the ``transcript`` event's fields, without ``message_id``)."""
    if transcript is None:
        return None
    done = transcript.status == TranscriptStatus.DONE
    segments = list(transcript.segments.all()) if done else []
    return {
        "id": transcript.pk,
        "status": transcript.status,
        "text": transcript.text if done else "",
        "corrected": done and transcript.text != transcript.machine_text,
        "segments": [{"start": round(s.start, 2), "end": round(s.end, 2), "text": s.text} for s in segments],
    }


def transcript_detail(viewer: Viewer, consultation_id: int, message_id: int) -> dict[str, Any]:
    """The transcript with its machine text and every version (who, when)."""
    message = readable_voice(viewer, consultation_id, message_id)
    transcript = transcripts_of([message.pk]).get(message.pk)
    payload = transcript_payload(transcript) or {"status": None, "text": "", "segments": []}
    payload["message_id"] = message.pk
    payload["machine_text"] = transcript.machine_text if transcript is not None else ""
    payload["error"] = transcript.error if transcript is not None and is_office(viewer) else ""
    revisions = (
        TranscriptRevision.objects.filter(transcript=transcript).select_related("author").order_by("number")
        if transcript is not None
        else []
    )
    payload["versions"] = [
        {
            "number": revision.number,
            "text": revision.text,
            "author": revision.author_id,
            "author_name": getattr(revision.author, "full_name", "") or revision.author.get_username(),
            "created_at": revision.created_at.isoformat(),
        }
        for revision in revisions
    ]
    payload["can_correct"] = may_correct(viewer, message.consultation)
    payload["can_retry"] = is_office(viewer)
    return payload


# --- played ------------------------------------------------------------------------------------------------


@transaction.atomic
def mark_played(*, actor: User, consultation_id: int, message_id: int) -> bool:
    """The actor played the clip; True when that is news (then everyone hears ``played``).

    Kept for the people who write in the consultation (the other side's 未听 dot); a reader from the office
    playing it changes nothing, and neither does the sender playing their own clip.
    """
    message = readable_voice(actor, consultation_id, message_id)
    if message.sender_id == actor.pk or not can_post(actor, message.consultation):
        return False
    _play, created = VoicePlay.objects.get_or_create(message=message, user=actor)
    if created:
        publish(PLAYED, consultation_id, {"message_id": message.pk, "user": actor.pk})
    return created


# --- transcripts: corrections and retries ------------------------------------------------------------------


def may_correct(viewer: Viewer, consultation: Consultation) -> bool:
    return can_post(viewer, consultation) or is_office(viewer)


def correct_transcript(*, actor: User, consultation_id: int, message_id: int, text: str) -> dict[str, Any]:
    message = readable_voice(actor, consultation_id, message_id)
    if not may_correct(actor, message.consultation):
        raise NotAllowed(_("only the people in the consultation and the office correct transcripts"))
    transcript = transcripts_of([message.pk]).get(message.pk)
    if transcript is None or transcript.status != TranscriptStatus.DONE:
        raise InvalidTransition(_("the transcript is not ready yet"), code="transcript_not_ready")
    try:
        transcription.correct_transcript(transcript_id=transcript.pk, author_id=actor.pk, text=text)
    except transcription.TooManyCorrections as full:
        raise too_many_corrections() from full
    return transcript_detail(actor, consultation_id, message_id)


def too_many_corrections() -> InvalidInput:
    """The cap of ``transcription.services.max_corrections`` reached: a 400 naming ``text``."""
    message = _("this transcript has had %(count)s corrections, the most kept; ask the office") % {
        "count": transcription.max_corrections()
    }
    return InvalidInput(message, field="text", code="too_many_corrections")


def retry_transcript(*, actor: User, consultation_id: int, message_id: int) -> dict[str, Any]:
    message = readable_voice(actor, consultation_id, message_id)
    if not is_office(actor):
        raise NotAllowed(_("only the office retries a transcription"))
    transcript = transcripts_of([message.pk]).get(message.pk)
    if transcript is None:  # never asked (the transcription app was down): ask now
        transcription.request_transcript(source_kind=SOURCE_KIND, source_id=message.pk, audio=str(message.file.name))
    elif transcript.status != TranscriptStatus.FAILED:
        raise InvalidTransition(_("only a failed transcription is retried"), code="transcript_not_failed")
    else:
        transcription.retry_transcript(transcript_id=transcript.pk)
    return transcript_detail(actor, consultation_id, message_id)


# --- the transcription app's hook ---------------------------------------------------------------------------


def transcript_changed(transcript: Transcript) -> None:
    """``SourceHooks.on_change`` of ``"chat.voice"``: tell the thread, and re-index the transcript."""
    message = Message.objects.filter(pk=transcript.source_id).values_list("consultation_id", flat=True).first()
    if message is None:
        return
    fresh = Transcript.objects.prefetch_related("segments").filter(pk=transcript.pk).first() or transcript
    payload = transcript_payload(fresh) or {}
    publish(TRANSCRIPT, message, {"message_id": int(transcript.source_id), **payload})
    queue_change("transcript", transcript.pk)
