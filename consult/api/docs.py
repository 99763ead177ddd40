"""The OpenAPI schema and its Swagger pages: for signed-in users (session or API token) unless ``API_DOCS_PUBLIC``.

The setting is read on each request. Signed out, the schema answers 401 in the one error shape; the Swagger page,
which people open in a browser, sends them to the sign-in page and back.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework import exceptions
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView


class DocsReaders(BasePermission):
    """Anyone signed in; everyone when ``API_DOCS_PUBLIC`` is on."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        return bool(settings.API_DOCS_PUBLIC or (request.user and request.user.is_authenticated))


class SchemaView(SpectacularAPIView):
    permission_classes = [DocsReaders]


class SwaggerView(SpectacularSwaggerView):
    permission_classes = [DocsReaders]

    def handle_exception(self, exc: Exception) -> Any:
        if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
            return redirect_to_login(self.request.get_full_path())
        response: Response = super().handle_exception(exc)
        return response
