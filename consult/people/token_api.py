"""JSON API of personal API tokens, mounted at /api/tokens/: create (the secret shown once), list, revoke.

Scripts then send ``Authorization: Token <secret>``; the browser keeps its session and CSRF token.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

from django.db.models import QuerySet
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from consult.kernel.exceptions import NotAllowed
from consult.kernel.validators import TextField
from consult.models import ApiToken, User
from consult.people import tokens


class TokenSerializer(serializers.ModelSerializer[ApiToken]):
    user = serializers.IntegerField(source="user_id", read_only=True, help_text="the owner's user id")
    prefix = serializers.CharField(source="token_key", read_only=True, help_text="the secret's first characters")
    expiry = serializers.DateTimeField(read_only=True, allow_null=True, help_text="null: until revoked")

    class Meta:
        model = ApiToken
        fields = ["id", "name", "user", "prefix", "created", "expiry"]


class NewTokenSerializer(TokenSerializer):
    token = serializers.CharField(help_text="the secret: shown this once, store it now")

    class Meta(TokenSerializer.Meta):
        fields = [*TokenSerializer.Meta.fields, "token"]


class TokenInputSerializer(serializers.Serializer[Any]):
    name = TextField(max_length=100, help_text="what the token is for")
    expires_in_days = serializers.IntegerField(
        required=False, allow_null=True, default=None, min_value=1, max_value=3650, help_text="null: until revoked"
    )
    user = serializers.IntegerField(
        required=False, allow_null=True, default=None, min_value=1, help_text="administrators: whose token"
    )


class TokenListView(generics.ListAPIView[ApiToken]):
    """Tokens without their secrets: your own, or everyone's for an administrator."""

    serializer_class = TokenSerializer
    filter_backends: list[Any] = []

    def get_queryset(self) -> QuerySet[ApiToken]:
        return tokens.tokens_visible_to(cast(User, self.request.user))

    @extend_schema(summary="My API tokens (without their secrets)")
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.list(request, *args, **kwargs)

    @extend_schema(
        request=TokenInputSerializer,
        responses={201: NewTokenSerializer},
        summary="Create an API token: the answer carries the secret, once",
    )
    def post(self, request: Request) -> Response:
        actor = cast(User, request.user)
        given = TokenInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        owner = _owner(actor, given.validated_data["user"])
        days = given.validated_data["expires_in_days"]
        token, secret = tokens.issue_token(
            actor=actor,
            owner=owner,
            name=given.validated_data["name"],
            expires_in=timedelta(days=days) if days else None,
        )
        token.token = secret  # only on this answer
        return Response(NewTokenSerializer(token).data, status=status.HTTP_201_CREATED)


def _owner(actor: User, user_id: int | None) -> User:
    if user_id is None or user_id == actor.pk:
        return actor
    if not tokens.is_admin(actor):  # before the look-up: a non-administrator learns nothing about accounts
        raise NotAllowed(_("only an administrator may create a token for someone else"))
    owner = User.objects.filter(pk=user_id).first()
    if owner is None:
        raise serializers.ValidationError({"user": [_("no such user")]})
    return owner


class TokenView(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("id", int, OpenApiParameter.PATH)],
        request=None,
        responses={204: None},
        summary="Revoke an API token",
    )
    def delete(self, request: Request, id: int) -> Response:
        tokens.revoke_token(actor=cast(User, request.user), token_id=id)
        return Response(status=status.HTTP_204_NO_CONTENT)


urlpatterns: list[URLPattern] = [
    path("", TokenListView.as_view(), name="api-tokens"),
    path("<int:id>/", TokenView.as_view(), name="api-token"),
]
