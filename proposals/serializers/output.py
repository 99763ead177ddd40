"""Output shapes: the proposal list (cheap) and detail (what ``proposals.access`` lets each viewer see)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from consult.models import User
from consult.people.serializers import BureauRefSerializer
from proposals.access import ProposalAccess, Wording
from proposals.models import (
    Assignment,
    Attachment,
    CoHandlerOpinion,
    Communication,
    CoSigner,
    ExtensionRequest,
    Feedback,
    Proposal,
    ProposalEvent,
    ProposalSession,
    Reply,
)
from proposals.models.choices import IN_HANDS_OF_BUREAUS

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
    category_label = serializers.CharField(read_only=True, help_text="the category in the reader's language")
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
            "category_label",
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
    """Context: ``access``. A bureau's internal parts are empty for those who may not see them."""

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
    def _access(self) -> ProposalAccess:
        access: ProposalAccess = self.context["access"]
        return access

    def get_return_reason(self, assignment: Assignment) -> str:
        return assignment.return_reason if self._access.of_bureau(assignment.bureau_id) else ""

    @extend_schema_field(ExtensionRequestSerializer(many=True))
    def get_extension_requests(self, assignment: Assignment) -> list[dict[str, Any]]:
        if not self._access.of_bureau(assignment.bureau_id):
            return []
        return list(ExtensionRequestSerializer(assignment.extension_requests.all(), many=True).data)


class ReplySerializer(serializers.ModelSerializer[Reply]):
    """Context: ``access``. Each reply in the wording the viewer may read (``ProposalAccess.wording_of``)."""

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
        access: ProposalAccess | None = self.context.get("access")
        if access is None:  # the bureau's own answer to its own action
            return data
        if not access.sees_review_of(instance):
            data.update(drafted_class=data["outcome_class"], review_note="")
        if access.wording_of(instance) != Wording.INTERNAL:
            data.update(body=instance.public_body, contact_person="", contact_phone="")
        return data


class CommunicationSerializer(serializers.ModelSerializer[Communication]):
    bureau = BureauRefSerializer(source="assignment.bureau", read_only=True)
    channel_label = serializers.CharField(source="get_channel_display", read_only=True)

    class Meta:
        model = Communication
        fields = ["id", "assignment", "bureau", "channel", "channel_label", "occurred_on", "summary", "recorded_at"]


class MergedRefSerializer(serializers.ModelSerializer[Proposal]):
    proposer = PersonRefSerializer(read_only=True)

    class Meta:
        model = Proposal
        fields = ["id", "code", "title", "proposer"]


class FeedbackSerializer(serializers.ModelSerializer[Feedback]):
    rater = PersonRefSerializer(read_only=True)
    result_label = serializers.CharField(source="get_result_display", read_only=True)

    class Meta:
        model = Feedback
        fields = [
            "id",
            "reply",
            "rater",
            "contact",
            "attitude",
            "result",
            "result_label",
            "comment",
            "on_paper",
            "created_at",
        ]


class TimelineEventSerializer(serializers.ModelSerializer[ProposalEvent]):
    actor = PersonRefSerializer(read_only=True, allow_null=True)
    action_label = serializers.CharField(read_only=True)
    bureau = BureauRefSerializer(read_only=True, allow_null=True)
    reason = serializers.CharField(source="detail", read_only=True, help_text="in the reader's language")

    class Meta:
        model = ProposalEvent
        fields = ["id", "at", "action", "action_label", "actor", "bureau", "from_status", "to_status", "reason"]


class ProposalDetailSerializer(ProposalListSerializer):
    """Context: ``access`` (``proposals.access.access_of``) and ``timeline`` (``ProposalAccess.events``).

    Needs the prefetches of ``proposals.api.detail_queryset``; filters them in Python, so no query of its own.
    """

    wished_lead_bureau = BureauRefSerializer(read_only=True, allow_null=True)
    wished_co_bureaus = BureauRefSerializer(many=True, read_only=True)
    cosigners = CoSignerSerializer(many=True, read_only=True)
    attachments = serializers.SerializerMethodField()
    assignments = serializers.SerializerMethodField()
    opinions = serializers.SerializerMethodField()
    replies = serializers.SerializerMethodField()
    communications = serializers.SerializerMethodField()
    feedback = serializers.SerializerMethodField()
    merged = serializers.SerializerMethodField()
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
            "feedback",
            "merged",
            "timeline",
        ]

    @property
    def _access(self) -> ProposalAccess:
        access: ProposalAccess = self.context["access"]
        return access

    @extend_schema_field(AttachmentSerializer(many=True))
    def get_attachments(self, proposal: Proposal) -> list[dict[str, Any]]:
        shown = list(proposal.attachments.all()) if self._access.party else []
        return list(AttachmentSerializer(shown, many=True).data)

    @extend_schema_field(AssignmentSerializer(many=True))
    def get_assignments(self, proposal: Proposal) -> list[dict[str, Any]]:
        shown = [a for a in proposal.assignments.all() if self._access.sees_assignment(a)]
        return list(AssignmentSerializer(shown, many=True, context=self.context).data)

    @extend_schema_field(OpinionSerializer(many=True))
    def get_opinions(self, proposal: Proposal) -> list[dict[str, Any]]:
        opinions = [
            a.opinion
            for a in proposal.assignments.all()
            if getattr(a, "opinion", None) is not None and self._access.sees_opinion_of(a)
        ]
        return list(OpinionSerializer(opinions, many=True).data)

    @extend_schema_field(ReplySerializer(many=True))
    def get_replies(self, proposal: Proposal) -> list[dict[str, Any]]:
        shown = [reply for reply, _ in self._access.replies(proposal.replies.all())]
        return list(ReplySerializer(shown, many=True, context=self.context).data)

    @extend_schema_field(CommunicationSerializer(many=True))
    def get_communications(self, proposal: Proposal) -> list[dict[str, Any]]:
        shown = [c for c in proposal.communications.all() if self._access.sees_communication(c)]
        return list(CommunicationSerializer(shown, many=True).data)

    @extend_schema_field(MergedRefSerializer(many=True))
    def get_merged(self, proposal: Proposal) -> list[dict[str, Any]]:
        """The proposals merged into this one (并案): the parties and the office."""
        shown = list(proposal.merged.all()) if self._access.party else []
        return list(MergedRefSerializer(shown, many=True).data)

    @extend_schema_field(FeedbackSerializer(many=True))
    def get_feedback(self, proposal: Proposal) -> list[dict[str, Any]]:
        shown = [f for f in proposal.feedback.all() if self._access.sees_feedback(f)]
        return list(FeedbackSerializer(shown, many=True).data)

    @extend_schema_field(TimelineEventSerializer(many=True))
    def get_timeline(self, proposal: Proposal) -> list[dict[str, Any]]:
        events = list(TimelineEventSerializer(self.context["timeline"], many=True).data)
        if not self._access.party:  # readers see the state changes, not who wrote what and why
            events = [{**event, "reason": "", "actor": None} for event in events]
        return events

    def to_representation(self, instance: Proposal) -> dict[str, Any]:
        data = dict(super().to_representation(instance))
        if not self._access.party:  # the wishes and the refusal reason are the parties' and the office's
            data.update(wished_lead_bureau=None, wished_co_bureaus=[], publication_refusal_reason="")
            data["body"] = self._access.body_of(instance)
        return data
