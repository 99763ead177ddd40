"""JSON API of the consultation desk: thin views that validate input, call one service and serialise the result.

Every URL with a consultation id goes through ``consultations_visible_to(user)`` first: a consultation outside
the viewer's scope is a 404, whatever the action. Actions answer with the refreshed consultation detail.
The chat's messages and files of a consultation are in ``chat.api``. Domain errors become HTTP in
``consult.api.errors``. Mounted under /api/ by one ``include`` in ``consult.urls``; the routes live here.

=====================================  ==================================================================
GET  desk/bureaus/                     bureaus with experts online now and queue length (any signed-in user)
GET  desk/bureaus/{id}/experts/        a bureau's experts with presence (点将)
GET  consultations/                    own (deputy), handled (expert), all (office); ?status= &bureau=
POST consultations/                    start (deputy): 201 with the detail and ``queue_position``
GET  consultations/{id}/               the detail: expert, bureau, queue position, outcome, rating, transfers
POST consultations/{id}/end|transfer|outcome|rate/
GET  desk/workbench/                   the expert's active consultations, their bureau's queue, presence
POST desk/presence/                    the expert chooses online or away
GET  desk/history/{consultation_id}/   the deputy's earlier proposals and consultations (assigned expert, office)
POST desk/periods/                     the office opens a duty period
GET  desk/statistics/?date=            the office's figures for a day, overall and per bureau
=====================================  ==================================================================
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import django_filters
from django.db.models import Count, Prefetch, QuerySet
from django.urls import URLPattern, URLResolver, include, path
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.views import APIView

from consult.desk import services
from consult.desk.access import consultations_visible_to
from consult.desk.selectors import (
    deputy_history,
    desk_figures,
    desk_figures_per_bureau,
    expert_workbench,
    experts_with_presence,
    online_counts,
)
from consult.desk.serializers import (
    ConsultationDetailSerializer,
    ConsultationListSerializer,
    DeputyHistorySerializer,
    DeskBureauSerializer,
    DeskExpertSerializer,
    DeskStatisticsSerializer,
    OutcomeInputSerializer,
    PeriodInputSerializer,
    PeriodSerializer,
    PresenceInputSerializer,
    PresenceSerializer,
    RateInputSerializer,
    StartInputSerializer,
    StatisticsQuerySerializer,
    TransferInputSerializer,
    WorkbenchSerializer,
)
from consult.kernel.exceptions import NotAllowed, NotFound
from consult.models import Bureau, Consultation, ConsultationStatus, ConsultationTransfer, User
from consult.people.roles import Role
from consult.people.selectors import Viewer, is_office

Input = type[serializers.Serializer[Any]] | None
Handler = TypeVar("Handler", bound=Callable[..., Response])
CONSULTATION_ID = OpenApiParameter("id", int, OpenApiParameter.PATH)


def _validated(input_class: Input, data: Any) -> dict[str, Any]:
    if input_class is None:
        return {}
    serializer = input_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _visible(user: Viewer, consultation_id: int) -> Consultation:
    """The consultation as the viewer may see it, with everything the detail shows; 404 outside the scope."""
    transfers = ConsultationTransfer.objects.select_related("from_expert__user", "to_bureau", "to_expert__user")
    consultation = (
        consultations_visible_to(user)
        .select_related("requested_expert__user", "ended_by")
        .prefetch_related(Prefetch("transfers", queryset=transfers))
        .filter(pk=consultation_id)
        .first()
    )
    if consultation is None:
        raise NotFound(_("no such consultation"))
    return consultation


# --- bureaus and experts ----------------------------------------------------------------


class DeskBureauListView(APIView):
    @extend_schema(responses=DeskBureauSerializer(many=True), summary="Bureaus with experts online and queue length")
    def get(self, request: Request) -> Response:
        bureaus = Bureau.objects.visible_to(request.user).order_by("sort_order", "id")
        waiting = Consultation.objects.filter(status=ConsultationStatus.QUEUED).values_list("bureau_id")
        context = {"online": online_counts(), "queued": dict(waiting.annotate(n=Count("pk")).order_by())}
        return Response(DeskBureauSerializer(bureaus, many=True, context=context).data)


class DeskBureauExpertsView(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("bureau_id", int, OpenApiParameter.PATH)],
        responses=DeskExpertSerializer(many=True),
        summary="点将: a bureau's experts, online or not",
    )
    def get(self, request: Request, bureau_id: int) -> Response:
        bureau = Bureau.objects.visible_to(request.user).filter(pk=bureau_id).first()
        if bureau is None:
            raise NotFound(_("unknown bureau"))
        rows = [{"expert": expert, "online": online} for expert, online in experts_with_presence(bureau)]
        return Response(DeskExpertSerializer(rows, many=True).data)


# --- consultations ----------------------------------------------------------------------


class ConsultationFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=ConsultationStatus.choices)
    bureau = django_filters.NumberFilter(field_name="bureau_id", help_text="bureau id")

    class Meta:
        model = Consultation
        fields = ["status", "bureau"]


def consultation_action(url_path: str, summary: str, request: Input = None) -> Callable[[Handler], Handler]:
    """A POST on one consultation: documented with its input and its answer (the detail)."""

    def wrap(handler: Handler) -> Handler:
        routed = action(detail=True, methods=["post"], url_path=url_path)(handler)
        documented = extend_schema(
            parameters=[CONSULTATION_ID],
            request=request,
            responses={200: ConsultationDetailSerializer},
            summary=summary,
        )(routed)
        return cast(Handler, documented)

    return wrap


@extend_schema_view(
    list=extend_schema(summary="Consultations: own (deputy), handled (expert), all (office)"),
    retrieve=extend_schema(
        parameters=[CONSULTATION_ID], responses=ConsultationDetailSerializer, summary="One consultation"
    ),
    create=extend_schema(
        request=StartInputSerializer,
        responses={201: ConsultationDetailSerializer},
        summary="Start a consultation with a bureau (or a named expert, 点将)",
    ),
)
class ConsultationViewSet(mixins.ListModelMixin, viewsets.GenericViewSet[Consultation]):
    queryset = Consultation.objects.none()  # for the schema's types only: get_queryset scopes every request
    serializer_class = ConsultationListSerializer
    filterset_class = ConsultationFilter
    lookup_value_regex = r"\d+"

    def get_queryset(self) -> QuerySet[Consultation]:
        return consultations_visible_to(self.request.user).select_related("requested_expert__user")

    @property
    def actor(self) -> User:
        return cast(User, self.request.user)

    def detail_response(self, consultation_id: int, status: int = 200) -> Response:
        consultation = _visible(self.request.user, consultation_id)
        context = {"request": self.request, "viewer": self.request.user}
        return Response(ConsultationDetailSerializer(consultation, context=context).data, status=status)

    def act(self, service: Callable[..., object], input_class: Input = None) -> Response:
        """Call ``service`` on the visible consultation with the validated input; answer with the detail."""
        pk = _visible(self.request.user, int(self.kwargs["pk"])).pk  # refuse strangers before reading input
        service(actor=self.actor, consultation_id=pk, **_validated(input_class, self.request.data))
        return self.detail_response(pk)

    def retrieve(self, request: Request, pk: str) -> Response:
        return self.detail_response(int(pk))

    def create(self, request: Request) -> Response:
        consultation = services.start_consultation(actor=self.actor, **_validated(StartInputSerializer, request.data))
        return self.detail_response(consultation.pk, status=201)

    @consultation_action("end", "End the consultation (the deputy or the expert)")
    def end(self, request: Request, pk: str) -> Response:
        return self.act(services.end_consultation)

    @consultation_action("transfer", "转接: to a colleague, another bureau's expert or queue", TransferInputSerializer)
    def transfer(self, request: Request, pk: str) -> Response:
        return self.act(services.transfer_consultation, TransferInputSerializer)

    @consultation_action("outcome", "The expert records the outcome", OutcomeInputSerializer)
    def outcome(self, request: Request, pk: str) -> Response:
        return self.act(services.record_outcome, OutcomeInputSerializer)

    @consultation_action("rate", "The deputy rates the ended consultation (1–5)", RateInputSerializer)
    def rate(self, request: Request, pk: str) -> Response:
        return self.act(services.rate_consultation, RateInputSerializer)


# --- the expert's workbench and the deputy's history --------------------------------------


class WorkbenchView(APIView):
    @extend_schema(responses=WorkbenchSerializer, summary="The expert's consultations, their bureau's queue, presence")
    def get(self, request: Request) -> Response:
        if getattr(request.user, "role", None) != Role.EXPERT:
            raise NotAllowed(_("only bureau experts do this"))
        bench = expert_workbench(request.user)
        positions = {consultation.pk: place for place, consultation in enumerate(bench["queue"], start=1)}
        return Response(WorkbenchSerializer(bench, context={"positions": positions}).data)


class PresenceView(APIView):
    @extend_schema(request=PresenceInputSerializer, responses=PresenceSerializer, summary="Online or away (暂离)")
    def post(self, request: Request) -> Response:
        status = _validated(PresenceInputSerializer, request.data)["status"]
        presence = services.set_presence(actor=cast(User, request.user), status=status)
        return Response(PresenceSerializer(presence).data)


class HistoryView(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("consultation_id", int, OpenApiParameter.PATH)],
        responses=DeputyHistorySerializer,
        summary="Beside the chat: the deputy's earlier proposals and consultations",
    )
    def get(self, request: Request, consultation_id: int) -> Response:
        consultation = _visible(request.user, consultation_id)
        expert = consultation.expert
        if not is_office(request.user) and (expert is None or expert.user_id != request.user.pk):
            raise NotAllowed(_("only the expert handling this consultation may do this"))
        history = {"deputy": consultation.deputy, **deputy_history(consultation)}
        return Response(DeputyHistorySerializer(history).data)


# --- the office ---------------------------------------------------------------------------


class PeriodView(APIView):
    @extend_schema(
        request=PeriodInputSerializer, responses={201: PeriodSerializer}, summary="Put bureaus and experts on duty"
    )
    def post(self, request: Request) -> Response:
        period = services.open_period(actor=cast(User, request.user), **_validated(PeriodInputSerializer, request.data))
        return Response(PeriodSerializer(period).data, status=201)


class StatisticsView(APIView):
    @extend_schema(
        parameters=[StatisticsQuerySerializer],
        responses=DeskStatisticsSerializer,
        summary="The desk's figures for a day, overall and per bureau (office only)",
    )
    def get(self, request: Request) -> Response:
        if not is_office(request.user):
            raise NotAllowed(_("only the office reads the statistics"))
        day = _validated(StatisticsQuerySerializer, request.query_params).get("date") or timezone.localdate()
        consultations = consultations_visible_to(request.user).filter(created_at__date=day)
        per_bureau = [
            {"bureau_id": bureau.pk, "bureau_name": bureau.name, "figures": figures}
            for bureau, figures in desk_figures_per_bureau(consultations)
        ]
        figures = {"date": day, "overall": desk_figures(consultations), "per_bureau": per_bureau}
        return Response(DeskStatisticsSerializer(figures).data)


router = SimpleRouter()
router.register("consultations", ConsultationViewSet, basename="api-consultation")

urlpatterns: list[URLPattern | URLResolver] = [
    path("desk/bureaus/", DeskBureauListView.as_view(), name="api-desk-bureaus"),
    path("desk/bureaus/<int:bureau_id>/experts/", DeskBureauExpertsView.as_view(), name="api-desk-bureau-experts"),
    path("desk/workbench/", WorkbenchView.as_view(), name="api-desk-workbench"),
    path("desk/presence/", PresenceView.as_view(), name="api-desk-presence"),
    path("desk/history/<int:consultation_id>/", HistoryView.as_view(), name="api-desk-history"),
    path("desk/periods/", PeriodView.as_view(), name="api-desk-periods"),
    path("desk/statistics/", StatisticsView.as_view(), name="api-desk-statistics"),
    path("", include(router.urls)),
]
