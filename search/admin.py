"""The synonym table in the admin: office staff keep the 同义词库 up to date (``search.synonyms``)."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from search.models import Synonym
from search.synonyms import bump_stamp


@admin.register(Synonym)
class SynonymAdmin(admin.ModelAdmin[Synonym]):
    list_display = ("terms", "note", "active", "updated_at")
    list_filter = ("active",)
    search_fields = ("terms", "note")

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Synonym]) -> None:
        super().delete_queryset(request, queryset)  # a bulk delete skips Synonym.delete
        bump_stamp()
