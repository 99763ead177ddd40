"""JSON API for people and organisations: thin views over selectors and services."""

from __future__ import annotations

from typing import cast

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from consult.kernel.exceptions import NotAllowed
from consult.models import Bureau, DeputyContact, DeputyProfile, ExpertProfile, User
from consult.people import services
from consult.people.filters import BureauFilter, DeputyFilter, ExpertFilter
from consult.people.serializers import (
    BureauSerializer,
    ContactSerializer,
    DeputySerializer,
    ExpertSerializer,
    MeSerializer,
)


class MeView(APIView):
    @extend_schema(responses=MeSerializer, summary="The signed-in user")
    def get(self, request: Request) -> Response:
        return Response(MeSerializer(cast(User, request.user)).data)


class MyContactView(APIView):
    """A deputy's own private contact details (only they and the office can read them)."""

    @extend_schema(responses=ContactSerializer, summary="My contact details")
    def get(self, request: Request) -> Response:
        contact = DeputyContact.objects.visible_to(request.user).filter(profile__user=request.user).first()
        if contact is None:
            return Response({"code": "not_found", "message": "no contact details"}, status=404)
        return Response(ContactSerializer(contact).data)

    @extend_schema(request=ContactSerializer, responses=ContactSerializer, summary="Replace my contact details")
    def put(self, request: Request) -> Response:
        return self._change(request, partial=False)

    @extend_schema(request=ContactSerializer, responses=ContactSerializer, summary="Change some contact details")
    def patch(self, request: Request) -> Response:
        return self._change(request, partial=True)

    def _change(self, request: Request, *, partial: bool) -> Response:
        user = cast(User, request.user)
        current = DeputyContact.objects.visible_to(user).filter(profile__user=user).first()
        if current is None:  # refuse before validating, so a stranger learns nothing from field errors
            raise NotAllowed(_("only deputies and members have contact details to edit"))
        serializer = ContactSerializer(current, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        values = {name: serializer.validated_data.get(name, getattr(current, name)) for name in services.CONTACT_FIELDS}
        record = services.update_own_contact(actor=user, contact=services.ContactDetails(**values))
        return Response(ContactSerializer(record).data)


class BureauViewSet(viewsets.ReadOnlyModelViewSet[Bureau]):
    serializer_class = BureauSerializer
    filterset_class = BureauFilter

    def get_queryset(self) -> QuerySet[Bureau]:
        return Bureau.objects.visible_to(self.request.user).prefetch_related("departments")


class ExpertViewSet(viewsets.ReadOnlyModelViewSet[ExpertProfile]):
    serializer_class = ExpertSerializer
    filterset_class = ExpertFilter
    lookup_field, lookup_url_kwarg = "user", "id"  # a person is named by their user id everywhere in the API

    def get_queryset(self) -> QuerySet[ExpertProfile]:
        return (
            ExpertProfile.objects.visible_to(self.request.user)
            .select_related("user", "bureau", "department")
            .order_by("bureau__sort_order", "id")
        )


class DeputyViewSet(viewsets.ReadOnlyModelViewSet[DeputyProfile]):
    serializer_class = DeputySerializer
    filterset_class = DeputyFilter
    lookup_field, lookup_url_kwarg = "user", "id"  # a person is named by their user id everywhere in the API

    def get_queryset(self) -> QuerySet[DeputyProfile]:
        return DeputyProfile.objects.visible_to(self.request.user).select_related("user").order_by("id")
