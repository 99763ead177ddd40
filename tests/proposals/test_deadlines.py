"""督办提醒: the deadline sweep counts working days on the Chinese calendar and reminds each level once.

Dates are in 2026 around 国庆节: Oct 1-7 off, Sunday Sep 20 and Saturday Oct 10 are make-up working days
(调休). Services compute deadlines from today, so each test sets the due date itself and passes ``now``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.utils.translation import gettext

from consult.models import Bureau, Notification, User
from proposals import services, workdays
from proposals.models import Assignment, DeadlineReminder, Proposal
from tests.factories import HandlerProfileFactory
from tests.proposals.conftest import co_of, lead_of

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    """A moment in 2026, Beijing time."""
    return datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def fresh_calendar_cache() -> Iterator[None]:
    workdays.clear_cache()
    yield
    workdays.clear_cache()


@pytest.fixture
def seeded(db: None) -> None:
    workdays.seed_calendar([2026])


@pytest.fixture
def clerk(bureau_b: Bureau) -> User:
    """A handler of bureau B who is not its lead (``handler`` is)."""
    return HandlerProfileFactory(user__username="clerk", user__full_name="何平", bureau=bureau_b).user


@pytest.fixture
def held(registered: Proposal, staff: User, handler: User, clerk: User, bureau_b: Bureau) -> Assignment:
    """Bureau B alone holds the proposal."""
    services.assign(actor=staff, proposal_id=registered.pk, lead=bureau_b.pk)
    return lead_of(registered)


def due_on(assignment: Assignment, day: date) -> None:
    Assignment.objects.filter(pk=assignment.pk).update(reply_due=day)


def reminders_to(user: User) -> list[str]:
    return sorted(Notification.objects.filter(user=user, kind__startswith="deadline.").values_list("kind", flat=True))


# --- when the sweep runs --------------------------------------------------------------------


@pytest.mark.parametrize(
    "moment",
    [at(10, 17), at(10, 14, 20), at(10, 14, 8, 59), at(10, 14, 17, 30), at(10, 5)],
    ids=["saturday", "weekday-20:00", "weekday-08:59", "weekday-17:30", "national-day-monday"],
)
def test_sweep_outside_working_hours_sends_nothing(
    seeded: None, held: Assignment, handler: User, moment: datetime
) -> None:
    # given an overdue assignment
    due_on(held, date(2026, 9, 29))

    # when the sweep runs outside office hours of a working day
    report = services.sweep_deadlines(now=moment)

    # then it is skipped and nobody is reminded
    assert report.skipped_outside_working_hours
    assert report.reminders == 0
    assert not DeadlineReminder.objects.exists()
    assert reminders_to(handler) == []


def test_sweep_runs_on_a_make_up_saturday(seeded: None, held: Assignment, handler: User) -> None:
    # given an assignment due on Monday Oct 12, when the sweep runs on Saturday Oct 10 (调休上班)
    due_on(held, date(2026, 10, 12))
    report = services.sweep_deadlines(now=at(10, 10, 9, 0))

    # then it runs and reminds the handler
    assert not report.skipped_outside_working_hours
    assert reminders_to(handler) == ["deadline.soon"]


# --- due soon -------------------------------------------------------------------------------


def test_due_within_five_working_days_across_national_day_reminds_the_handlers(
    seeded: None, held: Assignment, handler: User, clerk: User, staff: User
) -> None:
    # given a reply due Monday Oct 12: from Wednesday Sep 30 that is 4 working days (Oct 8, 9, 10, 12)
    due_on(held, date(2026, 10, 12))

    # when the sweep runs on Sep 30
    report = services.sweep_deadlines(now=at(9, 30))

    # then every handler of the bureau is reminded, not the lead level nor the office
    assert report.reminders == 1
    assert reminders_to(handler) == reminders_to(clerk) == ["deadline.soon"]
    assert reminders_to(staff) == []
    reminder = DeadlineReminder.objects.get()
    assert (reminder.assignment_id, reminder.level, reminder.due) == (held.pk, "soon", date(2026, 10, 12))


def test_due_after_six_working_days_is_not_reminded_yet(seeded: None, held: Assignment, handler: User) -> None:
    # given a reply due Wednesday Oct 14: from Sep 30 that is 6 working days away
    due_on(held, date(2026, 10, 14))

    report = services.sweep_deadlines(now=at(9, 30))

    assert report.reminders == 0
    assert reminders_to(handler) == []


def test_without_the_holiday_calendar_the_same_due_date_is_too_far_to_remind(
    db: None, held: Assignment, handler: User
) -> None:
    # given no holidays stored, Oct 1-9 count as ordinary weekdays: Oct 12 is 8 working days from Sep 30
    due_on(held, date(2026, 10, 12))

    report = services.sweep_deadlines(now=at(9, 30))

    assert report.reminders == 0
    assert reminders_to(handler) == []


def test_due_today_reminds_the_handlers(seeded: None, held: Assignment, clerk: User) -> None:
    due_on(held, date(2026, 10, 9))

    services.sweep_deadlines(now=at(10, 9, 16, 0))

    assert reminders_to(clerk) == ["deadline.soon"]


def test_the_handler_is_reminded_once(seeded: None, held: Assignment, handler: User) -> None:
    # given the handler was reminded on Sep 30
    due_on(held, date(2026, 10, 12))
    services.sweep_deadlines(now=at(9, 30))

    # when the sweep runs again that afternoon and after the holiday
    again = services.sweep_deadlines(now=at(9, 30, 15))
    later = services.sweep_deadlines(now=at(10, 8))

    # then nothing more is sent
    assert (again.reminders, later.reminders) == (0, 0)
    assert reminders_to(handler) == ["deadline.soon"]
    assert DeadlineReminder.objects.count() == 1


def test_a_new_due_date_is_reminded_again(seeded: None, held: Assignment, clerk: User) -> None:
    # given the handlers were reminded of Oct 12, and the date then moved to Oct 16 (an approved extension)
    due_on(held, date(2026, 10, 12))
    services.sweep_deadlines(now=at(9, 30))
    due_on(held, date(2026, 10, 16))

    # when the sweep runs on Oct 12
    report = services.sweep_deadlines(now=at(10, 12))

    # then they are reminded of the new date
    assert report.reminders == 1
    assert reminders_to(clerk) == ["deadline.soon", "deadline.soon"]


def test_co_handler_is_reminded_of_its_opinion_due(
    seeded: None, assigned: Proposal, handler: User, handler_a: User
) -> None:
    # given the lead replies next year and bureau A's opinion is due Friday Oct 9
    Assignment.objects.filter(pk=lead_of(assigned).pk).update(reply_due=date(2027, 1, 8))
    Assignment.objects.filter(pk=co_of(assigned).pk).update(opinion_due=date(2026, 10, 9))

    services.sweep_deadlines(now=at(9, 30))

    assert reminders_to(handler_a) == ["deadline.soon"]
    assert reminders_to(handler) == []


def test_withdrawn_assignment_is_not_reminded(seeded: None, held: Assignment, handler: User, staff: User) -> None:
    due_on(held, date(2026, 9, 29))
    services.withdraw_assignment(actor=staff, proposal_id=held.proposal_id, assignment_id=held.pk, reason="改交他局")

    report = services.sweep_deadlines(now=at(10, 12))

    assert report.reminders == 0
    assert reminders_to(handler) == []


# --- overdue --------------------------------------------------------------------------------


def test_overdue_reminds_the_handlers_and_the_bureau_lead(
    seeded: None, held: Assignment, handler: User, clerk: User, staff: User
) -> None:
    # given a reply due Tuesday Sep 29; on Friday Oct 9 it is 3 working days late (Sep 30, Oct 8, Oct 9)
    due_on(held, date(2026, 9, 29))

    report = services.sweep_deadlines(now=at(10, 9))

    # then every handler is reminded, the lead (``handler``) as lead too; the office not yet
    assert report.reminders == 2
    assert reminders_to(handler) == ["deadline.handler", "deadline.lead"]
    assert reminders_to(clerk) == ["deadline.handler"]
    assert reminders_to(staff) == []


def test_overdue_by_five_working_days_reminds_the_office_too(
    seeded: None, held: Assignment, handler: User, clerk: User, staff: User
) -> None:
    # given the bureau was reminded on Oct 9 (3 working days late)
    due_on(held, date(2026, 9, 29))
    services.sweep_deadlines(now=at(10, 9))

    # when the sweep runs on Monday Oct 12: 5 working days late (Sep 30, Oct 8, 9, 10, 12)
    report = services.sweep_deadlines(now=at(10, 12))

    # then only the office is newly reminded
    assert report.reminders == 1
    assert reminders_to(staff) == ["deadline.staff"]
    assert reminders_to(handler) == ["deadline.handler", "deadline.lead"]
    assert reminders_to(clerk) == ["deadline.handler"]
    assert sorted(DeadlineReminder.objects.values_list("level", flat=True)) == ["handler", "lead", "staff"]


def test_overdue_four_working_days_over_the_holiday_does_not_reach_the_office(
    seeded: None, held: Assignment, staff: User
) -> None:
    # given a reply due Sep 29: on Saturday Oct 10 it is 4 working days late, though 11 calendar days
    due_on(held, date(2026, 9, 29))

    services.sweep_deadlines(now=at(10, 10))

    assert reminders_to(staff) == []


def test_overdue_at_once_by_five_working_days_reminds_every_level(
    seeded: None, held: Assignment, handler: User, staff: User
) -> None:
    due_on(held, date(2026, 9, 29))

    report = services.sweep_deadlines(now=at(10, 12))

    assert report.reminders == 3
    assert reminders_to(handler) == ["deadline.handler", "deadline.lead"]
    assert reminders_to(staff) == ["deadline.staff"]


def test_due_soon_reminder_is_titled_due_soon(seeded: None, held: Assignment, clerk: User) -> None:
    due_on(held, date(2026, 10, 12))

    services.sweep_deadlines(now=at(9, 30))

    title = Notification.objects.get(user=clerk, kind="deadline.soon").title
    assert title.startswith(gettext("Due soon"))


def test_a_handler_reminded_that_it_is_due_soon_is_reminded_again_once_it_is_overdue(
    seeded: None, held: Assignment, clerk: User
) -> None:
    # given the handlers were told on Sep 30 that Oct 12 is near
    due_on(held, date(2026, 10, 12))
    services.sweep_deadlines(now=at(9, 30))

    # when the date passes without a reply
    services.sweep_deadlines(now=at(10, 13))

    # then they hear again, now that it is overdue
    assert sorted(reminders_to(clerk)) == ["deadline.handler", "deadline.soon"]
