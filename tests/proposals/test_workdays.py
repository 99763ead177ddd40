"""Working days on the Chinese calendar: holidays, 调休 make-up days, deadlines, the cache and the admin."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client
from django.urls import reverse
from pytest_django.fixtures import DjangoCaptureOnCommitCallbacks, Settings

import proposals.admin_calendar  # noqa: F401  registers the admin until proposals/admin.py imports it
from proposals import workdays
from proposals.holidays import ARRANGEMENTS, PROVISIONAL_NOTE, calendar_entries
from proposals.models.calendar import CalendarDay, DayKind
from proposals.workdays import (
    add_months,
    add_months_then_working_day,
    add_working_days,
    deadline_at,
    is_working_day,
    is_working_hours,
    seed_calendar,
    working_days_between,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(autouse=True)
def fresh_cache() -> Iterator[None]:
    workdays.clear_cache()
    yield
    workdays.clear_cache()


@pytest.fixture
def seeded(db: None) -> int:
    """The built-in 2025, 2026 and provisional 2027 arrangements."""
    return seed_calendar()


def local(year: int, month: int, day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=SHANGHAI)


# --- Which days are working days ------------------------------------------------------------


def test_weekday_without_a_row_is_a_working_day(db: None) -> None:
    # given an empty calendar, when asking about Tuesday 2026-03-10, then it is a working day
    assert is_working_day(date(2026, 3, 10))


@pytest.mark.parametrize("day", [date(2026, 3, 14), date(2026, 3, 15)], ids=["saturday", "sunday"])
def test_weekend_without_a_row_is_a_day_off(db: None, day: date) -> None:
    assert not is_working_day(day)


def test_holiday_row_on_a_weekday_makes_it_a_day_off(db: None) -> None:
    # given National Day (a Thursday) entered as a holiday
    CalendarDay.objects.create(date=date(2026, 10, 1), kind=DayKind.HOLIDAY, name="国庆节")

    # then that Thursday is off, and the Wednesday before still works
    assert not is_working_day(date(2026, 10, 1))
    assert is_working_day(date(2026, 9, 30))


def test_make_up_saturday_is_a_working_day(db: None) -> None:
    CalendarDay.objects.create(date=date(2026, 2, 14), kind=DayKind.WORKDAY, name="春节调休")

    assert is_working_day(date(2026, 2, 14))
    assert not is_working_day(date(2026, 2, 21))  # a plain Saturday stays off


@pytest.mark.parametrize(
    ("day", "works"),
    [
        (date(2026, 1, 1), False),  # 元旦, Thursday
        (date(2026, 1, 4), True),  # 元旦调休, Sunday
        (date(2026, 2, 14), True),  # 春节调休, Saturday
        (date(2026, 2, 16), False),  # 春节, Monday
        (date(2026, 2, 23), False),  # 春节, last day, Monday
        (date(2026, 2, 24), True),
        (date(2026, 2, 28), True),  # 春节调休, Saturday
        (date(2026, 4, 6), False),  # 清明节, Monday
        (date(2026, 5, 5), False),  # 劳动节, Tuesday
        (date(2026, 5, 9), True),  # 劳动节调休, Saturday
        (date(2026, 6, 19), False),  # 端午节, Friday
        (date(2026, 9, 20), True),  # 国庆节调休, Sunday
        (date(2026, 9, 25), False),  # 中秋节, Friday
        (date(2026, 10, 7), False),  # 国庆节, Wednesday
        (date(2026, 10, 8), True),
        (date(2026, 10, 10), True),  # 国庆节调休, Saturday
        (date(2025, 10, 8), False),  # 国庆节、中秋节 2025, Wednesday
        (date(2025, 10, 11), True),  # its 调休 Saturday
    ],
)
def test_built_in_arrangement_decides_the_day(seeded: int, day: date, works: bool) -> None:
    assert is_working_day(day) is works


@pytest.mark.parametrize("year", [2025, 2026, 2027])
def test_built_in_year_has_248_working_days(seeded: int, year: int) -> None:
    # 365 days - 104 weekend days - 13 statutory holidays: 调休 only moves days, 补假 only replaces weekends
    assert working_days_between(date(year - 1, 12, 31), date(year, 12, 31)) == 248


# --- Built-in data ---------------------------------------------------------------------------


def test_built_in_make_up_days_fall_on_weekends() -> None:
    make_up_days = [entry.day for entry in calendar_entries() if entry.kind == "workday"]

    assert make_up_days
    assert all(day.weekday() >= 5 for day in make_up_days)


def test_built_in_data_has_one_entry_per_date() -> None:
    days = [entry.day for entry in calendar_entries()]

    assert len(days) == len(set(days))


def test_provisional_year_is_marked_and_has_no_make_up_days() -> None:
    entries = calendar_entries([2027])

    assert entries
    assert all(entry.note == PROVISIONAL_NOTE for entry in entries)
    assert all(entry.kind == "holiday" for entry in entries)
    assert all(entry.note == "" for entry in calendar_entries([2025, 2026]))


# --- Adding working days ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days", "expected"),
    [
        (0, date(2026, 2, 13)),  # Friday, a working day: itself
        (1, date(2026, 2, 14)),  # the make-up Saturday
        (2, date(2026, 2, 24)),  # over 春节 Feb 15-23
        (3, date(2026, 2, 25)),
    ],
)
def test_add_working_days_across_spring_festival_2026(seeded: int, days: int, expected: date) -> None:
    assert add_working_days(date(2026, 2, 13), days) == expected


def test_seven_working_days_from_the_eve_of_national_day_2026(seeded: int) -> None:
    # given Wednesday 2026-09-30, when adding 7 working days,
    # then Oct 1-7 are skipped: Oct 8, 9, 10 (make-up Saturday), 12, 13, 14, 15
    assert add_working_days(date(2026, 9, 30), 7) == date(2026, 10, 15)


def test_seven_working_days_from_a_friday_before_national_day_2025(seeded: int) -> None:
    # Sep 28 (make-up Sunday), 29, 30, then Oct 1-8 off, then Oct 9, 10, 11 (make-up Saturday), 13
    assert add_working_days(date(2025, 9, 26), 7) == date(2025, 10, 13)


def test_zero_working_days_from_a_day_off_is_the_next_working_day(seeded: int) -> None:
    assert add_working_days(date(2026, 10, 1), 0) == date(2026, 10, 8)
    assert add_working_days(date(2026, 3, 14), 0) == date(2026, 3, 16)  # a plain Saturday


def test_counting_from_a_day_off_starts_at_the_next_working_day(seeded: int) -> None:
    assert add_working_days(date(2026, 10, 3), 1) == date(2026, 10, 8)
    assert add_working_days(date(2026, 10, 3), 2) == date(2026, 10, 9)


def test_negative_working_days_are_refused(db: None) -> None:
    with pytest.raises(ValueError, match="zero or more"):
        add_working_days(date(2026, 3, 10), -1)


def test_return_window_over_labour_day_2026(seeded: int) -> None:
    # given an assignment on Thursday 2026-04-30 and a 7-working-day return window (退办)
    last_day = add_working_days(date(2026, 4, 30), 7)

    # then May 1-5 do not count and the make-up Saturday May 9 does: May 6, 7, 8, 9, 11, 12, 13
    assert last_day == date(2026, 5, 13)
    assert deadline_at(last_day) == local(2026, 5, 13, 23, 59, 59)


def test_return_window_into_the_provisional_year(seeded: int) -> None:
    # Dec 29, 30, 31, then 元旦 2027 (Friday) and the weekend, then Jan 4, 5, 6, 7
    assert add_working_days(date(2026, 12, 28), 7) == date(2027, 1, 7)


def test_publication_window_of_twenty_working_days_over_national_day(seeded: int) -> None:
    # a reply on Friday 2026-09-18: 中秋 and 国庆 take 6 weekdays off, 调休 adds Sunday Sep 20 and Saturday Oct 10
    assert add_working_days(date(2026, 9, 18), 20) == date(2026, 10, 22)


# --- Counting working days between two dates --------------------------------------------------


def test_working_days_between_counts_the_end_not_the_start(seeded: int) -> None:
    assert working_days_between(date(2026, 2, 13), date(2026, 2, 24)) == 2  # Feb 14 and Feb 24
    assert working_days_between(date(2026, 9, 30), date(2026, 10, 8)) == 1


def test_working_days_between_is_negative_when_the_end_is_earlier(seeded: int) -> None:
    assert working_days_between(date(2026, 2, 24), date(2026, 2, 13)) == -2


def test_working_days_between_a_day_and_itself_is_zero(seeded: int) -> None:
    assert working_days_between(date(2026, 10, 1), date(2026, 10, 1)) == 0
    assert working_days_between(date(2026, 3, 10), date(2026, 3, 10)) == 0


def test_working_days_between_is_antisymmetric_and_additive(seeded: int) -> None:
    # given dates around 春节 and 国庆 2026
    days = [date(2026, 1, 30), date(2026, 2, 14), date(2026, 2, 22), date(2026, 9, 19), date(2026, 10, 11)]

    for first in days:
        for second in days:
            # then swapping the ends only flips the sign, and spans add up through any middle day
            assert working_days_between(first, second) == -working_days_between(second, first)
            for third in days:
                assert working_days_between(first, second) + working_days_between(second, third) == (
                    working_days_between(first, third)
                )


def test_add_and_count_agree_for_every_start_in_2026(seeded: int) -> None:
    # for every start day of 2026 and windows up to 30 working days: the result works, and exactly n
    # working days lie in (start, result]
    start = date(2026, 1, 1)
    while start.year == 2026:
        for n in (0, 1, 2, 3, 5, 7, 10, 20, 30):
            result = add_working_days(start, n)
            assert is_working_day(result), (start, n)
            assert result >= start, (start, n)
            if n > 0:
                assert working_days_between(start, result) == n, (start, n)
                assert working_days_between(start, result - timedelta(days=1)) == n - 1, (start, n)
        start += timedelta(days=1)


# --- Months, then the next working day ---------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2026, 3, 31), 1, date(2026, 4, 30)),
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2028, 1, 31), 1, date(2028, 2, 29)),  # leap year
        (date(2026, 1, 31), 13, date(2027, 2, 28)),
        (date(2026, 11, 15), 3, date(2027, 2, 15)),
        (date(2026, 3, 31), -1, date(2026, 2, 28)),
        (date(2026, 5, 20), 0, date(2026, 5, 20)),
    ],
)
def test_add_months_keeps_the_day_clamped_to_the_month_end(start: date, months: int, expected: date) -> None:
    assert add_months(start, months) == expected


def test_reply_due_on_national_day_moves_past_the_holiday(seeded: int) -> None:
    # given an assignment on 2026-07-01, three months later is 2026-10-01, a holiday
    # then the reply is due on the first working day after the week off
    assert add_months_then_working_day(date(2026, 7, 1), 3) == date(2026, 10, 8)


def test_reply_due_on_a_weekend_moves_to_monday(seeded: int) -> None:
    assert add_months_then_working_day(date(2026, 3, 13), 3) == date(2026, 6, 15)  # Sat Jun 13 -> Mon


def test_reply_due_on_a_working_day_stays(seeded: int) -> None:
    assert add_months_then_working_day(date(2026, 3, 10), 3) == date(2026, 6, 10)


def test_month_end_landing_on_a_make_up_saturday_stays(seeded: int) -> None:
    # Jan 31 + 1 month is Saturday Feb 28 2026, a 调休 working day
    assert add_months_then_working_day(date(2026, 1, 31), 1) == date(2026, 2, 28)


def test_month_end_landing_on_a_sunday_moves_to_monday(seeded: int) -> None:
    # Jan 31 2027 + 1 month is Sunday Feb 28
    assert add_months_then_working_day(date(2027, 1, 31), 1) == date(2027, 3, 1)


def test_one_month_deadline_over_spring_festival(seeded: int) -> None:
    # 2026-01-16 + 1 month is Monday Feb 16, inside 春节
    assert add_months_then_working_day(date(2026, 1, 16), 1) == date(2026, 2, 24)


# --- Deadlines and office hours ----------------------------------------------------------------


def test_deadline_is_the_last_second_of_the_day_in_the_project_time_zone() -> None:
    deadline = deadline_at(date(2026, 5, 13))

    assert deadline == local(2026, 5, 13, 23, 59, 59)
    assert deadline.utcoffset() == timedelta(hours=8)
    assert deadline.astimezone(UTC) == datetime(2026, 5, 13, 15, 59, 59, tzinfo=UTC)


def test_deadline_follows_the_time_zone_setting(settings: Settings) -> None:
    settings.TIME_ZONE = "Europe/Berlin"

    deadline = deadline_at(date(2026, 7, 1))

    assert deadline.astimezone(UTC) == datetime(2026, 7, 1, 21, 59, 59, tzinfo=UTC)


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (local(2026, 3, 10, 9, 0), True),  # opening time counts
        (local(2026, 3, 10, 8, 59, 59), False),
        (local(2026, 3, 10, 17, 29, 59), True),
        (local(2026, 3, 10, 17, 30), False),  # closing time does not
        (local(2026, 3, 14, 10, 0), False),  # plain Saturday
        (local(2026, 2, 14, 10, 0), True),  # make-up Saturday
        (local(2026, 10, 1, 10, 0), False),  # National Day
        (datetime(2026, 3, 10, 1, 0, tzinfo=UTC), True),  # 09:00 in Shanghai
        (datetime(2026, 3, 10, 9, 30, tzinfo=UTC), False),  # 17:30 in Shanghai
    ],
)
def test_working_hours(seeded: int, moment: datetime, expected: bool) -> None:
    assert is_working_hours(moment) is expected


def test_working_hours_use_the_local_date(seeded: int, settings: Settings) -> None:
    # given round-the-clock hours, so only the date decides
    settings.WORKING_HOURS = (0, 24)

    # then a Friday night in UTC that is already Saturday in Shanghai is off, and the reverse works
    assert not is_working_hours(datetime(2026, 3, 13, 23, 0, tzinfo=UTC))
    assert is_working_hours(datetime(2026, 3, 15, 22, 0, tzinfo=UTC))


def test_working_hours_setting_is_honoured(seeded: int, settings: Settings) -> None:
    settings.WORKING_HOURS = (8.5, 12)

    assert is_working_hours(local(2026, 3, 10, 8, 30))
    assert not is_working_hours(local(2026, 3, 10, 12, 0))


def test_inverted_working_hours_setting_is_refused(db: None, settings: Settings) -> None:
    settings.WORKING_HOURS = (17.5, 9)

    with pytest.raises(ImproperlyConfigured):
        is_working_hours(local(2026, 3, 10, 10, 0))


def test_naive_moment_is_refused(db: None) -> None:
    with pytest.raises(ValueError, match="naive"):
        is_working_hours(datetime(2026, 3, 10, 10, 0))  # naive on purpose


# --- Seeding -----------------------------------------------------------------------------------


def test_seed_writes_every_built_in_day(db: None) -> None:
    written = seed_calendar()

    assert written == len(calendar_entries()) == CalendarDay.objects.count()
    assert CalendarDay.objects.get(date=date(2026, 2, 14)).name == "春节调休"
    assert CalendarDay.objects.get(date=date(2027, 2, 8)).note == PROVISIONAL_NOTE


def test_seed_twice_writes_nothing_the_second_time(db: None) -> None:
    seed_calendar()

    assert seed_calendar() == 0


def test_seed_restores_a_changed_built_in_day_and_keeps_other_rows(seeded: int) -> None:
    # given an edited built-in row and an administrator's own row
    CalendarDay.objects.filter(date=date(2026, 10, 1)).update(kind=DayKind.WORKDAY, name="改错了")
    CalendarDay.objects.create(date=date(2026, 3, 9), kind=DayKind.HOLIDAY, name="地方节日")

    # when seeding again
    written = seed_calendar()

    # then only the edited row is written back, and the administrator's row stays
    assert written == 1
    assert CalendarDay.objects.get(date=date(2026, 10, 1)).kind == DayKind.HOLIDAY
    assert CalendarDay.objects.filter(date=date(2026, 3, 9)).exists()
    assert not is_working_day(date(2026, 10, 1))


def test_seed_of_one_year_writes_only_that_year(db: None) -> None:
    written = seed_calendar([2026])

    assert written == sum(1 for entry in calendar_entries([2026])) == CalendarDay.objects.count()
    assert not CalendarDay.objects.exclude(date__year=2026).exists()


def test_seed_of_an_unknown_year_writes_nothing(db: None) -> None:
    assert 2030 not in ARRANGEMENTS
    assert seed_calendar([2030]) == 0


# --- The cache ---------------------------------------------------------------------------------


def test_new_row_is_seen_without_clearing_the_cache(db: None) -> None:
    # given a cached answer for a plain Thursday
    assert is_working_day(date(2026, 10, 1))

    # when a holiday row is added (from any process: nothing here clears the cache)
    row = CalendarDay.objects.create(date=date(2026, 10, 1), kind=DayKind.HOLIDAY, name="国庆节")

    # then the next answer sees it, and sees its edit and its deletion too
    assert not is_working_day(date(2026, 10, 1))
    row.date = date(2026, 10, 2)
    row.save()
    assert is_working_day(date(2026, 10, 1))
    assert not is_working_day(date(2026, 10, 2))
    row.delete()
    assert is_working_day(date(2026, 10, 2))


def test_bulk_update_that_skips_updated_at_needs_clear_cache(seeded: int) -> None:
    # given a cached calendar
    assert not is_working_day(date(2026, 10, 1))

    # when a row is changed by QuerySet.update(), which leaves updated_at and the table version alone
    CalendarDay.objects.filter(date=date(2026, 10, 1)).update(kind=DayKind.WORKDAY)

    # then the change shows only after clear_cache(), as the module documents
    assert not is_working_day(date(2026, 10, 1))
    workdays.clear_cache()
    assert is_working_day(date(2026, 10, 1))


# --- The admin ---------------------------------------------------------------------------------


def test_admin_adds_a_holiday_and_clears_the_cache(
    admin_client: Client, django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks
) -> None:
    # given a cached answer for Monday 2026-03-09
    assert is_working_day(date(2026, 3, 9))

    # when an administrator adds it as a holiday
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = admin_client.post(
            reverse("admin:proposals_calendarday_add"),
            {"date": "2026-03-09", "kind": DayKind.HOLIDAY, "name": "地方节日", "note": ""},
        )

    # then it is saved, the cache is cleared on commit, and the day is off
    assert response.status_code == 302
    assert workdays.clear_cache in callbacks
    assert not is_working_day(date(2026, 3, 9))


def test_admin_deletes_a_holiday_and_clears_the_cache(
    seeded: int, admin_client: Client, django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks
) -> None:
    row = CalendarDay.objects.get(date=date(2026, 10, 1))
    assert not is_working_day(row.date)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = admin_client.post(reverse("admin:proposals_calendarday_delete", args=[row.pk]), {"post": "yes"})

    assert response.status_code == 302
    assert workdays.clear_cache in callbacks
    assert is_working_day(date(2026, 10, 1))


def test_admin_refuses_a_make_up_day_on_a_weekday(admin_client: Client) -> None:
    response = admin_client.post(
        reverse("admin:proposals_calendarday_add"),
        {"date": "2026-03-10", "kind": DayKind.WORKDAY, "name": "调休", "note": ""},
    )

    assert response.status_code == 200  # the form again, with the error
    assert not CalendarDay.objects.exists()


def test_admin_lists_and_searches_the_calendar(seeded: int, admin_client: Client) -> None:
    url = reverse("admin:proposals_calendarday_changelist")

    response = admin_client.get(url, {"q": "春节调休", "date__year": "2026"})

    assert response.status_code == 200
    assert response.context["cl"].result_count == 2  # Feb 14 and Feb 28
