"""JSON API of proposal search: full text with facets, and "similar proposals" for a text being written.

Thin views over ``proposals.searching``: it validates the filters (the list API's ``ProposalFilter``),
scopes every hit to what the viewer may see and answers from the database when the engine is down
(``degraded``). Errors (a bad filter, a bad page) come out in the one shape of ``consult.api.errors``,
naming the field.
"""

from __future__ import annotations

from typing import Any, cast

from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from consult.api.pagination import page_links
from proposals.models import OutcomeClass, Proposal, ProposalKind, Status
from proposals.searching import (
    MAX_PER_PAGE,
    SORTS,
    FacetOption,
    ProposalHit,
    ProposalSearch,
    SimilarProposal,
    search_proposals,
    similar_proposals,
)

SIMILAR_LIMIT = 5
TITLE_MAX = 500  # the similar query reads the first 200 characters of the title, 3 000 of the body
BODY_MAX = 50_000


def proposal_url(proposal: Proposal) -> str:
    return reverse("proposal-detail", args=[proposal.pk])


# --- shapes ------------------------------------------------------------------------------------


class HighlightsField(serializers.DictField):
    """Field name (``title``, ``body``, ``replies``) -> snippet of the original text, HTML-escaped,
    matches wrapped in ``<mark>``."""

    child = serializers.CharField()


class ProposalHitSerializer(serializers.Serializer[ProposalHit]):
    id = serializers.IntegerField(source="proposal.pk")
    code = serializers.CharField(source="proposal.code", help_text="the number as printed, e.g. 2027-建-0012")
    title = serializers.CharField(source="proposal.title")
    status = serializers.ChoiceField(source="proposal.status", choices=Status.choices)
    status_display = serializers.CharField(source="proposal.get_status_display")
    kind = serializers.ChoiceField(source="proposal.kind", choices=ProposalKind.choices)
    year = serializers.IntegerField(source="proposal.session.year")
    category = serializers.CharField(source="proposal.category")
    outcome_class = serializers.ChoiceField(
        source="proposal.outcome_class", choices=OutcomeClass.choices, allow_blank=True
    )
    submitted_at = serializers.DateTimeField(source="proposal.submitted_at", allow_null=True)
    url = serializers.SerializerMethodField(help_text="the proposal's page")
    highlights = HighlightsField()

    def get_url(self, hit: ProposalHit) -> str:
        return proposal_url(hit.proposal)


class FacetOptionSerializer(serializers.Serializer[FacetOption]):
    value = serializers.CharField(help_text="what to pass as the filter's value")
    label = serializers.CharField()  # type: ignore[assignment]  # a field named like Field.label (the stubs object)
    count = serializers.IntegerField()
    selected = serializers.BooleanField()


class ProposalSearchSerializer(serializers.Serializer[ProposalSearch]):
    """The one page shape (``consult.api.pagination``): ``count``, ``next``, ``previous``, ``results``, and beside
    them ``degraded`` and ``facets``. ``context["links"]``: ``next`` and ``previous``."""

    count = serializers.IntegerField(source="total")
    next = serializers.SerializerMethodField()
    previous = serializers.SerializerMethodField()
    degraded = serializers.BooleanField(
        help_text="the search engine was down: plain matching in the database, no facets, maybe fewer hits"
    )
    results = ProposalHitSerializer(source="hits", many=True)
    facets = serializers.DictField(
        child=FacetOptionSerializer(many=True), help_text="status, kind, year, bureau, outcome_class, category"
    )

    @extend_schema_field({"type": "string", "format": "uri", "nullable": True})
    def get_next(self, found: ProposalSearch) -> str | None:
        return cast(str | None, self.context["links"]["next"])

    @extend_schema_field({"type": "string", "format": "uri", "nullable": True})
    def get_previous(self, found: ProposalSearch) -> str | None:
        return cast(str | None, self.context["links"]["previous"])


class SimilarInputSerializer(serializers.Serializer[Any]):
    title = serializers.CharField(required=False, allow_blank=True, default="", max_length=TITLE_MAX)
    body = serializers.CharField(required=False, allow_blank=True, default="", max_length=BODY_MAX)
    exclude = serializers.IntegerField(
        required=False, allow_null=True, default=None, min_value=1, help_text="the proposal being written: never listed"
    )


class SimilarProposalSerializer(serializers.Serializer[SimilarProposal]):
    id = serializers.IntegerField(source="proposal.pk")
    code = serializers.CharField(source="proposal.code")
    title = serializers.CharField(source="proposal.title")
    outcome_class = serializers.ChoiceField(
        source="proposal.outcome_class", choices=OutcomeClass.choices, allow_blank=True
    )
    outcome_display = serializers.CharField(source="proposal.get_outcome_class_display")
    status = serializers.ChoiceField(source="proposal.status", choices=Status.choices)
    status_display = serializers.CharField(source="proposal.get_status_display")
    year = serializers.IntegerField(source="proposal.session.year")
    lead_bureaus = serializers.ListField(child=serializers.CharField(), help_text="lead or separately replying bureaus")
    reply = serializers.CharField(help_text="the earlier reply, cut short (empty before one was sent)")
    url = serializers.SerializerMethodField()
    highlights = HighlightsField()

    def get_url(self, similar: SimilarProposal) -> str:
        return proposal_url(similar.proposal)


class SimilarListSerializer(serializers.Serializer[Any]):
    results = SimilarProposalSerializer(many=True)


# --- views -------------------------------------------------------------------------------------


def _filter(name: str, kind: Any, description: str, *, many: bool = False, enum: Any = None) -> OpenApiParameter:
    return OpenApiParameter(name, kind, OpenApiParameter.QUERY, description=description, many=many, enum=enum)


SEARCH_PARAMETERS = [
    _filter("q", str, "words, a phrase in quotes, or a number such as 2027-建-0012"),
    OpenApiParameter("sort", str, enum=list(SORTS), description="default: relevance with q, newest without"),
    _filter("page", int, "from 1"),
    _filter("page_size", int, f"1 to {MAX_PER_PAGE}, default 20"),
    OpenApiParameter("scope", str, enum=["mine"], description="a deputy's own proposals (and co-signed) only"),
    _filter("status", str, "any of these statuses", many=True, enum=Status.values),
    _filter("kind", str, "suggestion (建议) or proposal (提案)", enum=ProposalKind.values),
    _filter("year", int, "the session's year"),
    _filter("session", int, "session id"),
    _filter("bureau", int, "bureau id (any assignment)"),
    _filter("outcome_class", str, "any of these reply classes", many=True, enum=OutcomeClass.values),
    _filter("category", str, "category"),
    _filter("proposer", int, "proposer's user id"),
    _filter("overdue", bool, "reply overdue"),
]


class ProposalSearchView(APIView):
    @extend_schema(
        parameters=SEARCH_PARAMETERS,
        responses=ProposalSearchSerializer,
        summary="Full-text search of the proposals the viewer may see, with facets",
    )
    def get(self, request: Request) -> Response:
        found = search_proposals(request.user, request.query_params)
        links = page_links(request, found.page, found.num_pages)
        return Response(ProposalSearchSerializer(found, context={"links": links}).data)


class SimilarProposalsView(APIView):
    """Earlier proposals on the subject of a title and text being written (never drafts, never ``exclude``)."""

    @extend_schema(
        parameters=[SimilarInputSerializer],
        responses=SimilarListSerializer,
        summary="Similar earlier proposals (query string)",
    )
    def get(self, request: Request) -> Response:
        return self._answer(request.query_params)

    @extend_schema(
        request=SimilarInputSerializer,
        responses=SimilarListSerializer,
        summary="Similar earlier proposals (a long text in the body)",
    )
    def post(self, request: Request) -> Response:
        return self._answer(request.data)

    def _answer(self, data: Any) -> Response:
        given = SimilarInputSerializer(data=data)
        given.is_valid(raise_exception=True)
        found = similar_proposals(
            self.request.user,
            title=given.validated_data["title"],
            body=given.validated_data["body"],
            exclude_id=given.validated_data["exclude"],
            limit=SIMILAR_LIMIT,
        )
        return Response(SimilarListSerializer({"results": found}).data)
