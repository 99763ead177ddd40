"""JSON API of a call's transcript (chat/PROTOCOL.md, "Calls"): the merged transcript with every line's versions,
and the correction of one line. Every URL asks ``chat.calls.readable_call`` first: a call of a consultation the
viewer may not read is a 404.
"""

from __future__ import annotations

from typing import Any, cast

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from chat import call_transcripts, calls
from chat.api import CONSULTATION_ID, _validated
from chat.models import RecordingAccessKind
from consult.kernel.validators import TextField
from consult.models import User

CALL_ID = OpenApiParameter("call_id", int, OpenApiParameter.PATH)


class LineCorrectionSerializer(serializers.Serializer[Any]):
    track = serializers.IntegerField(min_value=1, max_value=2**63 - 1, help_text="the line's track (speaker)")
    index = serializers.IntegerField(min_value=0, max_value=1_000_000, help_text="the line's segment in its track")
    text = TextField(max_length=call_transcripts.LINE_MAX_CHARS, help_text="the corrected line")


class CallTranscriptView(APIView):
    @extend_schema(
        parameters=[CONSULTATION_ID, CALL_ID],
        responses=OpenApiTypes.OBJECT,
        summary="A call's merged transcript: tracks, lines (speaker, times, text, machine text, versions)",
    )
    def get(self, request: Request, consultation_id: int, call_id: int) -> Response:
        detail = call_transcripts.transcript_detail(request.user, consultation_id, call_id)
        address = str(request.META.get("REMOTE_ADDR", ""))
        calls.audit_access(viewer=request.user, call_id=call_id, kind=RecordingAccessKind.TRANSCRIPT, address=address)
        return Response(detail)

    @extend_schema(
        parameters=[CONSULTATION_ID, CALL_ID],
        request=LineCorrectionSerializer,
        responses=OpenApiTypes.OBJECT,
        summary="Correct one line of a call's transcript (the deputy, the expert answering, the office)",
    )
    def post(self, request: Request, consultation_id: int, call_id: int) -> Response:
        data = _validated(LineCorrectionSerializer(data=request.data))
        found = call_transcripts.correct_line(
            actor=cast(User, request.user),
            consultation_id=consultation_id,
            call_id=call_id,
            track_id=data["track"],
            index=data["index"],
            text=data["text"],
        )
        return Response(found)
