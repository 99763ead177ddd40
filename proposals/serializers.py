"""Shapes of the proposal cycle in the JSON API. Validation only, no side effects.

Output: ``ProposalListSerializer`` (cheap: session and proposer only) and ``ProposalDetailSerializer``,
which shows each viewer what their ``Perspective`` allows (who sees which assignments and replies).
Input: one small serializer per action; its field names are the service's keyword arguments, so a
domain error naming a field (``InvalidInput(field=...)``) names the same field as the request body.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from consult.models import User
from consult.selectors import Viewer, bureau_id_of, is_office
from consult.serializers import BureauRefSerializer
from proposals.categories import CATEGORIES
from proposals.models import (
    Assignment,
    AssignmentRole,
    Attachment,
    Channel,
    CoHandlerOpinion,
    Communication,
    CoSigner,
    ExtensionRequest,
    OutcomeClass,
    Proposal,
    ProposalEvent,
    ProposalSession,
    Rating,
    Reply,
    ReplyStatus,
)
from proposals.models.choices import IN_HANDS_OF_BUREAUS, REPLYING_ROLES

# --- who is looking ----------------------------------------------------------


@dataclass(frozen=True)
class Perspective:
    """What one viewer may see of one (visible) proposal, beyond what ``visible_to`` already decided.

    - the office sees everything;
    - a party (the proposer, an invited co-signer, or the proposer of a proposal merged into this one)
      sees every assignment and the sent replies;
    - a bureau sees its own assignments and the lead's, the sent replies, its own replies at any stage
      and, as a co-handler, the lead's reply awaiting its sign-off (会签);
    - anyone else sees the proposal only because it is published: the replying bureaus, and the
      published text of the replies without contact details.
    """

    office: bool
    party: bool
    bureau_id: int | None

    @classmethod
    def of(cls, user: Viewer, proposal: Proposal) -> Perspective:
        """Uses the prefetched co-signers and merged proposals: no query of its own."""
        parties = {proposal.proposer_id}
        parties |= {cosigner.deputy_id for cosigner in proposal.cosigners.all()}
        parties |= {merged.proposer_id for merged in proposal.merged.all()}
        party = user.is_authenticated and user.pk in parties
        return cls(office=is_office(user), party=bool(party), bureau_id=bureau_id_of(user))

    @property
    def public_only(self) -> bool:
        return not (self.office or self.party or self.bureau_id is not None)

    def sees_internals_of(self, bureau_id: int) -> bool:
        """Extension requests, return reasons: the office and that bureau."""
        return self.office or self.bureau_id == bureau_id

    def sees_assignment(self, assignment: Assignment) -> bool:
        if self.office or self.party:
            return True
        if self.bureau_id is not None:
            return assignment.bureau_id == self.bureau_id or assignment.role == AssignmentRole.LEAD
        return assignment.role in REPLYING_ROLES

    def sees_opinion_of(self, assignment: Assignment, lead_bureaus: set[int]) -> bool:
        """A co-handler's opinion (会办意见) goes to the lead bureau; the office and its author see it too."""
        return self.sees_internals_of(assignment.bureau_id) or self.bureau_id in lead_bureaus

    def sees_reply(self, reply: Reply, co_bureaus: set[int]) -> bool:
        if self.office:
            return True
        if self.public_only:
            return reply.status == ReplyStatus.SENT and bool(reply.public_body)
        if reply.status == ReplyStatus.SENT:
            return True
        if self.bureau_id is None:
            return False
        own = reply.assignment.bureau_id == self.bureau_id
        return own or (reply.status == ReplyStatus.SIGNOFF and self.bureau_id in co_bureaus)


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


# --- input: drafting ---------------------------------------------------------


class DraftSerializer(serializers.Serializer[Any]):
    """What the proposer writes (``DraftContent``). PATCH sends only the fields it changes."""

    title = serializers.CharField(max_length=120)
    body = serializers.CharField()
    category = serializers.ChoiceField(choices=CATEGORIES)
    wished_lead_bureau_id = serializers.IntegerField(required=False, allow_null=True, default=None)
    wished_co_bureau_ids = serializers.ListField(child=serializers.IntegerField(), required=False, default=list)
    publication_consent = serializers.BooleanField(required=False, default=True)
    publication_refusal_reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)


class DeputyInputSerializer(serializers.Serializer[Any]):
    deputy_id = serializers.IntegerField()


class CosignInputSerializer(serializers.Serializer[Any]):
    sign = serializers.BooleanField(help_text="true to co-sign, false to decline")


class AttachmentUploadSerializer(serializers.Serializer[Any]):
    file = serializers.FileField()


# --- input: registration and assignment ----------------------------------------


class ReasonInputSerializer(serializers.Serializer[Any]):
    reason = serializers.CharField()


class MergeInputSerializer(serializers.Serializer[Any]):
    into_id = serializers.IntegerField(help_text="the registered proposal this one is handled with")
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class AssignInputSerializer(serializers.Serializer[Any]):
    lead = serializers.IntegerField(required=False, allow_null=True, default=None, help_text="lead bureau (主办)")
    co = serializers.ListField(
        child=serializers.IntegerField(), required=False, default=list, help_text="co-handling bureaus (会办)"
    )
    separate = serializers.ListField(
        child=serializers.IntegerField(), required=False, default=list, help_text="bureaus each replying (分办)"
    )


class AssignmentInputSerializer(serializers.Serializer[Any]):
    assignment_id = serializers.IntegerField()


class AssignmentReasonInputSerializer(AssignmentInputSerializer):
    reason = serializers.CharField()


# --- input: handling ----------------------------------------------------------


class CommunicationInputSerializer(AssignmentInputSerializer):
    channel = serializers.ChoiceField(choices=Channel.choices)
    occurred_on = serializers.DateField()
    summary = serializers.CharField()
    consultation_id = serializers.IntegerField(required=False, allow_null=True, default=None)


class OpinionInputSerializer(AssignmentInputSerializer):
    body = serializers.CharField()


class ExtensionInputSerializer(AssignmentInputSerializer):
    requested_due = serializers.DateField()
    reason = serializers.CharField()


class ExtensionDecisionInputSerializer(serializers.Serializer[Any]):
    request_id = serializers.IntegerField()
    approve = serializers.BooleanField()
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)


# --- input: replying ------------------------------------------------------------


class ReplyDraftInputSerializer(AssignmentInputSerializer):
    outcome_class = serializers.ChoiceField(choices=OutcomeClass.choices)
    body = serializers.CharField()
    contact_person = serializers.CharField()
    contact_phone = serializers.CharField()


class SignOffInputSerializer(AssignmentInputSerializer):
    reply_id = serializers.IntegerField()
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)


class ReplyReviewInputSerializer(serializers.Serializer[Any]):
    reply_id = serializers.IntegerField()
    approve = serializers.BooleanField(help_text="true sends the reply, false returns it for revision")
    outcome_class = serializers.ChoiceField(
        choices=OutcomeClass.choices, required=False, allow_blank=True, default="", help_text="change the class"
    )
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)


class PublishInputSerializer(serializers.Serializer[Any]):
    reply_id = serializers.IntegerField()
    public_body = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="edited text to publish; the reply's text if empty"
    )


# --- input: feedback and after ----------------------------------------------------


class RatingInputSerializer(serializers.Serializer[Any]):
    reply_id = serializers.IntegerField()
    contact = serializers.ChoiceField(choices=Rating.choices)
    attitude = serializers.ChoiceField(choices=Rating.choices)
    result = serializers.ChoiceField(choices=Rating.choices)
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)


class PaperRatingInputSerializer(RatingInputSerializer):
    rater_id = serializers.IntegerField(help_text="the proposer or co-signer who filled in the paper form")


class DissatisfactionReviewInputSerializer(serializers.Serializer[Any]):
    confirm = serializers.BooleanField(help_text="true starts re-handling, false sets the rating aside")
    reason = serializers.CharField()


class FollowUpInputSerializer(AssignmentInputSerializer):
    body = serializers.CharField()
    outcome_class = serializers.ChoiceField(choices=OutcomeClass.choices, required=False, default=OutcomeClass.A)


# --- metrics ----------------------------------------------------------------------


class MetricsQuerySerializer(serializers.Serializer[Any]):
    year = serializers.IntegerField(required=False, min_value=1949)
    session = serializers.IntegerField(required=False)


class FiguresSerializer(serializers.Serializer[Any]):
    assigned = serializers.IntegerField()
    replied = serializers.IntegerField()
    on_time = serializers.IntegerField()
    communicated = serializers.IntegerField()
    ratings = serializers.IntegerField()
    satisfied = serializers.IntegerField()
    classes = serializers.DictField(child=serializers.IntegerField(), help_text="replied proposals per class A–D")
    reply_rate = serializers.FloatField(allow_null=True, help_text="办复率")
    on_time_rate = serializers.FloatField(allow_null=True, help_text="按时办复率")
    communication_rate = serializers.FloatField(allow_null=True, help_text="沟通率")
    satisfaction_rate = serializers.FloatField(allow_null=True, help_text="满意率")


class BureauFiguresSerializer(serializers.Serializer[Any]):
    bureau_id = serializers.IntegerField()
    bureau_name = serializers.CharField()
    figures = FiguresSerializer()


class MetricsSerializer(serializers.Serializer[Any]):
    overall = FiguresSerializer()
    per_bureau = BureauFiguresSerializer(many=True)
