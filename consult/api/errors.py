"""The one place where errors become HTTP responses for the JSON API.

Every error body has the same shape::

    {"code": "invalid_input", "message": "...", "fields": {"name": ["..."]}}

``fields`` appears when the error is about particular input fields, and names them.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from rest_framework import exceptions as drf_exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from consult.kernel.exceptions import DomainError


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    # Django's own errors, raised by generic views (get_object_or_404) and permission checks.
    if isinstance(exc, Http404):
        exc = drf_exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = drf_exceptions.PermissionDenied()
    if isinstance(exc, DomainError):
        body: dict[str, Any] = {"code": exc.code, "message": exc.message}
        if exc.field:
            body["fields"] = {exc.field: [exc.message]}
        return Response(body, status=exc.status)
    response = drf_exception_handler(exc, context)
    if response is None or not isinstance(exc, drf_exceptions.APIException):
        return response
    response.data = _reshape(exc, response.data)
    return response


def _reshape(exc: drf_exceptions.APIException, data: Any) -> dict[str, Any]:
    if isinstance(exc, drf_exceptions.ValidationError):
        fields = flat_fields(data if isinstance(data, dict) else {"non_field_errors": data})
        first_field = next(iter(fields), "non_field_errors")
        detail = fields.get(first_field, [])
        first_message = detail[0] if detail else ""
        return {"code": "invalid_input", "message": f"{first_field}: {first_message}", "fields": fields}
    detail = data.get("detail", data) if isinstance(data, dict) else data
    code = exc.get_codes()
    return {"code": code if isinstance(code, str) else exc.default_code, "message": str(detail)}


def flat_fields(errors: Any, prefix: str = "") -> dict[str, list[str]]:
    """Field errors as ``{name: [message, ...]}``; nested input is named with dots (``expert_ids.0``)."""
    if isinstance(errors, dict):
        flat: dict[str, list[str]] = {}
        for name, detail in errors.items():
            flat.update(flat_fields(detail, f"{prefix}.{name}" if prefix else str(name)))
        return flat
    if isinstance(errors, list) and any(isinstance(item, dict | list) for item in errors):
        flat = {}
        for index, item in enumerate(errors):
            if item:  # a list of nested objects has an empty entry for each valid one
                flat.update(flat_fields(item, f"{prefix}.{index}"))
        return flat
    messages = errors if isinstance(errors, list) else [errors]
    return {prefix or "non_field_errors": [str(message) for message in messages]}
