"""The working-day calendar (工作日历): statutory holidays and make-up working days (调休).

Only exceptions are stored. A weekday is a working day unless a HOLIDAY row says otherwise; a
Saturday or Sunday is a day off unless a WORKDAY row says otherwise. ``proposals.workdays``
reads these rows to count deadlines; ``proposals.holidays`` holds the built-in data.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

SATURDAY = 5


class DayKind(models.TextChoices):
    HOLIDAY = "holiday", _("statutory holiday")  # 法定节假日
    WORKDAY = "workday", _("make-up working day")  # 调休上班日


class CalendarDay(models.Model):
    """A date whose working status differs from the plain Monday-to-Friday week."""

    date = models.DateField(_("date"), unique=True)
    kind = models.CharField(_("kind"), max_length=8, choices=DayKind.choices)
    name = models.CharField(_("name"), max_length=32, help_text=_("For example 春节 or 国庆节调休."))
    note = models.CharField(_("note"), max_length=200, blank=True)
    # Part of the cheap version key that tells every process its cached calendar is stale.
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        app_label = "proposals"
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")
        ordering = ["date"]
        constraints = [
            models.CheckConstraint(condition=models.Q(kind__in=DayKind.values), name="calendarday_kind_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.name}"

    def clean(self) -> None:
        # A make-up working day on a weekday changes nothing and is almost certainly a typo.
        if self.kind == DayKind.WORKDAY and self.date is not None and self.date.weekday() < SATURDAY:
            raise ValidationError({"kind": _("A make-up working day must fall on a Saturday or Sunday.")})
