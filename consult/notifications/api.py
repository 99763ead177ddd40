"""JSON API of in-app notifications (站内通知): a user reads their own and marks them read.

Mounted at /api/notifications/ by one ``include`` in ``consult.urls``; the routes live here.
"""

from __future__ import annotations

from typing import Any, cast

from django.db.models import QuerySet
from django.urls import URLPattern, path
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from consult.models import Notification, User
from consult.notifications.kinds import FAMILIES
from consult.notifications.services import (
    PreferenceChange,
    mark_read,
    open_notification,
    preference_row,
    set_preferences,
    unread_count,
)


class NotificationSerializer(serializers.ModelSerializer[Notification]):
    title = serializers.CharField(source="text", read_only=True, help_text="worded in the reader's language")

    class Meta:
        model = Notification
        fields = ["id", "kind", "title", "url", "created_at", "read_at"]


class FamilySerializer(serializers.Serializer[Any]):
    key = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # a field named "label", not Field.label
    help = serializers.CharField()


class PreferencesSerializer(serializers.Serializer[Any]):
    muted = serializers.ListField(
        child=serializers.CharField(max_length=40),
        max_length=len(FAMILIES),
        required=False,
        help_text="the families turned off (keys of `families`): none of their notifications, in any channel",
    )
    email = serializers.BooleanField(required=False, help_text="an email for each notification (when the site mails)")
    webhook = serializers.BooleanField(required=False, help_text="SMS / messaging app (when the site has a webhook)")
    digest = serializers.BooleanField(required=False, help_text="one email a day with what is unread, instead")
    families = FamilySerializer(many=True, read_only=True)


class MarkReadSerializer(serializers.Serializer[Any]):
    ids = serializers.ListField(
        child=serializers.IntegerField(), required=False, help_text="the notifications to mark; all when left out"
    )


class ReadStateSerializer(serializers.Serializer[Any]):
    marked = serializers.IntegerField(help_text="how many were marked read now")
    unread = serializers.IntegerField(help_text="how many stay unread")


class NotificationPage(PageNumberPagination):
    """A page of notifications, with the count of all unread ones beside it."""

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        paginated = super().get_paginated_response_schema(schema)
        paginated["properties"]["unread"] = {"type": "integer", "example": 3}
        paginated["required"] = [*paginated.get("required", []), "unread"]
        return paginated


class NotificationListView(generics.ListAPIView[Notification]):
    """My notifications, newest first, and how many are unread."""

    serializer_class = NotificationSerializer
    pagination_class = NotificationPage
    filter_backends: list[Any] = []

    def get_queryset(self) -> QuerySet[Notification]:
        return Notification.objects.visible_to(self.request.user).order_by("-created_at", "-id")

    @extend_schema(summary="My notifications, newest first")
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        response = self.list(request, *args, **kwargs)
        response.data["unread"] = unread_count(cast(User, request.user).pk)
        return response


class MarkReadView(APIView):
    @extend_schema(request=MarkReadSerializer, responses=ReadStateSerializer, summary="Mark notifications read")
    def post(self, request: Request) -> Response:
        user = cast(User, request.user)
        serializer = MarkReadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        marked = mark_read(actor=user, notification_ids=serializer.validated_data.get("ids"))
        return Response(ReadStateSerializer({"marked": marked, "unread": unread_count(user.pk)}).data)


class OpenView(APIView):
    @extend_schema(request=None, responses=NotificationSerializer, summary="Open one notification (marks it read)")
    def post(self, request: Request, pk: int) -> Response:
        notification = open_notification(actor=cast(User, request.user), notification_id=pk)
        return Response(NotificationSerializer(notification).data)


def _preferences(user: User) -> dict[str, Any]:
    row = preference_row(user)
    families = [{"key": f.key, "label": str(f.label), "help": str(f.help)} for f in FAMILIES]
    return {"muted": row.muted, "email": row.email, "webhook": row.webhook, "digest": row.digest, "families": families}


class PreferencesView(APIView):
    """Which notifications reach me, and how (通知设置)."""

    @extend_schema(responses=PreferencesSerializer, summary="My notification preferences")
    def get(self, request: Request) -> Response:
        return Response(PreferencesSerializer(_preferences(cast(User, request.user))).data)

    @extend_schema(
        request=PreferencesSerializer, responses=PreferencesSerializer, summary="Change my notification preferences"
    )
    def patch(self, request: Request) -> Response:
        user = cast(User, request.user)
        serializer = PreferencesSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        change = PreferenceChange(
            muted=data.get("muted"), email=data.get("email"), webhook=data.get("webhook"), digest=data.get("digest")
        )
        set_preferences(actor=user, change=change)
        return Response(PreferencesSerializer(_preferences(user)).data)


urlpatterns: list[URLPattern] = [
    path("", NotificationListView.as_view(), name="api-notifications"),
    path("read/", MarkReadView.as_view(), name="api-notifications-read"),
    path("<int:pk>/open/", OpenView.as_view(), name="api-notification-open"),
    path("preferences/", PreferencesView.as_view(), name="api-notification-preferences"),
]
