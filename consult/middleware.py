"""Middleware of the whole site.

``request_body_limit``: a body over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (by its Content-Length) is refused before
anything reads it, as ``RequestDataTooBig`` — the 413 of ``frontend.errors`` (``too_large`` under /api/).
Django checks the limit only where it reads a body itself (``request.body``, form posts); the API's JSON
parser reads the stream, so a JSON body of any size was read whole. As in Django, multipart uploads are not
measured here: their files have their own limits, their other fields Django's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponseBase
from django.utils.decorators import sync_and_async_middleware


def refuse_oversized_body(request: HttpRequest) -> None:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if limit is None or request.content_type == "multipart/form-data":
        return
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return
    if length > limit:
        raise RequestDataTooBig("Request body exceeded settings.DATA_UPLOAD_MAX_MEMORY_SIZE.")


@sync_and_async_middleware
def request_body_limit(get_response: Callable[[HttpRequest], Any]) -> Callable[[HttpRequest], Any]:
    if iscoroutinefunction(get_response):

        async def middleware_async(request: HttpRequest) -> HttpResponseBase:
            refuse_oversized_body(request)
            response: HttpResponseBase = await get_response(request)
            return response

        return markcoroutinefunction(middleware_async)

    def middleware(request: HttpRequest) -> HttpResponseBase:
        refuse_oversized_body(request)
        response: HttpResponseBase = get_response(request)
        return response

    return middleware
