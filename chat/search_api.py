"""JSON API of consultation-history search (咨询记录): a thin view over ``chat.searching``.

A deputy finds lines of their own consultations, an expert those they answer or answered, the office all;
each hit links to its consultation room. Engine down: answered from the database, marked ``degraded``.
"""

from __future__ import annotations

from typing import Any, cast

from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from chat.searching import MAX_PAGE_SIZE, PER_PAGE, MessageHit, MessageSearch, search_messages
from consult.api.pagination import page_links


class MessageHitSerializer(serializers.Serializer[MessageHit]):
    id = serializers.IntegerField(source="message.pk")
    consultation = serializers.IntegerField(source="message.consultation_id")
    topic = serializers.CharField(source="message.consultation.topic")
    bureau = serializers.CharField(source="message.consultation.bureau.name")
    sender_name = serializers.SerializerMethodField(help_text="empty for system lines")
    created_at = serializers.DateTimeField(source="message.created_at")
    highlights = serializers.DictField(
        child=serializers.CharField(), help_text="body -> HTML-escaped snippet, matches wrapped in <mark>"
    )
    url = serializers.SerializerMethodField(help_text="the consultation room")

    def get_sender_name(self, hit: MessageHit) -> str:
        sender = hit.message.sender
        return sender.get_full_name() if sender is not None else ""

    def get_url(self, hit: MessageHit) -> str:
        return reverse("desk-room", args=[hit.message.consultation_id])


class MessageSearchSerializer(serializers.Serializer[MessageSearch]):
    """The one page shape (``consult.api.pagination``), with ``degraded`` beside ``results``.

    ``context["links"]``: ``next`` and ``previous``.
    """

    count = serializers.IntegerField(source="total")
    next = serializers.SerializerMethodField()
    previous = serializers.SerializerMethodField()
    degraded = serializers.BooleanField(help_text="the search engine was down: plain matching in the database")
    results = MessageHitSerializer(source="hits", many=True)

    @extend_schema_field({"type": "string", "format": "uri", "nullable": True})
    def get_next(self, found: MessageSearch) -> str | None:
        return cast(str | None, self.context["links"]["next"])

    @extend_schema_field({"type": "string", "format": "uri", "nullable": True})
    def get_previous(self, found: MessageSearch) -> str | None:
        return cast(str | None, self.context["links"]["previous"])


def _parameter(name: str, kind: Any, description: str) -> OpenApiParameter:
    return OpenApiParameter(name, kind, OpenApiParameter.QUERY, description=description)


class MessageSearchView(APIView):
    @extend_schema(
        parameters=[
            _parameter("q", str, "words or a phrase in quotes; empty: the newest lines"),
            _parameter("consultation", int, "only this consultation"),
            _parameter("bureau", int, "only consultations with this bureau"),
            _parameter("page", int, "from 1"),
            _parameter("page_size", int, f"lines a page, 1 to {MAX_PAGE_SIZE}, default {PER_PAGE}"),
        ],
        responses=MessageSearchSerializer,
        summary="Search the consultation lines the viewer may read",
    )
    def get(self, request: Request) -> Response:
        found = search_messages(request.user, request.query_params)
        links = page_links(request, found.page, found.num_pages)
        return Response(MessageSearchSerializer(found, context={"links": links}).data)
