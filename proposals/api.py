"""JSON API of the proposal cycle: thin views that validate input, call one service and serialise the result.

Every URL with a proposal id goes through ``Proposal.objects.visible_to(user)`` first: a proposal outside
the viewer's scope is a 404, whatever the action. Actions answer with the refreshed proposal detail,
or with the object they created (an attachment, a communication record, an opinion, an extension request,
a draft reply). Domain errors become HTTP in ``consult.api.errors``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import IO, Any, TypeVar, cast

from django.db.models import Prefetch, QuerySet
from django.http import FileResponse, HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from consult.kernel.exceptions import NotAllowed, NotFound
from consult.models import User
from consult.people.selectors import Viewer, is_office
from proposals import metrics, metrics_export, services
from proposals.access import access_of, readable_attachment
from proposals.actions import Action
from proposals.filters import ProposalFilter
from proposals.models import Assignment, Communication, CoSigner, Feedback, Proposal, Reply
from proposals.selectors import can_see_id
from proposals.serializers import (
    AssignInputSerializer,
    AssignmentInputSerializer,
    AssignmentReasonInputSerializer,
    AttachmentSerializer,
    AttachmentUploadSerializer,
    CommunicationInputSerializer,
    CommunicationSerializer,
    CosignInputSerializer,
    DeputyInputSerializer,
    DissatisfactionReviewInputSerializer,
    DraftSerializer,
    ExtensionDecisionInputSerializer,
    ExtensionInputSerializer,
    ExtensionRequestSerializer,
    FollowUpInputSerializer,
    MergeInputSerializer,
    MetricsExportQuerySerializer,
    MetricsQuerySerializer,
    MetricsSerializer,
    OpinionInputSerializer,
    OpinionSerializer,
    PaperRatingInputSerializer,
    ProposalDetailSerializer,
    ProposalListSerializer,
    PublishInputSerializer,
    RatingInputSerializer,
    ReasonInputSerializer,
    ReplyDraftInputSerializer,
    ReplyReviewInputSerializer,
    ReplySerializer,
    SignOffInputSerializer,
    UrgeInputSerializer,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

Input = type[serializers.Serializer[Any]] | None
Handler = TypeVar("Handler", bound=Callable[..., Response])
PROPOSAL_ID = OpenApiParameter("id", int, OpenApiParameter.PATH)
ATTACHMENT_ID = OpenApiParameter("attachment_id", int, OpenApiParameter.PATH)


def detail_queryset(user: Viewer) -> QuerySet[Proposal]:
    """Everything the detail shows, in a fixed number of queries."""
    return (
        Proposal.objects.visible_to(user)
        .select_related("session", "proposer", "wished_lead_bureau")
        .prefetch_related(
            "wished_co_bureaus",
            "attachments",
            Prefetch("cosigners", queryset=CoSigner.objects.select_related("deputy").order_by("invited_at", "id")),
            Prefetch("merged", queryset=Proposal.objects.select_related("proposer", "session").defer("body")),
            Prefetch(
                "assignments",
                queryset=Assignment.objects.select_related("bureau", "opinion__assignment__bureau")
                .prefetch_related("extension_requests")
                .order_by("round", "id"),
            ),
            Prefetch("replies", queryset=Reply.objects.select_related("assignment__bureau")),
            Prefetch("communications", queryset=Communication.objects.select_related("assignment__bureau")),
            Prefetch("feedback", queryset=Feedback.objects.select_related("rater", "reply__assignment")),
        )
    )


def proposal_action(
    name: Action, summary: str, request: Input = None, *, responses: Any = ProposalDetailSerializer, status: int = 200
) -> Callable[[Handler], Handler]:
    """A POST on one proposal: documented with its input and its answer."""

    def wrap(handler: Handler) -> Handler:
        # extend_schema goes outside: @action replaces the handler's kwargs, where the schema is kept.
        routed = action(detail=True, methods=["post"], url_path=name.api_path)(handler)
        documented = extend_schema(
            parameters=[PROPOSAL_ID], request=request, responses={status: responses}, summary=summary
        )(routed)
        return cast(Handler, documented)

    return wrap


@extend_schema_view(
    list=extend_schema(summary="Proposals the viewer may see, filtered"),
    retrieve=extend_schema(parameters=[PROPOSAL_ID], summary="One proposal as the viewer may see it"),
    create=extend_schema(request=DraftSerializer, responses={201: ProposalDetailSerializer}, summary="暂存: new draft"),
    partial_update=extend_schema(
        parameters=[PROPOSAL_ID], request=DraftSerializer, summary="Change a draft (only the fields sent)"
    ),
)
class ProposalViewSet(mixins.ListModelMixin, viewsets.GenericViewSet[Proposal]):
    queryset = Proposal.objects.none()  # for the schema's types only: get_queryset scopes every request
    filterset_class = ProposalFilter
    lookup_value_regex = r"\d+"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[Proposal]:
        proposals = Proposal.objects.visible_to(self.request.user).select_related("session", "proposer")
        return proposals.defer("body") if self.action == "list" else proposals  # the list never shows the body

    def get_serializer_class(self) -> type[serializers.BaseSerializer[Proposal]]:
        return ProposalListSerializer if self.action == "list" else ProposalDetailSerializer

    # --- helpers: scope, input, answer ---------------------------------------------

    @property
    def actor(self) -> User:
        return cast(User, self.request.user)

    def visible_pk(self) -> int:
        pk = int(self.kwargs["pk"])
        if not can_see_id(self.request.user, pk):
            raise NotFound(_("no such proposal"))
        return pk

    def validated(self, input_class: Input, **kwargs: Any) -> dict[str, Any]:
        if input_class is None:
            return {}
        serializer = input_class(data=self.request.data, **kwargs)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def detail_response(self, pk: int, status: int = 200) -> Response:
        proposal = detail_queryset(self.request.user).filter(pk=pk).first()
        if proposal is None:
            raise NotFound(_("no such proposal"))
        access = access_of(self.request.user, proposal)
        context = {"request": self.request, "access": access, "timeline": list(access.timeline(proposal))}
        return Response(ProposalDetailSerializer(proposal, context=context).data, status=status)

    def act(self, service: Callable[..., object], input_class: Input = None) -> Response:
        """Call ``service`` on the visible proposal with the validated input; answer with the detail."""
        pk = self.visible_pk()
        service(actor=self.actor, proposal_id=pk, **self.validated(input_class))
        return self.detail_response(pk)

    def create_with(
        self,
        service: Callable[..., Any],
        input_class: Input,
        output: type[serializers.BaseSerializer[Any]],
        status: int = 201,
    ) -> Response:
        """Call ``service`` on the visible proposal; answer with what it created (or rewrote)."""
        pk = self.visible_pk()
        created = service(actor=self.actor, proposal_id=pk, **self.validated(input_class))
        return Response(output(created).data, status=status)

    # --- reading and drafting ---------------------------------------------------------

    def retrieve(self, request: Request, pk: str) -> Response:
        return self.detail_response(int(pk))

    def create(self, request: Request) -> Response:
        content = services.DraftContent(**self.validated(DraftSerializer))
        return self.detail_response(services.create_draft(actor=self.actor, content=content).pk, status=201)

    def partial_update(self, request: Request, pk: str) -> Response:
        current = Proposal.objects.visible_to(request.user).filter(pk=int(pk)).first()
        if current is None:
            raise NotFound(_("no such proposal"))
        values: dict[str, Any] = {
            "title": current.title,
            "body": current.body,
            "category": current.category,
            "wished_lead_bureau_id": current.wished_lead_bureau_id,
            "wished_co_bureau_ids": list(current.wished_co_bureaus.values_list("pk", flat=True)),
            "publication_consent": current.publication_consent,
            "publication_refusal_reason": current.publication_refusal_reason,
        }
        values.update(self.validated(DraftSerializer, partial=True))
        content = services.DraftContent(**values)
        services.update_draft(actor=self.actor, proposal_id=current.pk, content=content)
        return self.detail_response(current.pk)

    # --- 提出: co-signers, attachments, submission --------------------------------------

    @proposal_action(Action.SUBMIT, "提出: hand the draft to the office")
    def submit(self, request: Request, pk: str) -> Response:
        return self.act(services.submit)

    @proposal_action(Action.INVITE_COSIGNER, "Invite a deputy to co-sign", DeputyInputSerializer)
    def invite_cosigner(self, request: Request, pk: str) -> Response:
        return self.act(services.invite_cosigner, DeputyInputSerializer)

    @proposal_action(Action.COSIGN, "联名: the invited deputy signs (or declines)", CosignInputSerializer)
    def cosign(self, request: Request, pk: str) -> Response:
        return self.act(services.cosign, CosignInputSerializer)

    @proposal_action(Action.DROP_COSIGNER, "Drop an invited co-signer", DeputyInputSerializer)
    def drop_cosigner(self, request: Request, pk: str) -> Response:
        return self.act(services.drop_cosigner, DeputyInputSerializer)

    @extend_schema(
        parameters=[PROPOSAL_ID],
        request={"multipart/form-data": AttachmentUploadSerializer},
        responses={201: AttachmentSerializer},
        summary="Attach a file to a draft",
    )
    @action(detail=True, methods=["post"], url_path="attachments", parser_classes=[MultiPartParser, FormParser])
    def attachments(self, request: Request, pk: str) -> Response:
        proposal_id = self.visible_pk()
        upload = self.validated(AttachmentUploadSerializer)["file"]
        attachment = services.attach(
            actor=self.actor,
            proposal_id=proposal_id,
            name=upload.name,
            size=upload.size,
            stream=cast(IO[bytes], upload),
        )
        return Response(AttachmentSerializer(attachment).data, status=201)

    @extend_schema(
        parameters=[PROPOSAL_ID, ATTACHMENT_ID],
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY},
        summary="Download an attachment",
    )
    @action(detail=True, methods=["get"], url_path=r"attachments/(?P<attachment_id>\d+)", url_name="attachment")
    def attachment(self, request: Request, pk: str, attachment_id: str) -> FileResponse:
        found = readable_attachment(self.request.user, int(pk), int(attachment_id))
        if found is None:
            raise NotFound(_("no such attachment"))
        return FileResponse(
            found.file.open("rb"), as_attachment=True, filename=found.name, content_type=found.content_type
        )

    @extend_schema(
        parameters=[PROPOSAL_ID, ATTACHMENT_ID], request=None, responses={204: None}, summary="Remove an attachment"
    )
    @attachment.mapping.delete
    def remove_attachment(self, request: Request, pk: str, attachment_id: str) -> Response:
        services.remove_attachment(actor=self.actor, proposal_id=self.visible_pk(), attachment_id=int(attachment_id))
        return Response(status=204)

    # --- 立案 -------------------------------------------------------------------------

    @proposal_action(Action.REGISTER, "立案: register and number a submitted proposal")
    def register(self, request: Request, pk: str) -> Response:
        return self.act(services.register)

    @proposal_action(Action.DECLINE_REGISTRATION, "不予立案, with a reason", ReasonInputSerializer)
    def decline_registration(self, request: Request, pk: str) -> Response:
        return self.act(services.decline_registration, ReasonInputSerializer)

    @proposal_action(Action.MERGE, "并案: handle together with a registered proposal", MergeInputSerializer)
    def merge(self, request: Request, pk: str) -> Response:
        return self.act(services.merge, MergeInputSerializer)

    @proposal_action(Action.CONVERT_TO_LETTER, "转为来信, with a reason", ReasonInputSerializer)
    def convert_to_letter(self, request: Request, pk: str) -> Response:
        return self.act(services.convert_to_letter, ReasonInputSerializer)

    # --- 交办 -------------------------------------------------------------------------

    @proposal_action(Action.ASSIGN, "交办: a lead with co-handlers, or separate bureaus", AssignInputSerializer)
    def assign(self, request: Request, pk: str) -> Response:
        return self.act(services.assign, AssignInputSerializer)

    @proposal_action(Action.WITHDRAW_ASSIGNMENT, "Take an assignment back", AssignmentReasonInputSerializer)
    def withdraw_assignment(self, request: Request, pk: str) -> Response:
        return self.act(services.withdraw_assignment, AssignmentReasonInputSerializer)

    @proposal_action(Action.ACCEPT_ASSIGNMENT, "签收: the bureau takes the proposal on", AssignmentInputSerializer)
    def accept_assignment(self, request: Request, pk: str) -> Response:
        return self.act(services.accept_assignment, AssignmentInputSerializer)

    @proposal_action(Action.RETURN_ASSIGNMENT, "退办: within the return window", AssignmentReasonInputSerializer)
    def return_assignment(self, request: Request, pk: str) -> Response:
        return self.act(services.return_assignment, AssignmentReasonInputSerializer)

    # --- 办理 -------------------------------------------------------------------------

    @proposal_action(
        Action.RECORD_COMMUNICATION,
        "沟通: record a contact with the deputy",
        CommunicationInputSerializer,
        responses=CommunicationSerializer,
        status=201,
    )
    def communications(self, request: Request, pk: str) -> Response:
        return self.create_with(services.record_communication, CommunicationInputSerializer, CommunicationSerializer)

    @proposal_action(
        Action.SUBMIT_OPINION,
        "会办意见 to the lead bureau",
        OpinionInputSerializer,
        responses=OpinionSerializer,
        status=201,
    )
    def opinions(self, request: Request, pk: str) -> Response:
        return self.create_with(services.submit_opinion, OpinionInputSerializer, OpinionSerializer)

    @proposal_action(
        Action.REQUEST_EXTENSION,
        "延期: ask for more time",
        ExtensionInputSerializer,
        responses=ExtensionRequestSerializer,
        status=201,
    )
    def extension_requests(self, request: Request, pk: str) -> Response:
        return self.create_with(services.request_extension, ExtensionInputSerializer, ExtensionRequestSerializer)

    @proposal_action(Action.DECIDE_EXTENSION, "Approve or refuse an extension", ExtensionDecisionInputSerializer)
    def decide_extension(self, request: Request, pk: str) -> Response:
        return self.act(services.decide_extension, ExtensionDecisionInputSerializer)

    @proposal_action(
        Action.URGE, "催办: remind the bureau of an open assignment (office; once a day)", UrgeInputSerializer
    )
    def urge(self, request: Request, pk: str) -> Response:
        return self.act(services.urge, UrgeInputSerializer)

    # --- 答复 -------------------------------------------------------------------------

    @proposal_action(
        Action.DRAFT_REPLY, "Write (or rewrite) the reply", ReplyDraftInputSerializer, responses=ReplySerializer
    )
    def reply_draft(self, request: Request, pk: str) -> Response:
        return self.create_with(services.draft_reply, ReplyDraftInputSerializer, ReplySerializer, status=200)

    @proposal_action(Action.SUBMIT_REPLY, "Submit the reply for sign-off and review", AssignmentInputSerializer)
    def reply_submit(self, request: Request, pk: str) -> Response:
        return self.act(services.submit_reply, AssignmentInputSerializer)

    @proposal_action(Action.SIGN_OFF_REPLY, "会签: a co-handler signs the lead's reply", SignOffInputSerializer)
    def reply_sign_off(self, request: Request, pk: str) -> Response:
        return self.act(services.sign_off_reply, SignOffInputSerializer)

    @proposal_action(Action.REVIEW_REPLY, "督办审核: send the reply or return it", ReplyReviewInputSerializer)
    def reply_review(self, request: Request, pk: str) -> Response:
        return self.act(services.review_reply, ReplyReviewInputSerializer)

    @proposal_action(Action.PUBLISH, "公开: publish a sent reply without contact details", PublishInputSerializer)
    def publish(self, request: Request, pk: str) -> Response:
        return self.act(services.publish, PublishInputSerializer)

    # --- 反馈 and after ---------------------------------------------------------------

    @proposal_action(Action.RATE_REPLY, "反馈: rate the reply (proposer or co-signer)", RatingInputSerializer)
    def feedback(self, request: Request, pk: str) -> Response:
        return self.act(services.rate_reply, RatingInputSerializer)

    @proposal_action(Action.RECORD_PAPER_FEEDBACK, "Enter a rating from a paper form", PaperRatingInputSerializer)
    def paper_feedback(self, request: Request, pk: str) -> Response:
        return self.act(services.record_paper_feedback, PaperRatingInputSerializer)

    @proposal_action(
        Action.REVIEW_DISSATISFACTION,
        "Confirm an unsatisfied rating or set it aside",
        DissatisfactionReviewInputSerializer,
    )
    def review_dissatisfaction(self, request: Request, pk: str) -> Response:
        return self.act(services.review_dissatisfaction, DissatisfactionReviewInputSerializer)

    @proposal_action(Action.SEND_FOLLOW_UP_REPLY, "跟踪办理: the second reply of a B/C matter", FollowUpInputSerializer)
    def follow_up_reply(self, request: Request, pk: str) -> Response:
        return self.act(services.send_follow_up_reply, FollowUpInputSerializer)

    @proposal_action(Action.CLOSE, "办结, with a reason", ReasonInputSerializer)
    def close(self, request: Request, pk: str) -> Response:
        return self.act(services.close, ReasonInputSerializer)

    # --- 统计 -------------------------------------------------------------------------

    @extend_schema(parameters=[MetricsQuerySerializer], responses=MetricsSerializer, summary="办理统计 (office only)")
    @action(detail=False, methods=["get"], filter_backends=[], pagination_class=None)
    def metrics(self, request: Request) -> Response:
        if not is_office(request.user):
            raise NotAllowed(_("only the office reads the statistics"))
        query = MetricsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        report = metrics.report(Proposal.objects.visible_to(request.user), query.scope())
        return Response(MetricsSerializer(report).data)

    @extend_schema(
        parameters=[MetricsExportQuerySerializer],
        responses={(200, "text/csv"): OpenApiTypes.STR, (200, XLSX): OpenApiTypes.BINARY},
        summary="办理统计 as a CSV or Excel file (office only)",
    )
    @action(detail=False, methods=["get"], url_path="metrics/export", filter_backends=[], pagination_class=None)
    def metrics_export(self, request: Request) -> HttpResponse:
        if not is_office(request.user):
            raise NotAllowed(_("only the office reads the statistics"))
        query = MetricsExportQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        report = metrics.report(Proposal.objects.visible_to(request.user), query.scope())
        kind = query.validated_data["file"]
        body, content_type = (
            (metrics_export.to_csv(report), "text/csv; charset=utf-8")
            if kind == "csv"
            else (metrics_export.to_xlsx(report), XLSX)
        )
        response = HttpResponse(body, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="statistics.{kind}"'
        return response
