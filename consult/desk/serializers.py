"""Shapes of the consultation desk in the JSON API. Validation only, no side effects.

Output: bureaus with their live figures, experts with presence (点将), consultations (list row and detail),
the expert's workbench, the deputy's history beside the chat, duty periods and the office's figures.
Input: one small serializer per action; its field names are the service's keyword arguments, so a domain
error naming a field (``InvalidInput(field=...)``) names the same field as the request body.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from consult.api.schema import MAX_ID
from consult.desk.access import can_post
from consult.desk.selectors import DeskFigures
from consult.desk.services import is_present, queue_position
from consult.kernel.validators import plain_text, plausible_date
from consult.models import (
    Bureau,
    Consultation,
    ConsultationPeriod,
    ConsultationStatus,
    ConsultationTransfer,
    ExpertPresence,
    ExpertProfile,
    Outcome,
    PresenceStatus,
    User,
)
from consult.people.serializers import BureauRefSerializer


@extend_schema_field({"type": "string", "enum": list(PresenceStatus.values)}, component_name="PresenceStatus")
class PresenceStatusField(serializers.ChoiceField):
    """Its own schema component: several models have a field called ``status``."""


CHOSEN_PRESENCE = [PresenceStatus.ONLINE.value, PresenceStatus.AWAY.value]


@extend_schema_field({"type": "string", "enum": CHOSEN_PRESENCE}, component_name="PresenceChoice")
class PresenceChoiceField(serializers.ChoiceField):
    """What an expert may choose (offline comes from closing every connection)."""


@extend_schema_field({"type": "string", "enum": list(ConsultationStatus.values)}, component_name="ConsultationStatus")
class ConsultationStatusField(serializers.ChoiceField):
    """Its own schema component: several models have a field called ``status``."""


# --- references -------------------------------------------------------------------


class ConsultationPersonSerializer(serializers.ModelSerializer[User]):
    name = serializers.CharField(source="full_name")

    class Meta:
        model = User
        fields = ["id", "name"]


class ConsultationExpertSerializer(serializers.ModelSerializer[ExpertProfile]):
    """An expert by user id (the one id of a person in the API: what ``expert_id`` and ``to_expert_id`` take)."""

    id = serializers.IntegerField(source="user_id", read_only=True, help_text="the expert's user id")
    name = serializers.CharField(source="user.full_name")

    class Meta:
        model = ExpertProfile
        fields = ["id", "name", "title"]


class ExpertUserIdField(serializers.IntegerField):
    """An expert named by user id in the API, handed to the services as their profile id."""

    default_error_messages = {"no_expert": _("no expert with this id")}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(min_value=1, max_value=MAX_ID, **kwargs)

    def to_internal_value(self, data: Any) -> int:
        user_id = super().to_internal_value(data)
        profile_id = ExpertProfile.objects.filter(user_id=user_id).values_list("pk", flat=True).first()
        if profile_id is None:
            self.fail("no_expert")
        return int(profile_id)


class ExpertUserIdsField(serializers.ListField):
    """Experts named by user id, handed to the services as profile ids: the length is checked first, then every id
    in one query (a list of thousands costs one query, not one each). Unknown ids are named by position."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(child=serializers.IntegerField(min_value=1, max_value=MAX_ID), **kwargs)

    def to_internal_value(self, data: Any) -> list[int]:
        if isinstance(data, list) and self.max_length is not None and len(data) > self.max_length:
            self.fail("max_length", max_length=self.max_length)
        user_ids: list[int] = list(super().to_internal_value(data))
        profiles = dict(ExpertProfile.objects.filter(user_id__in=set(user_ids)).values_list("user_id", "pk"))
        message = str(_("no expert with this id"))
        unknown = {str(index): [message] for index, uid in enumerate(user_ids) if uid not in profiles}
        if unknown:
            raise serializers.ValidationError(unknown)
        return [int(profiles[uid]) for uid in user_ids]


# --- bureaus and experts for a deputy choosing whom to ask ------------------------


class DeskBureauSerializer(serializers.ModelSerializer[Bureau]):
    """A bureau with its experts online now and its waiting queue (``context``: ``online``, ``queued``)."""

    online_experts = serializers.SerializerMethodField(help_text="experts online now")
    queue_length = serializers.SerializerMethodField(help_text="consultations waiting in the bureau's queue")

    class Meta:
        model = Bureau
        fields = ["id", "code", "name", "full_name", "topics", "online_experts", "queue_length"]

    def get_online_experts(self, bureau: Bureau) -> int:
        return int(self.context["online"].get(bureau.pk, 0))

    def get_queue_length(self, bureau: Bureau) -> int:
        return int(self.context["queued"].get(bureau.pk, 0))


class DeskExpertSerializer(serializers.Serializer[Any]):
    """One of ``experts_with_presence``, as ``{"expert": profile, "online": bool}``."""

    id = serializers.IntegerField(source="expert.user_id", help_text="the expert's user id (``expert_id`` for 点将)")
    name = serializers.CharField(source="expert.user.full_name")
    title = serializers.CharField(source="expert.title")
    department = serializers.CharField(source="expert.department.name", allow_null=True, default=None)
    expertise = serializers.ListField(source="expert.expertise", child=serializers.CharField())
    online = serializers.BooleanField(help_text="online and connected now")


# --- consultations ------------------------------------------------------------------


class ConsultationTransferSerializer(serializers.ModelSerializer[ConsultationTransfer]):
    from_expert = ConsultationExpertSerializer()
    to_bureau = BureauRefSerializer()
    to_expert = ConsultationExpertSerializer(allow_null=True)

    class Meta:
        model = ConsultationTransfer
        fields = ["id", "from_expert", "to_bureau", "to_expert", "note", "at"]


class ConsultationListSerializer(serializers.ModelSerializer[Consultation]):
    """One row. Needs ``select_related("deputy", "bureau", "expert__user", "requested_expert__user")``."""

    status = ConsultationStatusField(choices=ConsultationStatus.choices, read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    outcome_label = serializers.CharField(source="get_outcome_display", read_only=True)
    deputy = ConsultationPersonSerializer(read_only=True)
    bureau = BureauRefSerializer(read_only=True)
    expert = ConsultationExpertSerializer(read_only=True, allow_null=True)
    requested_expert = ConsultationExpertSerializer(read_only=True, allow_null=True)
    queue_position = serializers.SerializerMethodField(help_text="1 = next in the bureau's queue; null unless waiting")
    outcome = serializers.ChoiceField(
        choices=Outcome.choices, allow_blank=True, read_only=True, help_text="empty until the expert records it"
    )

    class Meta:
        model = Consultation
        fields = [
            "id",
            "topic",
            "status",
            "status_label",
            "deputy",
            "bureau",
            "expert",
            "requested_expert",
            "proposal",
            "queue_position",
            "created_at",
            "assigned_at",
            "ended_at",
            "outcome",
            "outcome_label",
            "rating",
            "last_seq",
        ]
        read_only_fields = fields

    def get_queue_position(self, consultation: Consultation) -> int | None:
        return queue_position(consultation)


class ConsultationDetailSerializer(ConsultationListSerializer):
    """The list row with the outcome note, the rating comment, the transfers and what the viewer may do.

    ``context["viewer"]`` is the signed-in user.
    """

    transfers = ConsultationTransferSerializer(many=True, read_only=True)
    ended_by = ConsultationPersonSerializer(read_only=True, allow_null=True)
    can_post = serializers.SerializerMethodField(help_text="the viewer may write in the chat now")
    proposal_draft_url = serializers.SerializerMethodField(
        help_text="when the outcome is 转为建议: the page where the deputy starts a proposal from this consultation"
    )

    class Meta(ConsultationListSerializer.Meta):
        fields = [
            *ConsultationListSerializer.Meta.fields,
            "outcome_note",
            "rating_comment",
            "ended_by",
            "transfers",
            "can_post",
            "proposal_draft_url",
        ]
        read_only_fields = fields

    def get_can_post(self, consultation: Consultation) -> bool:
        return consultation.status != ConsultationStatus.ENDED and can_post(self.context["viewer"], consultation)

    @extend_schema_field({"type": "string", "nullable": True})
    def get_proposal_draft_url(self, consultation: Consultation) -> str | None:
        if consultation.outcome != Outcome.PROPOSAL:
            return None
        return f"{reverse('proposal-new')}?consultation={consultation.pk}"


class QueueItemSerializer(serializers.ModelSerializer[Consultation]):
    """A consultation waiting in the bureau's queue (``context["positions"]``: id -> place in the queue)."""

    deputy = ConsultationPersonSerializer(read_only=True)
    requested_expert = ConsultationExpertSerializer(read_only=True, allow_null=True)
    position = serializers.SerializerMethodField()

    class Meta:
        model = Consultation
        fields = ["id", "topic", "deputy", "requested_expert", "created_at", "position"]
        read_only_fields = fields

    def get_position(self, consultation: Consultation) -> int:
        return int(self.context["positions"][consultation.pk])


# --- the expert's side ---------------------------------------------------------------


class PresenceSerializer(serializers.ModelSerializer[ExpertPresence]):
    status = PresenceStatusField(choices=PresenceStatus.choices, read_only=True)
    present = serializers.SerializerMethodField(help_text="connected recently: can be given consultations")

    class Meta:
        model = ExpertPresence
        fields = ["status", "connections", "last_seen", "present"]
        read_only_fields = fields

    def get_present(self, presence: ExpertPresence) -> bool:
        return is_present(presence)


class WorkbenchSerializer(serializers.Serializer[Any]):
    active = ConsultationListSerializer(many=True, help_text="consultations the expert handles now")
    queue = QueueItemSerializer(many=True, help_text="the bureau's queue, oldest first")
    presence = PresenceSerializer(allow_null=True)


class HistoryConsultationSerializer(serializers.ModelSerializer[Consultation]):
    status = ConsultationStatusField(choices=ConsultationStatus.choices, read_only=True)
    bureau = BureauRefSerializer(read_only=True)
    outcome = serializers.ChoiceField(choices=Outcome.choices, allow_blank=True, read_only=True)
    outcome_label = serializers.CharField(source="get_outcome_display", read_only=True)

    class Meta:
        model = Consultation
        fields = ["id", "topic", "bureau", "status", "outcome", "outcome_label", "rating", "created_at"]
        read_only_fields = fields


class HistoryProposalSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    code = serializers.CharField(help_text="2027-建-0012; empty before registration")
    title = serializers.CharField()
    kind = serializers.CharField()
    status = serializers.CharField()
    status_label = serializers.CharField(source="get_status_display")
    session = serializers.CharField(source="session.name")
    outcome_class = serializers.CharField()
    created_at = serializers.DateTimeField()


class DeputyHistorySerializer(serializers.Serializer[Any]):
    deputy = ConsultationPersonSerializer()
    consultations = HistoryConsultationSerializer(many=True, help_text="the deputy's earlier consultations")
    proposals = HistoryProposalSerializer(many=True, help_text="the deputy's proposals (drafts left out)")


# --- input ------------------------------------------------------------------------------


class StartInputSerializer(serializers.Serializer[Any]):
    bureau_id = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    topic = serializers.CharField(max_length=200, validators=[plain_text])
    expert_id = ExpertUserIdField(
        required=False, allow_null=True, default=None, help_text="点将: an expert of this bureau (user id)"
    )
    proposal_id = serializers.IntegerField(
        required=False, allow_null=True, default=None, help_text="one of the deputy's own proposals"
    )


class TransferInputSerializer(serializers.Serializer[Any]):
    note = serializers.CharField(max_length=500, validators=[plain_text], help_text="why; shown in the thread")
    to_expert_id = ExpertUserIdField(required=False, allow_null=True, default=None, help_text="a colleague (user id)")
    to_bureau_id = serializers.IntegerField(
        min_value=1,
        max_value=MAX_ID,
        required=False,
        allow_null=True,
        default=None,
        help_text="another bureau's queue; neither: back to the queue",
    )

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        # Before the fields: "both" is the mistake to report, whatever the ids are.
        if isinstance(data, Mapping) and all(
            data.get(name) not in (None, "") for name in ("to_expert_id", "to_bureau_id")
        ):
            raise serializers.ValidationError({"to_bureau_id": [_("give an expert or a bureau, not both")]})
        return dict(super().to_internal_value(data))


class OutcomeInputSerializer(serializers.Serializer[Any]):
    outcome = serializers.ChoiceField(choices=Outcome.choices)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000, validators=[plain_text])


class RateInputSerializer(serializers.Serializer[Any]):
    rating = serializers.IntegerField(min_value=1, max_value=5)
    comment = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=500, validators=[plain_text]
    )


class PresenceInputSerializer(serializers.Serializer[Any]):
    status = PresenceChoiceField(choices=CHOSEN_PRESENCE)


# --- the office ----------------------------------------------------------------------------


class PeriodInputSerializer(serializers.Serializer[Any]):
    name = serializers.CharField(max_length=100, validators=[plain_text])
    starts_at = serializers.DateTimeField(validators=[plausible_date])
    ends_at = serializers.DateTimeField(validators=[plausible_date])
    bureau_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID), max_length=500, help_text="bureaus on duty"
    )
    expert_ids = ExpertUserIdsField(
        required=False,
        default=list,
        max_length=5000,
        help_text="experts on duty, by user id (those of other bureaus are left out)",
    )


class PeriodSerializer(serializers.ModelSerializer[ConsultationPeriod]):
    bureaus: serializers.PrimaryKeyRelatedField[Bureau] = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    experts = serializers.SerializerMethodField(help_text="experts on duty, by user id")

    class Meta:
        model = ConsultationPeriod
        fields = ["id", "name", "starts_at", "ends_at", "bureaus", "experts"]
        read_only_fields = fields

    def get_experts(self, period: ConsultationPeriod) -> list[int]:
        return sorted(period.experts.values_list("user_id", flat=True))


class StatisticsQuerySerializer(serializers.Serializer[Any]):
    date = serializers.DateField(required=False, help_text="the day (YYYY-MM-DD, local time); today when left out")


class DeskFiguresSerializer(serializers.Serializer[DeskFigures]):
    deputies_served = serializers.IntegerField(help_text="distinct deputies and members who consulted")
    consultations = serializers.IntegerField()
    answered_on_the_spot = serializers.IntegerField(help_text="当场答复")
    waiting_now = serializers.IntegerField(help_text="still in a queue")
    average_wait_seconds = serializers.FloatField(allow_null=True, help_text="from start until an expert joined")
    active_now = serializers.IntegerField(help_text="咨询中: an expert is answering")
    ended = serializers.IntegerField(help_text="已结束")


class BureauDeskFiguresSerializer(serializers.Serializer[Any]):
    bureau_id = serializers.IntegerField()
    bureau_name = serializers.CharField()
    figures = DeskFiguresSerializer()


class DeskStatisticsSerializer(serializers.Serializer[Any]):
    date = serializers.DateField()
    overall = DeskFiguresSerializer()
    per_bureau = BureauDeskFiguresSerializer(many=True)
