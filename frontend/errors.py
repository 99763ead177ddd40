"""What a request that fails outside a view's own handling gets: 400, 403 (CSRF too), 404, 413 and 500.

Under ``/api/`` the answer is the API's one error body, ``{"code": ..., "message": ...}`` (the shape of
``consult.api.errors``, which covers what DRF views raise; these views cover the rest: unknown paths, unhandled
exceptions, bodies over the size limit, requests Django refuses before any view runs). Everywhere else it is
a page in the site's look, in the language of the switch (Chinese unless English was chosen).

The 500 page needs nothing that may be what failed: no database, no session, no context processors.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.template.defaultfilters import filesizeformat
from django.template.loader import get_template
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions as drf_exceptions

from frontend.middleware import chosen_language

logger = logging.getLogger(__name__)

API_PREFIX = "/api/"


Text = str | Promise | Callable[[], str]  # a callable for words that need the request's language to be built


@dataclass(frozen=True)
class Failure:
    status: int
    code: str  # the API's machine-readable code (the same as DRF's for the same failure)
    title: Text
    explanation: Text
    api_message: Text


def text(value: Text) -> str:
    return value() if callable(value) else str(value)


def too_large_message() -> str:
    limit = filesizeformat(settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0)
    return _("The request body is over the size limit of %(limit)s.") % {"limit": limit}


BAD_REQUEST = Failure(
    400,
    "bad_request",
    _("Bad request"),
    _("The server could not understand this request. Check the address and try again."),
    _("Bad request."),
)
TOO_LARGE = Failure(413, "too_large", _("Request too large"), too_large_message, too_large_message)
FORBIDDEN = Failure(
    403,
    "permission_denied",
    _("Access denied"),
    _("You may not open this page. Sign in with another account, or ask the office for access."),
    lambda: str(drf_exceptions.PermissionDenied().detail),
)
CSRF_FAILED = Failure(
    403,
    "permission_denied",
    _("The form has expired"),
    _("The page was open too long, or the browser blocks cookies. Go back, reload the page and try again."),
    "CSRF Failed",  # DRF's words for the same refusal (csrf_failure adds the reason)
)
NOT_FOUND = Failure(
    404,
    "not_found",
    _("Page not found"),
    _("The page you asked for does not exist, or it has moved."),
    lambda: str(drf_exceptions.NotFound().detail),
)
SERVER_ERROR = Failure(
    500,
    "server_error",
    _("Server error"),
    _("Something went wrong on our side. It has been logged; please try again in a moment."),
    lambda: str(drf_exceptions.APIException().detail),
)


def is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith(API_PREFIX)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return respond(request, TOO_LARGE if isinstance(exception, RequestDataTooBig) else BAD_REQUEST)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return respond(request, FORBIDDEN)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return respond(request, NOT_FOUND)


def server_error(request: HttpRequest) -> HttpResponse:
    return respond(request, SERVER_ERROR)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """``CSRF_FAILURE_VIEW``: the reason goes into the API's message only (pages explain it in plain words)."""
    return respond(request, CSRF_FAILED, api_message=f"CSRF Failed: {reason}" if reason else None)


def respond(request: HttpRequest, failure: Failure, api_message: str | None = None) -> HttpResponse:
    with translation.override(chosen_language(request)):
        if is_api(request):
            return JsonResponse(
                {"code": failure.code, "message": api_message or text(failure.api_message)},
                status=failure.status,
                json_dumps_params={"ensure_ascii": False},
            )
        error = {"status": failure.status, "title": text(failure.title), "explanation": text(failure.explanation)}
        if failure.status < 500:
            try:
                return render(request, "frontend/errors/page.html", {"error": error}, status=failure.status)
            except Exception:  # the site's frame needs the database (navigation); the plain page does not
                logger.exception("the %s page failed in the site's frame; answered with the plain one", failure.status)
        return plain_page(request, error)


def plain_page(request: HttpRequest, error: dict[str, Any]) -> HttpResponse:
    """Rendered without the request's context processors, so nothing that may be down is touched."""
    # The CSRF token is for the language switch: it comes from the cookie, no database involved.
    context = {"error": error, "next_path": request.get_full_path(), "csrf_token": get_token(request)}
    body = get_template("frontend/errors/plain.html").render(context)
    return HttpResponse(body, status=error["status"])
