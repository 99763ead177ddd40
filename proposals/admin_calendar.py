"""Django admin for the working-day calendar: administrators enter each year's holidays and 调休 days here.

Registered on import; ``proposals/admin.py`` imports this module. Every save or delete clears the
``proposals.workdays`` cache of this process once the transaction commits (other processes notice the
change through the table version, see ``proposals.workdays``).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import transaction
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext_lazy as _

from proposals import workdays
from proposals.models.calendar import CalendarDay


class CalendarDayAdmin(admin.ModelAdmin[CalendarDay]):
    list_display = ["date", "weekday", "kind", "name", "note"]
    list_filter = ["kind"]
    date_hierarchy = "date"
    search_fields = ["name", "note"]
    ordering = ["date"]

    @admin.display(description=_("weekday"), ordering="date")
    def weekday(self, obj: CalendarDay) -> str:
        return str(WEEKDAYS[obj.date.weekday()])

    def save_model(self, request: HttpRequest, obj: CalendarDay, form: ModelForm[CalendarDay], change: bool) -> None:
        super().save_model(request, obj, form, change)
        transaction.on_commit(workdays.clear_cache)

    def delete_model(self, request: HttpRequest, obj: CalendarDay) -> None:
        super().delete_model(request, obj)
        transaction.on_commit(workdays.clear_cache)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[CalendarDay, Any]) -> None:
        super().delete_queryset(request, queryset)
        transaction.on_commit(workdays.clear_cache)


admin.site.register(CalendarDay, CalendarDayAdmin)
