"""JSON API of the chat: the same messages as the socket (``chat/PROTOCOL.md``), for history, posting and files.

Every URL goes through ``consult.desk.access.can_read`` first: a consultation the viewer may not read is a 404.
Messages are the one shape of ``chat.selectors.message_payload``; a page of history is the socket's
``messages`` frame without ``v`` and ``type``. Posting is idempotent by ``client_id`` (201 when new, 200 for a
retry of a stored message) and shares the socket's per-user send budget.
"""

from __future__ import annotations

from typing import IO, Any, cast

from django.http import FileResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from chat import selectors, services
from chat.models import Message, MessageKind
from consult.desk import access
from consult.kernel.exceptions import NotFound
from consult.models import Consultation, User
from consult.people.selectors import Viewer

PAGE = 200
CONSULTATION_ID = OpenApiParameter("consultation_id", int, OpenApiParameter.PATH)
MESSAGE_ID = OpenApiParameter("message_id", int, OpenApiParameter.PATH)


# --- shapes -----------------------------------------------------------------------------


class MessageFileSerializer(serializers.Serializer[Any]):
    name = serializers.CharField()
    size = serializers.IntegerField()
    content_type = serializers.CharField()


class MessageSerializer(serializers.Serializer[Any]):
    """``chat.selectors.message_payload``, documented (the views return the payload itself)."""

    seq = serializers.IntegerField(help_text="number in the consultation: 1, 2, 3 … without gaps")
    id = serializers.IntegerField(help_text="for edit, delete and file downloads")
    kind = serializers.ChoiceField(choices=MessageKind.choices)
    sender = serializers.IntegerField(allow_null=True, help_text="user id; null for system lines")
    sender_name = serializers.CharField()
    client_id = serializers.CharField(help_text="the sender's id for the message; empty for system lines")
    body = serializers.CharField(help_text="empty once deleted, and for files")
    created_at = serializers.DateTimeField()
    edited = serializers.BooleanField()
    deleted = serializers.BooleanField()
    file = MessageFileSerializer(required=False, help_text="file and image messages, unless deleted")


class MessagePageSerializer(serializers.Serializer[Any]):
    items = MessageSerializer(many=True)
    more = serializers.BooleanField(help_text="more messages follow: ask again with after = the last item's seq")
    last_seq = serializers.IntegerField(help_text="the consultation's highest number now")


class HistoryQuerySerializer(serializers.Serializer[Any]):
    after = serializers.IntegerField(required=False, default=0, min_value=0, help_text="messages after this seq")
    limit = serializers.IntegerField(required=False, default=PAGE, min_value=1, max_value=PAGE)


class PostInputSerializer(serializers.Serializer[Any]):
    client_id = serializers.CharField(max_length=services.CLIENT_ID_MAX, help_text="the sender's id: retry with it")
    body = serializers.CharField(max_length=services.MAX_BODY_CHARS)


class FileInputSerializer(serializers.Serializer[Any]):
    client_id = serializers.CharField(max_length=services.CLIENT_ID_MAX, help_text="the sender's id: retry with it")
    file = serializers.FileField(help_text="PDF, Word, Excel, text ≤ 10 MiB; PNG or JPEG images ≤ 5 MiB")


# --- scope and budget ----------------------------------------------------------------------


def _readable(user: Viewer, consultation_id: int) -> Consultation:
    consultation = Consultation.objects.select_related("expert").filter(pk=consultation_id).first()
    if consultation is None or not access.can_read(user, consultation):
        raise NotFound(_("no such consultation"))
    return consultation


def _spend_send_budget(actor: User, consultation_id: int, client_id: str) -> None:
    """The socket's budget too (one counter per user), so REST is no way around it. A retry of a stored
    ``client_id`` is never refused: the service answers it with the stored message (200)."""
    if services.send_rate_wait(actor.pk) and services.stored_message(consultation_id, actor, client_id) is None:
        raise services.RateLimited(_("too many messages; slow down"))


def _validated(serializer: serializers.Serializer[Any]) -> dict[str, Any]:
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _posted(message: Message, created: bool) -> Response:
    return Response(selectors.message_payload(message), status=201 if created else 200)


# --- views ----------------------------------------------------------------------------------


class MessagesView(APIView):
    @extend_schema(
        parameters=[CONSULTATION_ID, HistoryQuerySerializer],
        responses=MessagePageSerializer,
        summary="Messages after a number (the socket's sync)",
    )
    def get(self, request: Request, consultation_id: int) -> Response:
        consultation = _readable(request.user, consultation_id)
        query = _validated(HistoryQuerySerializer(data=request.query_params))
        found = list(selectors.messages_after(consultation, query["after"], query["limit"] + 1))
        items = selectors.message_payloads(found[: query["limit"]])
        return Response({"items": items, "more": len(found) > query["limit"], "last_seq": consultation.last_seq})

    @extend_schema(
        parameters=[CONSULTATION_ID],
        request=PostInputSerializer,
        responses={201: MessageSerializer, 200: MessageSerializer},
        summary="Send a message (201; 200 with the stored one for a retry of the same client_id)",
    )
    def post(self, request: Request, consultation_id: int) -> Response:
        _readable(request.user, consultation_id)
        data = _validated(PostInputSerializer(data=request.data))
        actor = cast(User, request.user)
        _spend_send_budget(actor, consultation_id, data["client_id"])
        message, created = services.post_message(actor=actor, consultation_id=consultation_id, **data)
        return _posted(message, created)


class FilesView(APIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        parameters=[CONSULTATION_ID],
        request={"multipart/form-data": FileInputSerializer},
        responses={201: MessageSerializer, 200: MessageSerializer},
        summary="Send a file or an image (201; 200 with the stored one for a retry of the same client_id)",
    )
    def post(self, request: Request, consultation_id: int) -> Response:
        _readable(request.user, consultation_id)
        data = _validated(FileInputSerializer(data=request.data))
        actor = cast(User, request.user)
        _spend_send_budget(actor, consultation_id, data["client_id"])
        upload = data["file"]
        message, created = services.post_file_message(
            actor=actor,
            consultation_id=consultation_id,
            client_id=data["client_id"],
            name=upload.name,
            size=upload.size,
            stream=cast(IO[bytes], upload),
        )
        return _posted(message, created)


class FileDownloadView(APIView):
    @extend_schema(
        parameters=[CONSULTATION_ID, MESSAGE_ID],
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY},
        summary="Download the file of a message (images inline)",
    )
    def get(self, request: Request, consultation_id: int, message_id: int) -> FileResponse:
        consultation = _readable(request.user, consultation_id)
        message = Message.objects.filter(
            consultation=consultation,
            pk=message_id,
            kind__in=[MessageKind.FILE, MessageKind.IMAGE],
            deleted_at__isnull=True,
        ).first()
        if message is None or not message.file:
            raise NotFound(_("no such message"))
        return FileResponse(
            message.file.open("rb"),
            as_attachment=message.kind != MessageKind.IMAGE,
            filename=message.file_name,
            content_type=message.content_type,
        )
