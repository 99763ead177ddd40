"""Built-in Chinese holiday arrangements (节假日安排), as published by the State Council (国务院办公厅).

Each year lists its holidays as inclusive date ranges of days off (放假) plus the weekend days
that become working days (调休上班). ``proposals.workdays.seed_calendar`` writes them as
``CalendarDay`` rows; an administrator corrects or extends them in the admin. The data is plain
Python so it can be read and reviewed without Django.

2025 and 2026 follow the published notices. 2027 is provisional: the notice is usually published
in November of the year before, so it holds only the days the law itself fixes (see ``_Y2027``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

PROVISIONAL_NOTE = "暂定，以国务院通知为准"

EntryKind = Literal["holiday", "workday"]  # the values of proposals.models.calendar.DayKind


@dataclass(frozen=True)
class Holiday:
    """One holiday of a year's arrangement: its days off and the weekend days worked to make up for them."""

    name: str
    first: date
    last: date
    make_up_days: tuple[date, ...] = ()
    provisional: bool = False


@dataclass(frozen=True)
class CalendarEntry:
    """One row of the calendar: the shape ``CalendarDay`` stores."""

    day: date
    kind: EntryKind
    name: str
    note: str = ""


_Y2025: tuple[Holiday, ...] = (
    Holiday("元旦", date(2025, 1, 1), date(2025, 1, 1)),
    Holiday("春节", date(2025, 1, 28), date(2025, 2, 4), (date(2025, 1, 26), date(2025, 2, 8))),
    Holiday("清明节", date(2025, 4, 4), date(2025, 4, 6)),
    Holiday("劳动节", date(2025, 5, 1), date(2025, 5, 5), (date(2025, 4, 27),)),
    Holiday("端午节", date(2025, 5, 31), date(2025, 6, 2)),
    Holiday("国庆节、中秋节", date(2025, 10, 1), date(2025, 10, 8), (date(2025, 9, 28), date(2025, 10, 11))),
)

_Y2026: tuple[Holiday, ...] = (
    Holiday("元旦", date(2026, 1, 1), date(2026, 1, 3), (date(2026, 1, 4),)),
    Holiday("春节", date(2026, 2, 15), date(2026, 2, 23), (date(2026, 2, 14), date(2026, 2, 28))),
    Holiday("清明节", date(2026, 4, 4), date(2026, 4, 6)),
    Holiday("劳动节", date(2026, 5, 1), date(2026, 5, 5), (date(2026, 5, 9),)),
    Holiday("端午节", date(2026, 6, 19), date(2026, 6, 21)),
    Holiday("中秋节", date(2026, 9, 25), date(2026, 9, 27)),
    Holiday("国庆节", date(2026, 10, 1), date(2026, 10, 7), (date(2026, 9, 20), date(2026, 10, 10))),
)

# 2027, provisional. Only days off the law guarantees, and no make-up working days, which only the
# notice can fix. Per 全国年节及纪念日放假办法: 春节 is 除夕 to 初三 (New Year's Day 2027 is Sat
# Feb 6, so 除夕 is Fri Feb 5, 初三 Mon Feb 8), 劳动节 is May 1-2, 国庆节 Oct 1-3; and a nationwide
# holiday that falls on a Saturday or Sunday is compensated on the following weekdays (补假). Hence
# 春节 Feb 5-10 (Sat 6 and Sun 7 compensated by Tue 9 and Wed 10), 劳动节 May 1-4 (Sat/Sun -> Mon/Tue),
# 国庆节 Oct 1-5 (Sat/Sun -> Mon/Tue). The real notice will almost certainly give longer breaks paid
# for with make-up Saturdays; until then deadlines err on the early side, never on the late one.
_Y2027: tuple[Holiday, ...] = (
    Holiday("元旦", date(2027, 1, 1), date(2027, 1, 1), provisional=True),
    Holiday("春节", date(2027, 2, 5), date(2027, 2, 10), provisional=True),
    Holiday("清明节", date(2027, 4, 5), date(2027, 4, 5), provisional=True),
    Holiday("劳动节", date(2027, 5, 1), date(2027, 5, 4), provisional=True),
    Holiday("端午节", date(2027, 6, 9), date(2027, 6, 9), provisional=True),
    Holiday("中秋节", date(2027, 9, 15), date(2027, 9, 15), provisional=True),
    Holiday("国庆节", date(2027, 10, 1), date(2027, 10, 5), provisional=True),
)

ARRANGEMENTS: dict[int, tuple[Holiday, ...]] = {2025: _Y2025, 2026: _Y2026, 2027: _Y2027}


def holiday_entries(holiday: Holiday) -> Iterator[CalendarEntry]:
    """The calendar rows of one holiday: every day off, then every make-up working day (named …调休)."""
    note = PROVISIONAL_NOTE if holiday.provisional else ""
    day = holiday.first
    while day <= holiday.last:
        yield CalendarEntry(day, "holiday", holiday.name, note)
        day += timedelta(days=1)
    for make_up in holiday.make_up_days:
        yield CalendarEntry(make_up, "workday", f"{holiday.name}调休", note)


def calendar_entries(years: Iterable[int] | None = None) -> list[CalendarEntry]:
    """The built-in rows of the given years (all known years by default), in date order."""
    wanted = sorted(ARRANGEMENTS) if years is None else sorted(set(years) & set(ARRANGEMENTS))
    entries = [entry for year in wanted for holiday in ARRANGEMENTS[year] for entry in holiday_entries(holiday)]
    return sorted(entries, key=lambda entry: entry.day)
