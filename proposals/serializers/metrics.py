"""Shapes of the office statistics."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

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
