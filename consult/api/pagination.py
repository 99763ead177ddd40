"""The one pagination shape of every list in the API, search included.

``{"count", "next", "previous", "results"}``, chosen with ``page`` (from 1) and ``page_size`` (1 to
``MAX_PAGE_SIZE``, ``PAGE_SIZE`` by default). Lists may add keys beside ``results`` (search adds ``facets``
and ``degraded``, notifications ``unread``); the four keys are always there.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.utils.urls import remove_query_param, replace_query_param

MAX_PAGE_SIZE = 200
DEFAULT_PAGE_SIZE = 50  # REST_FRAMEWORK["PAGE_SIZE"] says the same; this is the fallback


class Page(PageNumberPagination):
    """Page-number pagination that honours ``page_size`` (capped) and refuses a bad one with a 400."""

    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE
    page_size_query_description = f"results per page, 1 to {MAX_PAGE_SIZE}"

    def get_page_size(self, request: Request) -> int:
        return page_size_of(request, default=self.page_size or DEFAULT_PAGE_SIZE)


def page_size_of(request: Request, *, default: int) -> int:
    """``page_size`` from the query string: absent means ``default``; out of range is capped; junk is a 400."""
    raw = request.query_params.get("page_size")
    if raw in (None, ""):
        return default
    try:
        size = int(raw)
    except ValueError:
        raise ValidationError({"page_size": [_("a whole number is required")]}) from None
    if size < 1:
        raise ValidationError({"page_size": [_("at least 1")]})
    return min(size, MAX_PAGE_SIZE)


def page_links(request: Request, page: int, num_pages: int) -> dict[str, str | None]:
    """``next`` and ``previous`` for a list paginated elsewhere (the search engines page themselves)."""
    url = request.build_absolute_uri()
    following = replace_query_param(url, "page", page + 1) if page < num_pages else None
    if page <= 1:
        previous = None
    elif page == 2:
        previous = remove_query_param(url, "page")
    else:
        previous = replace_query_param(url, "page", page - 1)
    return {"next": following, "previous": previous}


def paginated_schema(results: dict[str, Any], **extra: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI schema of a page whose ``results`` are ``results``, with ``extra`` keys beside them."""
    return {
        "type": "object",
        "required": ["count", "next", "previous", "results", *extra],
        "properties": {
            "count": {"type": "integer", "example": 123},
            "next": {"type": "string", "nullable": True, "format": "uri"},
            "previous": {"type": "string", "nullable": True, "format": "uri"},
            "results": results,
            **extra,
        },
    }
