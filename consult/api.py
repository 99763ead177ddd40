"""JSON API for people and organisations: thin views over selectors and services."""

from __future__ import annotations

from dataclasses import fields as dataclass_fields
from typing import cast

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from consult import services
from consult.filters import BureauFilter, DeputyFilter, ExpertFilter
from consult.models import Bureau, DeputyContact, DeputyProfile, ExpertProfile, User
from consult.serializers import (
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

    @extend_schema(request=ContactSerializer, responses=ContactSerializer, summary="Change my contact details")
    def put(self, request: Request) -> Response:
        serializer = ContactSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        names = {f.name for f in dataclass_fields(services.ContactDetails)}
        contact = services.ContactDetails(**{k: v for k, v in serializer.validated_data.items() if k in names})
        record = services.update_own_contact(actor=cast(User, request.user), contact=contact)
        return Response(ContactSerializer(record).data)


class BureauViewSet(viewsets.ReadOnlyModelViewSet[Bureau]):
    serializer_class = BureauSerializer
    filterset_class = BureauFilter

    def get_queryset(self) -> QuerySet[Bureau]:
        return Bureau.objects.visible_to(self.request.user).prefetch_related("departments")


class ExpertViewSet(viewsets.ReadOnlyModelViewSet[ExpertProfile]):
    serializer_class = ExpertSerializer
    filterset_class = ExpertFilter

    def get_queryset(self) -> QuerySet[ExpertProfile]:
        return (
            ExpertProfile.objects.visible_to(self.request.user)
            .select_related("user", "bureau", "department")
            .order_by("bureau__sort_order", "id")
        )


class DeputyViewSet(viewsets.ReadOnlyModelViewSet[DeputyProfile]):
    serializer_class = DeputySerializer
    filterset_class = DeputyFilter

    def get_queryset(self) -> QuerySet[DeputyProfile]:
        return DeputyProfile.objects.visible_to(self.request.user).select_related("user").order_by("id")
