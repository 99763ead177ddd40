"""Deadlines follow the calendar: an edit of the working-day calendar counts the open deadlines that depend on
a changed day again, from what each was counted from, with a timeline entry saying why; finished ones stay.

Most tests pin the deadlines on dates far from today (2031, with no calendar rows) by writing the assignment's
``due_basis`` and dates directly, as ``create_assignments`` would have on that day.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from consult.models import Bureau, Notification, User
from proposals import holidays, services, workdays
from proposals.models import Assignment, Audience, CalendarDay, DayKind, Proposal, ProposalEvent, Reply
from proposals.services.calendar import calendar_changed, recompute_deadlines, seed_calendar
from tests.proposals.conftest import co_of, lead_of
from tests.proposals.test_reply import approve, reply_of


@pytest.fixture(autouse=True)
def fresh_calendar_cache() -> Iterator[None]:
    workdays.clear_cache()
    yield
    workdays.clear_cache()


def first_weekday(year: int, month: int, day: int, weekday: int) -> date:
    """The first date on or after year-month-day falling on ``weekday`` (0 = Monday)."""
    start = date(year, month, day)
    return start + timedelta(days=(weekday - start.weekday()) % 7)


FRIDAY = first_weekday(2031, 3, 1, 4)  # counted from: return by 7 working days later
SATURDAY = first_weekday(2031, 6, 1, 5)  # the reply's nominal date (3 months on), a day off


def pin(assignment: Assignment, *, start: date = FRIDAY, nominal: date = SATURDAY) -> Assignment:
    """The assignment's deadlines as if it had been assigned on ``start`` with a reply nominally due ``nominal``."""
    basis = {
        "return_by": workdays.DeadlineBasis(start, working_days=7),
        "reply_due": workdays.DeadlineBasis(nominal),  # as an approved extension to that date
    }
    Assignment.objects.filter(pk=assignment.pk).update(
        due_basis={name: each.as_json() for name, each in basis.items()},
        return_by=basis["return_by"].due(),
        reply_due=basis["reply_due"].due(),
    )
    return Assignment.objects.get(pk=assignment.pk)


def add_day(day: date, kind: DayKind, name: str) -> None:
    CalendarDay.objects.create(date=day, kind=kind, name=name)


def timeline(proposal: Proposal) -> list[ProposalEvent]:
    return list(ProposalEvent.objects.filter(proposal=proposal, action="recompute_deadlines").order_by("id"))


@pytest.fixture
def held(registered: Proposal, staff: User, bureau_b: Bureau) -> Assignment:
    services.assign(actor=staff, proposal_id=registered.pk, lead=bureau_b.pk)
    return pin(lead_of(registered))


# --- a new holiday ----------------------------------------------------------------------------------------


def test_a_new_holiday_moves_open_deadlines_and_says_why(
    held: Assignment, staff: User, handler: User, django_capture_on_commit_callbacks: object
) -> None:
    # given the return window ends on the 7th working day after FRIDAY and the reply is due Monday after SATURDAY
    assert held.return_by == FRIDAY + timedelta(days=11)
    monday = SATURDAY + timedelta(days=2)
    assert held.reply_due == monday

    # when the administrator adds holidays on the Wednesday after FRIDAY and on that Monday
    wednesday = FRIDAY + timedelta(days=5)
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        add_day(wednesday, DayKind.HOLIDAY, "临时休假")
        add_day(monday, DayKind.HOLIDAY, "端午节")
        calendar_changed([wednesday, monday], actor=staff)

    # then both deadlines move one working day later
    moved = Assignment.objects.get(pk=held.pk)
    assert moved.return_by == FRIDAY + timedelta(days=12)
    assert moved.reply_due == monday + timedelta(days=1)
    assert Proposal.objects.get(pk=held.proposal_id).reply_due == moved.reply_due

    # and the timeline says which day moved which deadline: the reply due for everyone, the return window
    # for the bureau and the office
    public, internal = timeline(held.proposal)
    assert (public.audience, public.actor_id) == (Audience.PUBLIC, staff.pk)
    assert f"{monday.isoformat()} 端午节" in public.reason
    assert f"{monday.isoformat()} → {(monday + timedelta(days=1)).isoformat()}" in public.reason
    assert wednesday.isoformat() not in public.reason
    assert (internal.audience, internal.bureau_id) == (Audience.BUREAU, held.bureau_id)
    assert f"{wednesday.isoformat()} 临时休假" in internal.reason
    # and the bureau's handlers are told
    assert Notification.objects.filter(user=handler, kind="deadline.moved").count() == 1


def test_a_holiday_after_the_deadlines_moves_nothing(held: Assignment, staff: User) -> None:
    later = SATURDAY + timedelta(days=10)
    add_day(later, DayKind.HOLIDAY, "之后的假日")

    report = recompute_deadlines(changed_days=[later], actor=staff)

    assert report.deadlines == 0
    assert Assignment.objects.get(pk=held.pk).reply_due == held.reply_due
    assert timeline(held.proposal) == []


def test_a_second_recompute_of_the_same_change_writes_nothing(held: Assignment, staff: User) -> None:
    wednesday = FRIDAY + timedelta(days=5)
    add_day(wednesday, DayKind.HOLIDAY, "临时休假")
    first = recompute_deadlines(changed_days=[wednesday], actor=staff)

    again = recompute_deadlines(changed_days=[wednesday], actor=staff)

    assert (first.deadlines, again.deadlines) == (1, 0)
    assert len(timeline(held.proposal)) == 1


# --- a make-up working day --------------------------------------------------------------------------------


def test_a_make_up_day_pulls_deadlines_earlier(held: Assignment, staff: User) -> None:
    # given the Saturday after FRIDAY, and SATURDAY itself, become make-up working days (调休上班)
    make_up = FRIDAY + timedelta(days=1)
    add_day(make_up, DayKind.WORKDAY, "调休")
    add_day(SATURDAY, DayKind.WORKDAY, "调休")

    recompute_deadlines(changed_days=[make_up, SATURDAY], actor=staff)

    # then the return window ends a working day sooner and the reply is due on SATURDAY itself
    moved = Assignment.objects.get(pk=held.pk)
    assert moved.return_by == FRIDAY + timedelta(days=10)
    assert moved.reply_due == SATURDAY
    assert "调休" in timeline(held.proposal)[0].reason


# --- closed ones stay -------------------------------------------------------------------------------------


def test_closed_proposals_and_finished_deadlines_stay_as_they_were(
    registered: Proposal, staff: User, handler: User, bureau_b: Bureau
) -> None:
    # given a proposal replied to, published and closed
    services.assign(actor=staff, proposal_id=registered.pk, lead=bureau_b.pk)
    services.accept_assignment(actor=handler, proposal_id=registered.pk, assignment_id=lead_of(registered).pk)
    done = pin(lead_of(registered))
    reply = approve(staff, registered, reply_of(handler, registered, done))
    services.publish(actor=staff, proposal_id=registered.pk, reply_id=reply.pk)
    services.close(actor=staff, proposal_id=registered.pk, reason="已办结")
    before = Assignment.objects.get(pk=done.pk)

    # when a holiday lands in its (finished) windows
    wednesday = FRIDAY + timedelta(days=5)
    add_day(wednesday, DayKind.HOLIDAY, "临时休假")
    report = recompute_deadlines(changed_days=[wednesday, SATURDAY + timedelta(days=2)], actor=staff)

    # then nothing changed and nothing was written
    after = Assignment.objects.get(pk=done.pk)
    assert (after.return_by, after.reply_due) == (before.return_by, before.reply_due)
    assert report.deadlines == 0
    assert timeline(registered) == []
    assert Reply.objects.get(pk=reply.pk).published_at is not None


def test_an_open_publication_due_moves_for_the_office_only(
    registered: Proposal, staff: User, handler: User, bureau_b: Bureau
) -> None:
    # given a sent reply due for publication 20 working days after it was sent
    services.assign(actor=staff, proposal_id=registered.pk, lead=bureau_b.pk)
    services.accept_assignment(actor=handler, proposal_id=registered.pk, assignment_id=lead_of(registered).pk)
    reply = Reply.objects.get(pk=approve(staff, registered, reply_of(handler, registered, lead_of(registered))).pk)
    due = reply.publication_due
    assert due is not None

    # when that day becomes a holiday
    add_day(due, DayKind.HOLIDAY, "临时休假")
    recompute_deadlines(changed_days=[due], actor=staff)

    # then publication is due the next working day, and only the office reads why
    assert Reply.objects.get(pk=reply.pk).publication_due == workdays.add_working_days(due, 1)
    (entry,) = timeline(registered)
    assert entry.audience == Audience.OFFICE


def test_co_handler_opinion_due_moves_too(assigned: Proposal, staff: User) -> None:
    co = co_of(assigned)
    due = co.opinion_due
    assert due is not None

    add_day(due, DayKind.HOLIDAY, "临时休假")
    recompute_deadlines(changed_days=[due], actor=staff)

    assert Assignment.objects.get(pk=co.pk).opinion_due == workdays.add_working_days(due, 1)
    assert Assignment.objects.get(pk=lead_of(assigned).pk).reply_due == lead_of(assigned).reply_due


def test_an_assignment_without_a_kept_basis_is_counted_by_the_rules(held: Assignment, staff: User) -> None:
    # given an assignment made before bases were kept: its dates count from the day it was assigned
    Assignment.objects.filter(pk=held.pk).update(due_basis={})
    fresh = Assignment.objects.get(pk=held.pk)
    assigned_on = timezone.localtime(fresh.assigned_at).date()
    Assignment.objects.filter(pk=held.pk).update(return_by=workdays.add_working_days(assigned_on, 7))
    old = workdays.add_working_days(assigned_on, 7)

    add_day(old, DayKind.HOLIDAY, "临时休假")
    recompute_deadlines(changed_days=[old], actor=staff)

    assert Assignment.objects.get(pk=held.pk).return_by == workdays.add_working_days(assigned_on, 7) > old


# --- where calendar changes come from ---------------------------------------------------------------------


def test_a_holiday_added_in_the_admin_moves_the_deadlines(
    held: Assignment, admin_user: User, django_capture_on_commit_callbacks: object
) -> None:
    client = Client()
    client.force_login(admin_user)
    wednesday = FRIDAY + timedelta(days=5)

    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        response = client.post(
            "/admin/proposals/calendarday/add/",
            {"date": wednesday.isoformat(), "kind": DayKind.HOLIDAY, "name": "临时休假", "note": ""},
        )

    assert response.status_code == 302, response.content.decode()[:2000]
    assert Assignment.objects.get(pk=held.pk).return_by == FRIDAY + timedelta(days=12)
    assert timeline(held.proposal)[0].actor_id == admin_user.pk


def test_a_holiday_deleted_in_the_admin_moves_the_deadlines_back(
    held: Assignment, admin_user: User, django_capture_on_commit_callbacks: object
) -> None:
    wednesday = FRIDAY + timedelta(days=5)
    add_day(wednesday, DayKind.HOLIDAY, "临时休假")
    recompute_deadlines(changed_days=[wednesday])
    row = CalendarDay.objects.get(date=wednesday)
    client = Client()
    client.force_login(admin_user)

    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        response = client.post(f"/admin/proposals/calendarday/{row.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert Assignment.objects.get(pk=held.pk).return_by == FRIDAY + timedelta(days=11)


def test_a_corrected_name_in_the_admin_moves_nothing(
    held: Assignment, admin_user: User, django_capture_on_commit_callbacks: object
) -> None:
    later = SATURDAY + timedelta(days=2)
    add_day(later, DayKind.HOLIDAY, "端午")
    recompute_deadlines(changed_days=[later])
    entries = len(timeline(held.proposal))
    row = CalendarDay.objects.get(date=later)
    client = Client()
    client.force_login(admin_user)

    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        client.post(
            f"/admin/proposals/calendarday/{row.pk}/change/",
            {"date": later.isoformat(), "kind": DayKind.HOLIDAY, "name": "端午节", "note": ""},
        )

    assert len(timeline(held.proposal)) == entries


# --- the provisional year confirmed -----------------------------------------------------------------------


CONFIRMED_2027 = (
    holidays.Holiday("国庆节", date(2027, 10, 1), date(2027, 10, 7), (date(2027, 9, 26), date(2027, 10, 9))),
)


def test_confirming_the_provisional_year_recounts_the_deadlines(
    held: Assignment, staff: User, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: object
) -> None:
    # given the provisional 2027 (国庆节 Oct 1-5) and a return window counted from Thursday Sep 30:
    # Oct 6, 7, 8, 11, 12, 13, 14
    seed_calendar([2027])
    start = date(2027, 9, 30)
    pin(held, start=start)
    assert Assignment.objects.get(pk=held.pk).return_by == date(2027, 10, 14)

    # when the State Council's notice is loaded: Oct 1-7 off, Sunday Sep 26 and Saturday Oct 9 worked
    monkeypatch.setitem(holidays.ARRANGEMENTS, 2027, CONFIRMED_2027)
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        seeded = seed_calendar([2027])

    # then the provisional rows the notice no longer has are gone, and the window is Oct 8, 9, 11-15
    assert not CalendarDay.objects.filter(date=date(2027, 2, 5)).exists()
    assert date(2027, 10, 6) in seeded.flipped
    assert date(2027, 10, 9) in seeded.flipped
    assert Assignment.objects.get(pk=held.pk).return_by == date(2027, 10, 15)
    (entry,) = timeline(held.proposal)
    assert "2027-10-06 国庆节" in entry.reason
    assert "2027-10-09 国庆节调休" in entry.reason
    assert entry.actor_id is None  # the platform, not a person


def test_seeding_twice_recounts_nothing(held: Assignment, django_capture_on_commit_callbacks: object) -> None:
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        seed_calendar([2026])
        again = seed_calendar([2026])

    assert again.rows == 0
    assert again.flipped == []
    assert timeline(held.proposal) == []
