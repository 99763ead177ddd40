"""Django admin for the working-day calendar: administrators enter each year's holidays and 调休 days here.

Registered on import; ``proposals/admin.py`` imports this module. Every save or delete that changes whether
a day is worked clears the ``proposals.workdays`` cache of this process once the transaction commits (other
processes notice the change through the table version, see ``proposals.workdays``) and then moves the open
deadlines that depend on that day (``proposals.services.calendar.recompute_deadlines``), with a timeline entry.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext_lazy as _

from consult.models import User
from proposals.models.calendar import CalendarDay
from proposals.services.calendar import calendar_changed


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
        days = {obj.date}
        if change and "date" in form.changed_data and form.initial.get("date"):
            days.add(form.initial["date"])  # the day it was moved off is back to normal
        if change and not {"date", "kind"} & set(form.changed_data):
            days = set()  # a name or note corrected moves no deadline
        calendar_changed(days, actor=_actor(request))

    def delete_model(self, request: HttpRequest, obj: CalendarDay) -> None:
        super().delete_model(request, obj)
        calendar_changed([obj.date], actor=_actor(request))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[CalendarDay, Any]) -> None:
        days = list(queryset.values_list("date", flat=True))
        super().delete_queryset(request, queryset)
        calendar_changed(days, actor=_actor(request))


def _actor(request: HttpRequest) -> User | None:
    user = request.user
    return user if isinstance(user, User) else None


admin.site.register(CalendarDay, CalendarDayAdmin)
