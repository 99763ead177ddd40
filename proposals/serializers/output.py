"""Output shapes: the proposal list (cheap) and detail (what each viewer's Perspective allows)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from consult.models import User
from consult.serializers import BureauRefSerializer
from proposals.models import (
    Assignment,
    AssignmentRole,
    Attachment,
    CoHandlerOpinion,
    Communication,
    CoSigner,
    ExtensionRequest,
    Proposal,
    ProposalEvent,
    ProposalSession,
    Reply,
)
from proposals.models.choices import IN_HANDS_OF_BUREAUS
from proposals.selectors import Perspective

# --- small references ---------------------------------------------------------


class PersonRefSerializer(serializers.ModelSerializer[User]):
    name = serializers.CharField(source="full_name")

    class Meta:
        model = User
        fields = ["id", "name"]


class SessionRefSerializer(serializers.ModelSerializer[ProposalSession]):
    class Meta:
        model = ProposalSession
        fields = ["id", "name", "year"]


# --- output -------------------------------------------------------------------


class ProposalListSerializer(serializers.ModelSerializer[Proposal]):
    """One row of a list. Needs ``select_related("session", "proposer")`` and nothing else."""

    status_label = serializers.CharField(source="get_status_display", read_only=True)
    session = SessionRefSerializer(read_only=True)
    proposer = PersonRefSerializer(read_only=True)
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = Proposal
        fields = [
            "id",
            "code",
            "kind",
            "title",
            "category",
            "status",
            "status_label",
            "session",
            "proposer",
            "outcome_class",
            "reply_due",
            "overdue",
            "created_at",
            "updated_at",
        ]

    def get_overdue(self, proposal: Proposal) -> bool:
        """The same rule as ``ProposalFilter.filter_overdue``."""
        due = proposal.reply_due
        return proposal.status in IN_HANDS_OF_BUREAUS and due is not None and due < timezone.localdate()


class CoSignerSerializer(serializers.ModelSerializer[CoSigner]):
    deputy = PersonRefSerializer(read_only=True)
    name = serializers.CharField(source="deputy.full_name", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)

    class Meta:
        model = CoSigner
        fields = ["deputy", "name", "status", "status_label", "sign_by", "responded_at"]


class AttachmentSerializer(serializers.ModelSerializer[Attachment]):
    url = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = ["id", "name", "size", "content_type", "url", "uploaded_at"]

    def get_url(self, attachment: Attachment) -> str:
        """The scoped download (only people who see the proposal get the file), never the raw media URL."""
        return reverse("api-proposal-attachment", args=[attachment.proposal_id, attachment.pk])


class ExtensionRequestSerializer(serializers.ModelSerializer[ExtensionRequest]):
    status_label = serializers.CharField(source="get_status_display", read_only=True)

    class Meta:
        model = ExtensionRequest
        fields = [
            "id",
            "assignment",
            "requested_due",
            "reason",
            "status",
            "status_label",
            "requested_at",
            "decided_at",
            "decision_note",
        ]


class OpinionSerializer(serializers.ModelSerializer[CoHandlerOpinion]):
    bureau = BureauRefSerializer(source="assignment.bureau", read_only=True)

    class Meta:
        model = CoHandlerOpinion
        fields = ["id", "assignment", "bureau", "body", "submitted_at"]


class AssignmentSerializer(serializers.ModelSerializer[Assignment]):
    """Context: ``perspective``. Internal parts are empty for those who may not see them."""

    bureau = BureauRefSerializer(read_only=True)
    role_label = serializers.CharField(source="get_role_display", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    return_reason = serializers.SerializerMethodField()
    extension_requests = serializers.SerializerMethodField()

    class Meta:
        model = Assignment
        fields = [
            "id",
            "bureau",
            "role",
            "role_label",
            "status",
            "status_label",
            "round",
            "assigned_at",
            "accepted_at",
            "return_by",
            "reply_due",
            "opinion_due",
            "completed_at",
            "return_reason",
            "extension_requests",
        ]

    @property
    def _perspective(self) -> Perspective:
        perspective: Perspective = self.context["perspective"]
        return perspective

    def get_return_reason(self, assignment: Assignment) -> str:
        return assignment.return_reason if self._perspective.sees_internals_of(assignment.bureau_id) else ""

    @extend_schema_field(ExtensionRequestSerializer(many=True))
    def get_extension_requests(self, assignment: Assignment) -> list[dict[str, Any]]:
        if not self._perspective.sees_internals_of(assignment.bureau_id):
            return []
        return list(ExtensionRequestSerializer(assignment.extension_requests.all(), many=True).data)


class ReplySerializer(serializers.ModelSerializer[Reply]):
    """Context: ``perspective``. Viewers who see only the published proposal get the published text."""

    bureau = BureauRefSerializer(source="assignment.bureau", read_only=True)
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    published = serializers.SerializerMethodField()

    class Meta:
        model = Reply
        fields = [
            "id",
            "assignment",
            "bureau",
            "kind",
            "kind_label",
            "round",
            "status",
            "status_label",
            "outcome_class",
            "drafted_class",
            "body",
            "contact_person",
            "contact_phone",
            "review_note",
            "submitted_at",
            "sent_at",
            "published",
        ]

    def get_published(self, reply: Reply) -> bool:
        return bool(reply.public_body)

    def to_representation(self, instance: Reply) -> dict[str, Any]:
        data = dict(super().to_representation(instance))
        perspective: Perspective | None = self.context.get("perspective")
        if perspective is None or perspective.sees_internals_of(instance.assignment.bureau_id):
            return data
        data.update(drafted_class=data["outcome_class"], review_note="")
        if perspective.public_only:
            data.update(body=instance.public_body, contact_person="", contact_phone="")
        return data


class CommunicationSerializer(serializers.ModelSerializer[Communication]):
    bureau = BureauRefSerializer(source="assignment.bureau", read_only=True)
    channel_label = serializers.CharField(source="get_channel_display", read_only=True)

    class Meta:
        model = Communication
        fields = ["id", "assignment", "bureau", "channel", "channel_label", "occurred_on", "summary", "recorded_at"]


class TimelineEventSerializer(serializers.ModelSerializer[ProposalEvent]):
    actor = PersonRefSerializer(read_only=True, allow_null=True)
    action_label = serializers.CharField(read_only=True)
    bureau = BureauRefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = ProposalEvent
        fields = ["id", "at", "action", "action_label", "actor", "bureau", "from_status", "to_status", "reason"]


class ProposalDetailSerializer(ProposalListSerializer):
    """Context: ``perspective`` (``Perspective.of``) and ``timeline`` (``events_visible_to``).

    Needs the prefetches of ``proposals.api.detail_queryset``; filters them in Python, so no query of its own.
    """

    wished_lead_bureau = BureauRefSerializer(read_only=True, allow_null=True)
    wished_co_bureaus = BureauRefSerializer(many=True, read_only=True)
    cosigners = CoSignerSerializer(many=True, read_only=True)
    attachments = AttachmentSerializer(many=True, read_only=True)
    assignments = serializers.SerializerMethodField()
    opinions = serializers.SerializerMethodField()
    replies = serializers.SerializerMethodField()
    communications = CommunicationSerializer(many=True, read_only=True)
    timeline = serializers.SerializerMethodField()

    class Meta(ProposalListSerializer.Meta):
        fields = [
            *ProposalListSerializer.Meta.fields,
            "number",
            "body",
            "publication_consent",
            "publication_refusal_reason",
            "wished_lead_bureau",
            "wished_co_bureaus",
            "rehandling_round",
            "dissatisfaction_pending",
            "submitted_at",
            "registered_at",
            "assigned_at",
            "first_replied_at",
            "closed_at",
            "published_at",
            "cosigners",
            "attachments",
            "assignments",
            "opinions",
            "replies",
            "communications",
            "timeline",
        ]

    @property
    def _perspective(self) -> Perspective:
        perspective: Perspective = self.context["perspective"]
        return perspective

    @extend_schema_field(AssignmentSerializer(many=True))
    def get_assignments(self, proposal: Proposal) -> list[dict[str, Any]]:
        shown = [a for a in proposal.assignments.all() if self._perspective.sees_assignment(a)]
        return list(AssignmentSerializer(shown, many=True, context=self.context).data)

    @extend_schema_field(OpinionSerializer(many=True))
    def get_opinions(self, proposal: Proposal) -> list[dict[str, Any]]:
        everyone = list(proposal.assignments.all())
        lead_bureaus = {a.bureau_id for a in everyone if a.role == AssignmentRole.LEAD}
        opinions = [
            a.opinion
            for a in everyone
            if getattr(a, "opinion", None) is not None and self._perspective.sees_opinion_of(a, lead_bureaus)
        ]
        return list(OpinionSerializer(opinions, many=True).data)

    @extend_schema_field(ReplySerializer(many=True))
    def get_replies(self, proposal: Proposal) -> list[dict[str, Any]]:
        co_bureaus = {a.bureau_id for a in proposal.assignments.all() if a.role == AssignmentRole.CO}
        shown = [r for r in proposal.replies.all() if self._perspective.sees_reply(r, co_bureaus)]
        return list(ReplySerializer(shown, many=True, context=self.context).data)

    @extend_schema_field(TimelineEventSerializer(many=True))
    def get_timeline(self, proposal: Proposal) -> list[dict[str, Any]]:
        return list(TimelineEventSerializer(self.context["timeline"], many=True).data)
