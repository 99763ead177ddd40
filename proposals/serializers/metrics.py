"""Shapes of the office statistics."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from proposals.metrics import Scope
from proposals.models import ProposalKind

# --- metrics ----------------------------------------------------------------------


class MetricsQuerySerializer(serializers.Serializer[Any]):
    """One session, the sessions of a year, or a range of submission dates; none of them: everything."""

    year = serializers.IntegerField(required=False, min_value=1949, max_value=9999)
    session = serializers.IntegerField(required=False, min_value=1, max_value=2**31 - 1)
    kind = serializers.ChoiceField(required=False, choices=ProposalKind.choices, help_text="only 建议 or only 提案")
    date_from = serializers.DateField(required=False, help_text="submitted on or after (local date)")
    date_to = serializers.DateField(required=False, help_text="submitted on or before (local date)")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        first: date | None = attrs.get("date_from")
        last: date | None = attrs.get("date_to")
        if first is not None and last is not None and first > last:
            raise serializers.ValidationError({"date_to": _("The end date comes before the start date.")})
        return attrs

    def scope(self) -> Scope:
        data = self.validated_data
        return Scope(
            year=data.get("year"),
            session_id=data.get("session"),
            kind=data.get("kind", ""),
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
        )


class MetricsExportQuerySerializer(MetricsQuerySerializer):
    file = serializers.ChoiceField(choices=[("csv", "CSV"), ("xlsx", "Excel")], help_text="the file type")


class FiguresSerializer(serializers.Serializer[Any]):
    assigned = serializers.IntegerField(help_text="proposals that reached a bureau")
    replied = serializers.IntegerField(help_text="of those, answered at least once (first reply sent)")
    on_time = serializers.IntegerField(help_text="of the replied, first reply by the deadline")
    communicated = serializers.IntegerField(help_text="of the replied, with at least one communication record")
    ratings = serializers.IntegerField(help_text="ratings of the result by the proposer and co-signers")
    satisfied = serializers.IntegerField(help_text="of those, 满意 or 基本满意")
    classes = serializers.DictField(child=serializers.IntegerField(), help_text="replied proposals per class A–D")
    reply_rate = serializers.FloatField(allow_null=True, help_text="办复率: replied / assigned")
    on_time_rate = serializers.FloatField(allow_null=True, help_text="按时办复率: on_time / replied")
    communication_rate = serializers.FloatField(allow_null=True, help_text="沟通率: communicated / replied")
    satisfaction_rate = serializers.FloatField(allow_null=True, help_text="满意率: satisfied / ratings")


class BureauFiguresSerializer(serializers.Serializer[Any]):
    bureau_id = serializers.IntegerField()
    bureau_name = serializers.CharField()
    figures = FiguresSerializer()


class TrendStepSerializer(serializers.Serializer[Any]):
    name = serializers.CharField(help_text="2026 (a session year or a year) or 2026-03 (a month)")
    start = serializers.DateField()
    figures = FiguresSerializer()


class MetricsSerializer(serializers.Serializer[Any]):
    overall = FiguresSerializer()
    per_bureau = BureauFiguresSerializer(many=True)
    trend_by = serializers.ChoiceField(
        choices=["session", "year", "month"],
        help_text="the steps of over_time: session years (the chosen session or year and the nine before it, "
        "same chamber and kind), or years or months of submission (a date range: by month up to 24 months)",
    )
    over_time = TrendStepSerializer(many=True)
