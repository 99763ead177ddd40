"""FilterSets for people and organisations, shared by the API and the pages."""

from __future__ import annotations

import django_filters
from django.db.models import Q, QuerySet

from consult.models import Bureau, DeputyProfile, ExpertProfile
from consult.people.roles import Chamber


class BureauFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_text", label="name or topic")

    class Meta:
        model = Bureau
        fields = ["code"]

    def filter_text(self, queryset: QuerySet[Bureau], name: str, value: str) -> QuerySet[Bureau]:
        return queryset.filter(Q(name__icontains=value) | Q(full_name__icontains=value) | Q(topics__icontains=value))


class ExpertFilter(django_filters.FilterSet):
    bureau = django_filters.NumberFilter(field_name="bureau_id")
    department = django_filters.NumberFilter(field_name="department_id")
    q = django_filters.CharFilter(method="filter_text", label="name or expertise")

    class Meta:
        model = ExpertProfile
        fields = ["bureau", "department"]

    def filter_text(self, queryset: QuerySet[ExpertProfile], name: str, value: str) -> QuerySet[ExpertProfile]:
        return queryset.filter(Q(user__full_name__icontains=value) | Q(expertise__icontains=value))


class DeputyFilter(django_filters.FilterSet):
    chamber = django_filters.ChoiceFilter(choices=Chamber.choices)
    q = django_filters.CharFilter(method="filter_text", label="name, delegation or sector")

    class Meta:
        model = DeputyProfile
        fields = ["chamber", "delegation", "sector", "term"]

    def filter_text(self, queryset: QuerySet[DeputyProfile], name: str, value: str) -> QuerySet[DeputyProfile]:
        return queryset.filter(
            Q(user__full_name__icontains=value) | Q(delegation__icontains=value) | Q(sector__icontains=value)
        )
