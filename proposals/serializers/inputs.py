"""Input of each action: one small serializer per service; field names are the service's arguments."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from proposals.categories import Category
from proposals.models import (
    Channel,
    OutcomeClass,
    Rating,
)

# --- input: drafting ---------------------------------------------------------


class DraftSerializer(serializers.Serializer[Any]):
    """What the proposer writes (``DraftContent``). PATCH sends only the fields it changes."""

    title = serializers.CharField(max_length=120)
    body = serializers.CharField()
    category = serializers.ChoiceField(choices=Category.choices)
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


class UrgeInputSerializer(AssignmentInputSerializer):
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)


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
