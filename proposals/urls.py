"""API routes of the proposal cycle (mounted under /api/).

Route names start with ``api-proposal`` so they never shadow the page ``proposal-detail``.
"""

from django.urls import URLPattern, URLResolver, include, path
from rest_framework.routers import SimpleRouter

from proposals.api import ProposalViewSet
from proposals.search_api import ProposalSearchView, SimilarProposalsView

router = SimpleRouter()
router.register("proposals", ProposalViewSet, basename="api-proposal")

urlpatterns: list[URLPattern | URLResolver] = [
    path("", include(router.urls)),
    path("search/proposals/", ProposalSearchView.as_view(), name="api-search-proposals"),
    path("search/proposals/similar/", SimilarProposalsView.as_view(), name="api-search-similar"),
]
