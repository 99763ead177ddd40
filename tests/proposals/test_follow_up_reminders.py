"""B/C outcomes in follow-up (跟踪办理): the replying bureau is reminded periodically until it reports."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.utils import timezone

from consult.models import Notification, User
from proposals import services
from proposals.models import Proposal, ProposalEvent, Status
from proposals.workdays import is_working_day
from tests.proposals.conftest import co_of, lead_of

SHANGHAI = ZoneInfo("Asia/Shanghai")


def working_morning_after(days: int, start: datetime) -> datetime:
    moment = start + timedelta(days=days)
    while not is_working_day(moment.date()):
        moment += timedelta(days=1)
    return moment.replace(hour=10, minute=0)


@pytest.fixture
def in_follow_up(assigned: Proposal, deputy: User, staff: User, handler: User, handler_a: User) -> Proposal:
    """Given a class B reply rated by the deputy: the proposal is in follow-up."""
    lead, co = lead_of(assigned), co_of(assigned)
    services.accept_assignment(actor=handler, proposal_id=assigned.pk, assignment_id=lead.pk)
    services.submit_opinion(actor=handler_a, proposal_id=assigned.pk, assignment_id=co.pk, body="同意。")
    reply = services.draft_reply(
        actor=handler,
        proposal_id=assigned.pk,
        assignment_id=lead.pk,
        outcome_class="B",
        body="已列入明年计划。",
        contact_person="刘芳",
        contact_phone="13800138001",
    )
    services.submit_reply(actor=handler, proposal_id=assigned.pk, assignment_id=lead.pk)
    services.sign_off_reply(actor=handler_a, proposal_id=assigned.pk, reply_id=reply.pk, assignment_id=co.pk)
    services.review_reply(actor=staff, proposal_id=assigned.pk, reply_id=reply.pk, approve=True)
    services.rate_reply(
        actor=deputy,
        proposal_id=assigned.pk,
        reply_id=reply.pk,
        contact="satisfied",
        attitude="satisfied",
        result="satisfied",
    )
    proposal = Proposal.objects.get(pk=assigned.pk)
    assert proposal.status == Status.FOLLOW_UP
    return proposal


def follow_up_reminders(user: User) -> int:
    return Notification.objects.filter(user=user, kind="deadline.follow_up").count()


def test_the_replying_bureau_is_reminded_once_per_period_while_in_follow_up(
    in_follow_up: Proposal, handler: User, handler_a: User
) -> None:
    started = timezone.localtime(ProposalEvent.objects.get(proposal=in_follow_up, action="start_follow_up").at)

    before = services.sweep_deadlines(now=working_morning_after(10, started))
    first = services.sweep_deadlines(now=working_morning_after(31, started))
    again = services.sweep_deadlines(now=working_morning_after(33, started))
    second = services.sweep_deadlines(now=working_morning_after(62, started))

    assert (before.reminders, first.reminders, again.reminders, second.reminders) == (0, 1, 0, 1)
    assert follow_up_reminders(handler) == 2
    assert follow_up_reminders(handler_a) == 0  # the co-handler did not reply; it is not chased


def test_no_reminder_once_the_follow_up_reply_is_sent(in_follow_up: Proposal, handler: User) -> None:
    started = timezone.localtime(ProposalEvent.objects.get(proposal=in_follow_up, action="start_follow_up").at)
    services.send_follow_up_reply(
        actor=handler, proposal_id=in_follow_up.pk, assignment_id=lead_of_done(in_follow_up), body="已完成。"
    )

    report = services.sweep_deadlines(now=working_morning_after(31, started))

    assert report.reminders == 0
    assert follow_up_reminders(handler) == 0


def lead_of_done(proposal: Proposal) -> int:
    return proposal.assignments.get(role="lead", status="done").pk


def test_seed_calendar_command_loads_the_holidays_once(db: None) -> None:
    call_command("seed_calendar", verbosity=0)

    assert not is_working_day(datetime(2026, 10, 1, tzinfo=SHANGHAI).date())
    assert is_working_day(datetime(2026, 10, 10, tzinfo=SHANGHAI).date())  # 调休 Saturday
