"""When things happen in the demo: sessions in January, office work in office hours, deadlines in working days.

``Clock`` answers the working-day questions through ``proposals.workdays`` (so the demo's deadlines are
exactly the ones the services would compute), memoised per date because the seeder asks them thousands
of times and each uncached ``workdays`` call reads the calendar's version from the database.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from django.utils import timezone

from consult.people.roles import Chamber
from proposals import workdays
from proposals.models.calendar import SATURDAY, CalendarDay, DayKind

ONE_DAY = timedelta(days=1)
OFFICE_OPENS, OFFICE_CLOSES = time(9, 0), time(17, 30)
AWAKE_FROM, AWAKE_UNTIL = time(7, 30), time(23, 0)


def meeting(chamber: str, year: int) -> tuple[date, date]:
    """The days of the annual session (两会): the CPPCC opens a couple of days before the congress."""
    if chamber == Chamber.CPPCC:
        return date(year, 1, 11), date(year, 1, 16)
    return date(year, 1, 13), date(year, 1, 18)


class Clock:
    """Working days, office hours and a fixed ``now`` for one seeding run."""

    def __init__(self, now: datetime | None = None) -> None:
        self.tz = ZoneInfo(str(timezone.get_default_timezone()))
        self.now = timezone.localtime(now or timezone.now(), self.tz)
        self.today = self.now.date()
        # Office hours only need the calendar's exceptions, read once (workdays reads its version per call).
        self._exceptions = dict(CalendarDay.objects.values_list("date", "kind"))
        self._after: dict[tuple[date, int], date] = {}
        self._months: dict[tuple[date, int], date] = {}

    # --- deadlines: ``proposals.workdays`` itself, so they are exactly the services' --------------

    def works(self, day: date) -> bool:
        """``workdays.is_working_day``, from the rows read once: weekdays work unless a holiday; 调休 weekends work."""
        kind = self._exceptions.get(day)
        return day.weekday() < SATURDAY if kind is None else kind == DayKind.WORKDAY

    def add_working_days(self, day: date, days: int) -> date:
        key = (day, days)
        if key not in self._after:
            self._after[key] = workdays.add_working_days(day, days)
        return self._after[key]

    def add_months(self, day: date, months: int) -> date:
        """``workdays.add_months_then_working_day``: the reply and opinion deadlines."""
        key = (day, months)
        if key not in self._months:
            self._months[key] = workdays.add_months_then_working_day(day, months)
        return self._months[key]

    # --- moments ------------------------------------------------------------------------------

    def local(self, moment: datetime) -> datetime:
        return timezone.localtime(moment, self.tz)

    def at(self, day: date, clock_time: time) -> datetime:
        return datetime.combine(day, clock_time, tzinfo=self.tz)

    def office(self, moment: datetime, rng: random.Random, *, backward: bool = False) -> datetime:
        """``moment`` if it falls in office hours, else the nearest office moment after (or before) it."""
        local = self.local(moment)
        day, clock_time = local.date(), local.timetz().replace(tzinfo=None)
        if self.works(day) and OFFICE_OPENS <= clock_time < OFFICE_CLOSES:
            return local
        if backward:
            if self.works(day) and clock_time >= OFFICE_CLOSES:
                return self.at(day, time(16, 0)) + timedelta(minutes=rng.randint(0, 89))
            day -= ONE_DAY
            while not self.works(day):
                day -= ONE_DAY
            return self.at(day, time(14, 0)) + timedelta(minutes=rng.randint(0, 209))
        if not (self.works(day) and clock_time < OFFICE_OPENS):
            day += ONE_DAY
            while not self.works(day):
                day += ONE_DAY
        return self.at(day, OFFICE_OPENS) + timedelta(minutes=rng.randint(0, 150))

    def awake(self, moment: datetime, rng: random.Random, *, backward: bool = False) -> datetime:
        """Deputies write any day, but not in the middle of the night."""
        local = self.local(moment)
        day, clock_time = local.date(), local.timetz().replace(tzinfo=None)
        if AWAKE_FROM <= clock_time < AWAKE_UNTIL:
            return local
        if backward:
            day = day if clock_time >= AWAKE_UNTIL else day - ONE_DAY
            return self.at(day, time(21, 0)) + timedelta(minutes=rng.randint(0, 110))
        day = day if clock_time < AWAKE_FROM else day + ONE_DAY
        return self.at(day, AWAKE_FROM) + timedelta(minutes=rng.randint(0, 120))

    def months_before(self, day: date, months: int) -> date:
        return day - relativedelta(months=months)
