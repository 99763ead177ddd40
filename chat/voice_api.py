"""JSON API of voice messages (chat/PROTOCOL.md, "Voice messages"): upload, playback with ranges, played,
transcripts (read, correct, retry) and transcript search.

Every URL asks ``consult.desk.access.can_read`` first (through ``chat.voice.readable_voice`` or the chat API's
``_readable``): a consultation the viewer may not read, or a clip in it they may not hear, is a 404.
"""

from __future__ import annotations

import re
from typing import IO, Any, cast

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from chat import services, voice
from chat.api import CONSULTATION_ID, MESSAGE_ID, MessageSerializer, _posted, _readable, _spend_send_budget, _validated
from chat.transcript_search import MAX_PAGE_SIZE, PER_PAGE, TranscriptHit, TranscriptSearch, search_transcripts
from consult.api.pagination import page_links
from consult.kernel.validators import TextField
from consult.models import User

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class VoiceInputSerializer(serializers.Serializer[Any]):
    client_id = serializers.CharField(max_length=services.CLIENT_ID_MAX, help_text="the sender's id: retry with it")
    file = serializers.FileField(help_text="a recording: WebM or Ogg with Opus, or MP4 with AAC; at most 60 s")


class CorrectionSerializer(serializers.Serializer[Any]):
    text = TextField(max_length=10_000, help_text="the corrected transcript")


class VoiceUploadView(APIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        parameters=[CONSULTATION_ID],
        request={"multipart/form-data": VoiceInputSerializer},
        responses={201: MessageSerializer, 200: MessageSerializer},
        summary="Send a voice message (201; 200 with the stored one for a retry of the same client_id)",
    )
    def post(self, request: Request, consultation_id: int) -> Response:
        _readable(request.user, consultation_id)
        data = _validated(VoiceInputSerializer(data=request.data))
        actor = cast(User, request.user)
        _spend_send_budget(actor, consultation_id, data["client_id"])
        upload = data["file"]
        message, created = voice.post_voice_message(
            actor=actor,
            consultation_id=consultation_id,
            client_id=data["client_id"],
            size=upload.size,
            stream=cast(IO[bytes], upload),
        )
        return _posted(message, created)


def ranged(data: bytes, range_header: str, content_type: str) -> HttpResponse:
    """The whole body (200) or one byte range of it (206; 416 when it lies outside), for seeking players."""
    size = len(data)
    match = _RANGE.match(range_header.strip()) if range_header else None
    if match is None or (not match[1] and not match[2]):
        response = HttpResponse(data, content_type=content_type)  # no range, or one we do not serve: the whole
    else:
        if match[1]:
            start = int(match[1])
            end = min(int(match[2]), size - 1) if match[2] else size - 1
        else:  # the last N bytes
            start, end = max(0, size - int(match[2])), size - 1
        if start >= size or end < start:
            response = HttpResponse(status=416)
            response["Content-Range"] = f"bytes */{size}"
            response["Accept-Ranges"] = "bytes"
            return response
        response = HttpResponse(data[start : end + 1], status=206, content_type=content_type)
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
    response["Accept-Ranges"] = "bytes"
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response


class VoicePlaybackView(APIView):
    @extend_schema(
        parameters=[CONSULTATION_ID, MESSAGE_ID],
        responses={(200, "audio/webm"): OpenApiTypes.BINARY, (206, "audio/webm"): OpenApiTypes.BINARY},
        summary="The clip of a voice message (HTTP ranges: 206 with Content-Range)",
    )
    def get(self, request: Request, consultation_id: int, message_id: int) -> HttpResponse:
        message = voice.readable_voice(request.user, consultation_id, message_id)
        with message.file.open("rb") as clip:
            data = clip.read()  # at most CHAT_VOICE_MAX_BYTES
        return ranged(data, request.headers.get("Range", ""), message.content_type)


class VoicePlayedView(APIView):
    @extend_schema(
        parameters=[CONSULTATION_ID, MESSAGE_ID],
        request=None,
        responses={204: None},
        summary="I have played this voice message (the other side's 未听 dot goes)",
    )
    def post(self, request: Request, consultation_id: int, message_id: int) -> Response:
        voice.mark_played(actor=cast(User, request.user), consultation_id=consultation_id, message_id=message_id)
        return Response(status=204)


class TranscriptView(APIView):
    @extend_schema(
        parameters=[CONSULTATION_ID, MESSAGE_ID],
        responses=OpenApiTypes.OBJECT,
        summary="A voice message's transcript: status, text, segments, machine text and every version",
    )
    def get(self, request: Request, consultation_id: int, message_id: int) -> Response:
        return Response(voice.transcript_detail(request.user, consultation_id, message_id))

    @extend_schema(
        parameters=[CONSULTATION_ID, MESSAGE_ID],
        request=CorrectionSerializer,
        responses=OpenApiTypes.OBJECT,
        summary="Correct the transcript (the deputy, the expert answering, the office); the machine text is kept",
    )
    def post(self, request: Request, consultation_id: int, message_id: int) -> Response:
        data = _validated(CorrectionSerializer(data=request.data))
        actor = cast(User, request.user)
        found = voice.correct_transcript(
            actor=actor, consultation_id=consultation_id, message_id=message_id, text=data["text"]
        )
        return Response(found)


class TranscriptRetryView(APIView):
    @extend_schema(
        parameters=[CONSULTATION_ID, MESSAGE_ID],
        request=None,
        responses=OpenApiTypes.OBJECT,
        summary="Transcribe a failed voice message again (the office)",
    )
    def post(self, request: Request, consultation_id: int, message_id: int) -> Response:
        actor = cast(User, request.user)
        return Response(voice.retry_transcript(actor=actor, consultation_id=consultation_id, message_id=message_id))


# --- search ---------------------------------------------------------------------------------------------------


class TranscriptHitSerializer(serializers.Serializer[TranscriptHit]):
    id = serializers.IntegerField(source="transcript.pk")
    kind = serializers.CharField(help_text="voice: a voice message; call: one speaker's track of a call")
    message = serializers.IntegerField(source="message.pk", allow_null=True, help_text="the voice message")
    call = serializers.IntegerField(source="said.track.call_id", allow_null=True, help_text="the call")
    track = serializers.IntegerField(source="said.track.pk", allow_null=True, help_text="the speaker's track")
    consultation = serializers.IntegerField(source="said.consultation.pk")
    topic = serializers.CharField(source="said.consultation.topic")
    bureau = serializers.CharField(source="said.consultation.bureau.name")
    sender_name = serializers.CharField(source="said.speaker_name", help_text="who said it")
    speaker_role = serializers.CharField(source="said.speaker_role", help_text="a call's: deputy or expert")
    created_at = serializers.DateTimeField(source="said.at", help_text="when the message was sent, the call began")
    start = serializers.FloatField(help_text="seconds into the clip (or the call) where the first match starts")
    highlights = serializers.DictField(
        child=serializers.CharField(), help_text="body -> HTML-escaped snippet, matches wrapped in <mark>"
    )
    url = serializers.CharField(help_text="the room opening the clip at `start`, or the call's replay at `start`")


def clip_url(hit: TranscriptHit) -> str:
    return hit.url


class TranscriptSearchSerializer(serializers.Serializer[TranscriptSearch]):
    """The one page shape (``consult.api.pagination``), with ``degraded`` beside ``results``."""

    count = serializers.IntegerField(source="total")
    next = serializers.SerializerMethodField()
    previous = serializers.SerializerMethodField()
    degraded = serializers.BooleanField(help_text="the search engine was down: plain matching in the database")
    results = TranscriptHitSerializer(source="hits", many=True)

    @extend_schema_field({"type": "string", "format": "uri", "nullable": True})
    def get_next(self, found: TranscriptSearch) -> str | None:
        return cast(str | None, self.context["links"]["next"])

    @extend_schema_field({"type": "string", "format": "uri", "nullable": True})
    def get_previous(self, found: TranscriptSearch) -> str | None:
        return cast(str | None, self.context["links"]["previous"])


def _parameter(name: str, kind: Any, description: str) -> OpenApiParameter:
    return OpenApiParameter(name, kind, OpenApiParameter.QUERY, description=description)


class TranscriptSearchView(APIView):
    @extend_schema(
        parameters=[
            _parameter("q", str, "words or a phrase in quotes; empty: the newest transcripts"),
            _parameter("consultation", int, "only this consultation"),
            _parameter("bureau", int, "only consultations with this bureau"),
            _parameter("page", int, "from 1"),
            _parameter("page_size", int, f"transcripts a page, 1 to {MAX_PAGE_SIZE}, default {PER_PAGE}"),
        ],
        responses=TranscriptSearchSerializer,
        summary="Search the transcripts of voice messages and calls the viewer may hear",
    )
    def get(self, request: Request) -> Response:
        found = search_transcripts(request.user, request.query_params)
        links = page_links(request, found.page, found.num_pages)
        return Response(TranscriptSearchSerializer(found, context={"links": links}).data)
