"""API routes of the proposal cycle (mounted under /api/)."""

from django.urls import URLPattern, URLResolver

urlpatterns: list[URLPattern | URLResolver] = []
