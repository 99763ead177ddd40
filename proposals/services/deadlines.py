"""Deadline reminders (督办提醒), sent by a periodic task, only in working hours.

For each open assignment:
- due within ``due_soon_working_days``: the bureau's handlers are reminded (``deadline.soon``);
- overdue: the handlers again (``deadline.handler``) and the bureau's lead for proposals (``deadline.lead``);
- overdue by ``staff_escalation_working_days`` or more: the office is reminded (``deadline.staff``).
For each proposal in follow-up (跟踪办理, B/C outcomes): every ``follow_up_reminder_days`` after the
follow-up started, the handlers of the bureaus that replied are reminded to report progress
(``deadline.follow_up``) until they send the follow-up reply.
Each reminder is sent once per assignment, level and due date (``DeadlineReminder``).
For each sent reply awaiting publication (公开, ``proposals.publication``): the office is reminded when its
publication due date is within ``due_soon_working_days`` (``publication.soon``) and once it has passed
(``publication.overdue``), once per reply, level and due date (``PublicationReminder``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from proposals import workdays
from proposals.models import (
    Assignment,
    AssignmentStatus,
    DeadlineReminder,
    ProposalEvent,
    PublicationReminder,
    Reply,
    Status,
)
from proposals.models.choices import OPEN_ASSIGNMENT, REPLYING_ROLES
from proposals.publication import awaiting_publication
from proposals.rules import current_rules
from proposals.services._common import bureau_handlers, office_users, tell


@dataclass(frozen=True)
class SweepReport:
    skipped_outside_working_hours: bool = False
    reminders: int = 0  # deadline reminders to the bureaus (and the office when late)
    publication_reminders: int = 0  # publication reminders to the office


def _due_of(assignment: Assignment) -> date | None:
    return assignment.reply_due or assignment.opinion_due


def _levels(due: date, today: date) -> list[str]:
    rules = current_rules()
    if due >= today:
        soon = workdays.working_days_between(today, due) <= rules.due_soon_working_days
        return ["soon"] if soon else []
    late = workdays.working_days_between(due, today)
    return ["handler", "lead", "staff"] if late >= rules.staff_escalation_working_days else ["handler", "lead"]


def _recipients(assignment: Assignment, level: str) -> set[int]:
    if level == "staff":
        return office_users()
    return bureau_handlers([assignment.bureau_id], leads_only=level == "lead")


def _remind_once(assignment: Assignment, level: str, due: date, today: date) -> bool:
    try:
        with transaction.atomic():
            DeadlineReminder.objects.create(assignment=assignment, level=level, due=due)
            people = _recipients(assignment, level)
            if level == "follow_up":
                title = _("Follow-up: report progress")
            else:
                title = _("Overdue") if due < today else _("Due soon")
            tell(people, assignment.proposal, f"deadline.{level}", f"{title} {due.isoformat()}", due=due.isoformat())
    except IntegrityError:
        return False  # already sent by an earlier sweep (or a concurrent one)
    return True


def sweep_deadlines(now: datetime | None = None) -> SweepReport:
    moment = now or timezone.now()
    if not workdays.is_working_hours(moment):
        return SweepReport(skipped_outside_working_hours=True)
    today = timezone.localtime(moment).date()
    sent = 0
    open_assignments = Assignment.objects.filter(status__in=OPEN_ASSIGNMENT).select_related("proposal")
    for assignment in open_assignments.iterator(chunk_size=500):
        due = _due_of(assignment)
        if due is None:
            continue
        for level in _levels(due, today):
            sent += _remind_once(assignment, level, due, today)
    return SweepReport(reminders=sent + _remind_follow_ups(today), publication_reminders=_remind_publications(today))


def _remind_follow_ups(today: date) -> int:
    period = current_rules().follow_up_reminder_days
    sent = 0
    started = ProposalEvent.objects.filter(action="start_follow_up", proposal__status=Status.FOLLOW_UP).select_related(
        "proposal"
    )
    for event in started.iterator(chunk_size=500):
        proposal = event.proposal
        elapsed = (today - timezone.localtime(event.at).date()).days
        if elapsed < period:
            continue
        milestone = timezone.localtime(event.at).date() + timedelta(days=period * (elapsed // period))
        replied = proposal.assignments.filter(
            role__in=REPLYING_ROLES, status=AssignmentStatus.DONE, round=proposal.rehandling_round
        )
        for assignment in replied:
            sent += _remind_once(assignment, "follow_up", milestone, today)
    return sent


def _publication_level(due: date, today: date) -> str | None:
    if due < today:
        return "overdue"
    if workdays.working_days_between(today, due) <= current_rules().due_soon_working_days:
        return "soon"
    return None


def _remind_publications(today: date) -> int:
    sent = 0
    pending = awaiting_publication().filter(publication_due__isnull=False).select_related("proposal")
    for reply in pending.iterator(chunk_size=500):
        due = reply.publication_due
        level = _publication_level(due, today) if due is not None else None
        if level is not None and due is not None:
            sent += _remind_publication_once(reply, level, due)
    return sent


def _remind_publication_once(reply: Reply, level: str, due: date) -> bool:
    try:
        with transaction.atomic():
            PublicationReminder.objects.create(reply=reply, level=level, due=due)
            title = _("Publication overdue") if level == "overdue" else _("Publication due")
            tell(
                office_users(),
                reply.proposal,
                f"publication.{level}",
                f"{title} {due.isoformat()}",
                due=due.isoformat(),
            )
    except IntegrityError:
        return False  # already sent by an earlier sweep (or a concurrent one)
    return True
