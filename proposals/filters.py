"""The one FilterSet for proposals: used by the list API, the pages and (later) search facets."""

from __future__ import annotations

from datetime import timedelta

import django_filters
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from proposals.categories import Category
from proposals.models import Assignment, OutcomeClass, Proposal, ProposalKind, Status
from proposals.models.choices import IN_HANDS_OF_BUREAUS
from proposals.publication import proposals_awaiting_publication

MAX_DUE_WITHIN_DAYS = 3660


class StableOrderingFilter(django_filters.OrderingFilter):
    """Orders by the chosen fields, then by id, so pages never repeat or skip rows that tie."""

    def filter(self, qs: QuerySet[Proposal], value: list[str] | None) -> QuerySet[Proposal]:
        ordered = super().filter(qs, value)
        fields = list(ordered.query.order_by)
        if value and not any(str(field).lstrip("-") in {"id", "pk"} for field in fields):
            ordered = ordered.order_by(*fields, "-id")
        return ordered


class ProposalFilter(django_filters.FilterSet):
    # distinct=False: these filter plain columns; DISTINCT over every column made the list 10x slower.
    status = django_filters.MultipleChoiceFilter(choices=Status.choices, distinct=False)
    kind = django_filters.ChoiceFilter(choices=ProposalKind.choices)
    year = django_filters.NumberFilter(field_name="session__year")
    session = django_filters.NumberFilter(field_name="session_id")
    bureau = django_filters.NumberFilter(method="filter_bureau", label="bureau id (any assignment)")
    outcome_class = django_filters.MultipleChoiceFilter(choices=OutcomeClass.choices, distinct=False)
    overdue = django_filters.BooleanFilter(method="filter_overdue")
    # Bounded: today + 3 000 000 days overflowed the date type (a 500); no deadline is more than ten years out.
    due_within = django_filters.NumberFilter(
        method="filter_due_within", label="due within N days (0 to 3660)", min_value=0, max_value=MAX_DUE_WITHIN_DAYS
    )
    publication = django_filters.ChoiceFilter(
        choices=[("awaiting", "awaiting publication"), ("overdue", "publication overdue")],
        method="filter_publication",
        label="a reply awaits publication (公开), or is past its publication due date",
    )
    proposer = django_filters.NumberFilter(field_name="proposer_id")
    category = django_filters.ChoiceFilter(choices=Category.choices)
    number = django_filters.CharFilter(method="filter_number", label="number, e.g. 2027-建-0012 or 12")
    q = django_filters.CharFilter(method="filter_text", label="text in title or body")
    ordering = StableOrderingFilter(
        fields=(("reply_due", "reply_due"), ("created_at", "created"), ("number", "number"), ("updated_at", "updated"))
    )

    class Meta:
        model = Proposal
        fields = ["status", "kind", "year", "session", "outcome_class", "proposer", "category"]

    def filter_bureau(self, queryset: QuerySet[Proposal], name: str, value: int) -> QuerySet[Proposal]:
        return queryset.filter(Exists(Assignment.objects.filter(proposal=OuterRef("pk"), bureau_id=value)))

    def filter_overdue(self, queryset: QuerySet[Proposal], name: str, value: bool) -> QuerySet[Proposal]:
        late = Q(status__in=IN_HANDS_OF_BUREAUS, reply_due__lt=timezone.localdate())
        return queryset.filter(late) if value else queryset.exclude(late)

    def filter_due_within(self, queryset: QuerySet[Proposal], name: str, value: int) -> QuerySet[Proposal]:
        today = timezone.localdate()
        return queryset.filter(
            status__in=IN_HANDS_OF_BUREAUS, reply_due__gte=today, reply_due__lte=today + timedelta(days=int(value))
        )

    def filter_publication(self, queryset: QuerySet[Proposal], name: str, value: str) -> QuerySet[Proposal]:
        overdue_on = timezone.localdate() if value == "overdue" else None
        return proposals_awaiting_publication(queryset, overdue_on=overdue_on)

    def filter_number(self, queryset: QuerySet[Proposal], name: str, value: str) -> QuerySet[Proposal]:
        digits = value.strip().rsplit("-", 1)[-1]
        if not digits.isdigit():
            return queryset.none()
        found = queryset.filter(number=int(digits))
        parts = value.strip().split("-")
        if len(parts) == 3 and parts[0].isdigit():
            found = found.filter(session__year=int(parts[0]), session__number_prefix=parts[1])
        return found

    def filter_text(self, queryset: QuerySet[Proposal], name: str, value: str) -> QuerySet[Proposal]:
        """Through the search engine (synonyms, questions, numbers in text, replies and bureau names),
        narrowed by the same filters; the list then orders and pages as always. The database's
        ``icontains`` when the engine is down (as the search API) or for a list without a requesting user."""
        user = getattr(getattr(self, "request", None), "user", None)
        if user is not None and user.is_authenticated:
            from proposals.searching import matching_ids  # searching imports this module

            ids = matching_ids(user, value, self.form.cleaned_data)
            if ids is not None:
                return queryset.filter(pk__in=ids)
        return self.filter_text_in_database(queryset, value)

    @staticmethod
    def filter_text_in_database(queryset: QuerySet[Proposal], value: str) -> QuerySet[Proposal]:
        return queryset.filter(Q(title__icontains=value) | Q(body__icontains=value))
