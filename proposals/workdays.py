"""Working days on the Chinese calendar (工作日): every statutory deadline of the proposal cycle counts them.

A weekday is a working day unless a ``CalendarDay`` HOLIDAY row says otherwise; a Saturday or Sunday
is a day off unless a WORKDAY row (调休上班) says otherwise.

- ``is_working_day`` / ``is_working_hours``: the questions.
- ``add_working_days``: the return window (退办, 7 working days), publication (20 working days).
- ``working_days_between``: how many working days are left or overdue.
- ``add_months_then_working_day``: "reply within 3 months of assignment", moved off a day off.
- ``deadline_at``: the last moment of a deadline day, timezone-aware.
- ``DeadlineBasis``: what a deadline is counted from, kept beside it so a calendar edit can count it again.
- ``seed_calendar`` / ``seed_calendar_days``: write the built-in arrangements of ``proposals.holidays``.

Cache: each process keeps the whole calendar (a few dozen rows a year) as one dict. Every public call
first reads a cheap version of the table, ``(count, max(id), max(updated_at))``, in one aggregate
query, and reloads the rows when it differs. So a change saved in the admin of one process is seen by
every other process (web workers, Celery, Daphne) on its next call, and a deletion or a rolled-back
transaction is seen too. The one change the version misses is ``QuerySet.update()`` that leaves
``updated_at`` alone: call ``clear_cache()`` after one (the admin and ``seed_calendar`` call it anyway).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import Count, Max
from django.utils import timezone

from proposals.holidays import PROVISIONAL_NOTE, CalendarEntry, calendar_entries
from proposals.models.calendar import CalendarDay, DayKind

ONE_DAY = timedelta(days=1)
SATURDAY = 5
END_OF_DAY = time(23, 59, 59)
DEFAULT_WORKING_HOURS = (9, 17.5)  # 09:00-17:30 local time; settings.WORKING_HOURS overrides it

Version = tuple[int, int | None, datetime | None]


@dataclass(frozen=True)
class _Snapshot:
    version: Version
    kinds: Mapping[date, str]


class _CalendarCache:
    """The calendar rows this process last read, with the table version they were read at."""

    snapshot: _Snapshot | None = None


_cache = _CalendarCache()


def clear_cache() -> None:
    """Forget the cached calendar; the next call reads the rows again."""
    _cache.snapshot = None


def _table_version() -> Version:
    stats: dict[str, Any] = CalendarDay.objects.aggregate(
        count=Count("id"), last_id=Max("id"), last_update=Max("updated_at")
    )
    return stats["count"], stats["last_id"], stats["last_update"]


def _calendar() -> Mapping[date, str]:
    """Date -> DayKind value of every stored row, from the cache while the table is unchanged."""
    # The version is read before the rows: a write in between makes the next call reload, never
    # leaves newer rows hidden behind an older version.
    version = _table_version()
    snapshot = _cache.snapshot
    if snapshot is None or snapshot.version != version:
        snapshot = _Snapshot(version, dict(CalendarDay.objects.values_list("date", "kind")))
        _cache.snapshot = snapshot
    return snapshot.kinds


def _works(day: date, kinds: Mapping[date, str]) -> bool:
    kind = kinds.get(day)
    if kind is None:
        return day.weekday() < SATURDAY
    return kind == DayKind.WORKDAY


def _first_working_day_from(day: date, kinds: Mapping[date, str]) -> date:
    while not _works(day, kinds):
        day += ONE_DAY
    return day


def is_working_day(day: date) -> bool:
    return _works(day, _calendar())


def add_working_days(start: date, days: int) -> date:
    """The day that is ``days`` working days after ``start`` (which is not counted).

    ``days=0`` gives ``start`` itself if it is a working day, else the next working day.
    """
    if days < 0:
        raise ValueError(f"days must be zero or more, not {days}")
    kinds = _calendar()
    day = start
    for _ in range(days):
        day = _first_working_day_from(day + ONE_DAY, kinds)
    return _first_working_day_from(day, kinds)  # only moves when days=0 and start is a day off


def _count_working_days(start: date, end: date, kinds: Mapping[date, str]) -> int:
    return sum(_works(start + timedelta(days=offset), kinds) for offset in range(1, (end - start).days + 1))


def working_days_between(start: date, end: date) -> int:
    """Working days in (start, end]; negative, counting (end, start], when ``end`` is before ``start``."""
    kinds = _calendar()
    if end < start:
        return -_count_working_days(end, start, kinds)
    return _count_working_days(start, end, kinds)


def add_months(start: date, months: int) -> date:
    """The same day of the month ``months`` later, clamped to the month's end (Jan 31 + 1 -> Feb 28/29)."""
    return start + relativedelta(months=months)


def add_months_then_working_day(start: date, months: int) -> date:
    """``add_months``, moved forward to the next working day when it lands on a day off."""
    return _first_working_day_from(add_months(start, months), _calendar())


def deadline_at(day: date) -> datetime:
    """The end of ``day`` (23:59:59) in ``settings.TIME_ZONE``: a deadline is met up to this moment."""
    return datetime.combine(day, END_OF_DAY, tzinfo=timezone.get_default_timezone())


@dataclass(frozen=True)
class DeadlineBasis:
    """How a deadline is counted: ``working_days`` working days after ``start`` (退办, 公开), or ``months``
    calendar months after ``start`` moved to the next working day (答复, 会办意见; ``months=0`` is a fixed
    date such as an approved extension, moved off a day off only when the calendar changes under it).
    """

    start: date
    working_days: int | None = None
    months: int = 0

    def due(self) -> date:
        if self.working_days is not None:
            return add_working_days(self.start, self.working_days)
        return add_months_then_working_day(self.start, self.months)

    def counts(self, day: date, due: date) -> bool:
        """Whether the working status of ``day`` decides this deadline, now at ``due``."""
        if self.working_days is not None:
            return self.start < day <= due
        return add_months(self.start, self.months) <= day <= due

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"start": self.start.isoformat()}
        if self.working_days is not None:
            data["working_days"] = self.working_days
        else:
            data["months"] = self.months
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> DeadlineBasis | None:
        if not data or "start" not in data:
            return None
        working_days = data.get("working_days")
        return cls(
            start=date.fromisoformat(data["start"]),
            working_days=None if working_days is None else int(working_days),
            months=int(data.get("months", 0)),
        )


def _working_hours() -> tuple[float, float]:
    opens, closes = getattr(settings, "WORKING_HOURS", DEFAULT_WORKING_HOURS)
    if not 0 <= opens < closes <= 24:
        raise ImproperlyConfigured(f"WORKING_HOURS must be (opens, closes) within 0-24, not {(opens, closes)}")
    return float(opens), float(closes)


def is_working_hours(moment: datetime) -> bool:
    """Whether an aware ``moment`` falls in office hours, [opens, closes), of a working day, local time."""
    opens, closes = _working_hours()
    local = timezone.localtime(moment)  # refuses a naive datetime
    # Whole seconds, so a setting like 17.5 or 8.25 compares exactly.
    second_of_day = local.hour * 3600 + local.minute * 60 + local.second
    in_hours = round(opens * 3600) <= second_of_day < round(closes * 3600)
    return in_hours and is_working_day(local.date())


def _upsert(entry: CalendarEntry, row: CalendarDay | None) -> bool:
    """Create or correct one row; whether anything was written."""
    wanted = {"kind": entry.kind, "name": entry.name, "note": entry.note}
    if row is not None and all(getattr(row, field) == value for field, value in wanted.items()):
        return False
    row = row or CalendarDay(date=entry.day)
    for field, value in wanted.items():
        setattr(row, field, value)
    row.full_clean()
    row.save()
    return True


@dataclass(frozen=True)
class Seeded:
    """What ``seed_calendar_days`` did: rows created, changed or deleted, and the dates whose working
    status flipped (a name or note corrected changes no deadline)."""

    rows: int
    flipped: list[date]


@transaction.atomic
def seed_calendar_days(years: Iterable[int] | None = None) -> Seeded:
    """Write the built-in arrangements of ``years`` (every known year by default).

    Idempotent: a second run writes nothing. A row on a built-in date is overwritten with the built-in
    data; rows on other dates (an administrator's additions) are left alone, except a provisional row
    (``PROVISIONAL_NOTE``) of a year whose built-in data no longer has that date: the confirmed
    arrangement replaces the provisional one, so that row is deleted.
    """
    entries = calendar_entries(years)
    before = dict(CalendarDay.objects.filter(date__year__in={e.day.year for e in entries}).values_list("date", "kind"))
    existing = CalendarDay.objects.in_bulk([entry.day for entry in entries], field_name="date")
    rows = sum(_upsert(entry, existing.get(entry.day)) for entry in entries)
    stale = CalendarDay.objects.filter(date__in=list(before), note=PROVISIONAL_NOTE).exclude(
        date__in=[entry.day for entry in entries]
    )
    rows += stale.delete()[0]
    clear_cache()
    after = dict(CalendarDay.objects.filter(date__in=[*before, *(e.day for e in entries)]).values_list("date", "kind"))
    flipped = sorted(day for day in {*before, *after} if _works(day, before) != _works(day, after))
    return Seeded(rows=rows, flipped=flipped)


def seed_calendar(years: Iterable[int] | None = None) -> int:
    """``seed_calendar_days``, counted: rows created, changed or deleted (0 on a second run)."""
    return seed_calendar_days(years).rows
