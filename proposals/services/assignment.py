"""交办: the office hands a registered proposal to bureaus — one lead (主办) with co-handlers (会办),
or several bureaus each replying (分办) — each assignment with its own deadlines.

A bureau accepts (签收) or, within the return window, returns (退办) with a reason; the office then
assigns again. A bureau never passes an item on by itself: only the office assigns.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from django.db import transaction
from django.db.models import Min
from django.utils import timezone
from django.utils.translation import gettext as _

from consult.kernel.exceptions import InvalidInput
from consult.models import Bureau, User
from proposals import texts, workdays
from proposals.access import require_handler_of, require_office
from proposals.actions import Action, Outcome
from proposals.models import (
    Assignment,
    AssignmentRole,
    AssignmentStatus,
    Audience,
    Proposal,
    ReplyStatus,
    Status,
)
from proposals.models.choices import OPEN_ASSIGNMENT, REPLYING_ROLES
from proposals.rules import current_rules
from proposals.services._common import (
    bureau_handlers,
    lock,
    move,
    office_users,
    open_assignment,
    record,
    require_state,
    require_text,
    tell,
)


def refresh_reply_due(proposal: Proposal) -> None:
    """Keep the proposal's filterable due date = the earliest reply deadline of its open replying assignments."""
    due = proposal.assignments.filter(
        status__in=OPEN_ASSIGNMENT, role__in=REPLYING_ROLES, round=proposal.rehandling_round
    ).aggregate(due=Min("reply_due"))["due"]
    proposal.reply_due = due
    proposal.save(update_fields=["reply_due", "updated_at"])


def _check_bureaus(
    lead: int | None, co: Sequence[int], separate: Sequence[int], *, has_lead: bool = False, has_separate: bool = False
) -> list[tuple[int, AssignmentRole]]:
    """The plan is either a lead with co-handlers or separate bureaus, counting what the proposal already has."""
    if (lead is not None or has_lead or co) and (separate or has_separate):
        raise InvalidInput(_("assign either a lead bureau with co-handlers, or separate bureaus"), field="separate")
    if lead is None and co and not has_lead:
        raise InvalidInput(_("co-handling bureaus need a lead bureau"), field="lead")
    if lead is None and not separate and not (co and has_lead):
        raise InvalidInput(_("choose a lead bureau or separate bureaus"), field="lead")
    plan = [(bureau, AssignmentRole.LEAD) for bureau in ([lead] if lead is not None else [])]
    plan += [(bureau, AssignmentRole.CO) for bureau in co]
    plan += [(bureau, AssignmentRole.SEPARATE) for bureau in separate]
    seen: set[int] = set()
    active = set(Bureau.objects.filter(pk__in=[b for b, _r in plan], is_active=True).values_list("pk", flat=True))
    for bureau, role in plan:
        field = {AssignmentRole.LEAD: "lead", AssignmentRole.CO: "co", AssignmentRole.SEPARATE: "separate"}[role]
        if bureau in seen:
            raise InvalidInput(_("a bureau appears twice"), field=field)
        if bureau not in active:
            raise InvalidInput(_("unknown or inactive bureau"), field=field)
        seen.add(bureau)
    return plan


def _deadlines(role: AssignmentRole, today: date, months: int) -> dict[str, Any]:
    """The assignment's deadlines, with what each is counted from (``due_basis``, for calendar edits)."""
    rules = current_rules()
    basis = {"return_by": workdays.DeadlineBasis(today, working_days=rules.return_window_working_days)}
    if role == AssignmentRole.CO:
        basis["opinion_due"] = workdays.DeadlineBasis(today, months=rules.co_opinion_months)
    else:
        basis["reply_due"] = workdays.DeadlineBasis(today, months=months)
    dues: dict[str, Any] = {"reply_due": None, "opinion_due": None}
    dues.update({field: each.due() for field, each in basis.items()})
    return {**dues, "due_basis": {field: each.as_json() for field, each in basis.items()}}


def create_assignments(
    proposal: Proposal, actor: User, plan: list[tuple[int, AssignmentRole]], *, months: int
) -> list[Assignment]:
    today, now = timezone.localdate(), timezone.now()
    created = []
    for bureau_id, role in plan:
        assignment = Assignment.objects.create(
            proposal=proposal,
            bureau_id=bureau_id,
            role=role,
            round=proposal.rehandling_round,
            assigned_at=now,
            assigned_by=actor,
            **_deadlines(role, today, months),
        )
        created.append(assignment)
    return created


@transaction.atomic
def assign(
    *,
    actor: User,
    proposal_id: int,
    lead: int | None = None,
    co: Sequence[int] = (),
    separate: Sequence[int] = (),
) -> list[Assignment]:
    """Hand the proposal to bureaus. On an assigned proposal this adds bureaus (e.g. after a return)."""
    proposal = lock(proposal_id)
    require_office(actor, proposal)
    require_state(proposal, Action.ASSIGN)
    open_now = proposal.assignments.filter(status__in=OPEN_ASSIGNMENT)
    has_lead = open_now.filter(role=AssignmentRole.LEAD).exists()
    has_separate = open_now.filter(role=AssignmentRole.SEPARATE).exists()
    plan = _check_bureaus(lead, co, separate, has_lead=has_lead, has_separate=has_separate)
    if open_now.filter(bureau_id__in=[bureau for bureau, _role in plan]).exists():
        raise InvalidInput(_("this bureau already holds the proposal"), field="lead", code="already_assigned")
    if lead is not None and has_lead:
        raise InvalidInput(_("the proposal already has a lead bureau"), field="lead", code="already_assigned")
    rules = current_rules()
    months = rules.reply_months if proposal.rehandling_round == 1 else rules.rehandling_months
    created = create_assignments(proposal, actor, plan, months=months)
    if proposal.assigned_at is None:
        proposal.assigned_at = timezone.now()
    names = "、".join(Bureau.objects.filter(pk__in=[b for b, _r in plan]).values_list("name", flat=True))
    if proposal.status == Status.REGISTERED:
        move(proposal, Status.ASSIGNED, actor, Action.ASSIGN, reason=names)
    else:
        record(proposal, actor, Action.ASSIGN, reason=names)
    refresh_reply_due(proposal)
    tell(bureau_handlers(b for b, _r in plan), proposal, "assignment.new", _("New proposal assigned to your bureau"))
    return created


@transaction.atomic
def withdraw_assignment(*, actor: User, proposal_id: int, assignment_id: int, reason: str) -> Assignment:
    """The office takes an assignment back from a bureau (to give it to another)."""
    proposal = lock(proposal_id)
    require_office(actor, proposal)
    require_state(proposal, Action.WITHDRAW_ASSIGNMENT)
    assignment = open_assignment(proposal, assignment_id)
    assignment.status = AssignmentStatus.WITHDRAWN
    assignment.completed_at = timezone.now()
    assignment.save()
    # A bureau that no longer holds the proposal has nothing under way: its unsent reply goes with it.
    assignment.replies.exclude(status=ReplyStatus.SENT).delete()
    record(
        proposal,
        actor,
        Action.WITHDRAW_ASSIGNMENT,
        reason=require_text(reason, "reason", 500),
        audience=Audience.OFFICE,
    )
    _back_to_registered_if_nobody_replies(proposal, actor)
    return assignment


@transaction.atomic
def accept_assignment(*, actor: User, proposal_id: int, assignment_id: int) -> Assignment:
    """签收: the bureau takes the proposal on; the lead (or a separate bureau) starts handling."""
    proposal = lock(proposal_id)
    require_state(proposal, Action.ACCEPT_ASSIGNMENT)
    assignment = open_assignment(proposal, assignment_id)
    require_handler_of(actor, assignment)
    if assignment.status == AssignmentStatus.ACCEPTED:
        return assignment
    assignment.status = AssignmentStatus.ACCEPTED
    assignment.accepted_at = timezone.now()
    assignment.save()
    if proposal.status == Status.ASSIGNED and assignment.role in REPLYING_ROLES:
        handling = Status.HANDLING if proposal.rehandling_round == 1 else Status.REHANDLING
        move(proposal, handling, actor, Action.ACCEPT_ASSIGNMENT, reason=assignment.bureau.name)
    else:
        record(proposal, actor, Action.ACCEPT_ASSIGNMENT, reason=assignment.bureau.name)
    return assignment


@transaction.atomic
def return_assignment(*, actor: User, proposal_id: int, assignment_id: int, reason: str) -> Assignment:
    """退办: within the return window, with a reason. The office re-assigns."""
    proposal = lock(proposal_id)
    require_state(proposal, Action.RETURN_ASSIGNMENT)
    assignment = open_assignment(proposal, assignment_id)
    require_handler_of(actor, assignment)
    reason = require_text(reason, "reason", 500)
    if assignment.replies.filter(status__in=[ReplyStatus.SIGNOFF, ReplyStatus.REVIEW]).exists():
        raise InvalidInput(
            _("the bureau's reply is under review; it can no longer return the proposal"),
            code="reply_under_review",
            field="reason",
        )
    if timezone.localdate() > assignment.return_by:
        raise InvalidInput(
            _("the return window closed on %(day)s") % {"day": assignment.return_by.isoformat()},
            code="return_window_closed",
            field="reason",
        )
    assignment.status = AssignmentStatus.RETURNED
    assignment.returned_at = timezone.now()
    assignment.return_reason = reason
    assignment.save()
    record(
        proposal,
        actor,
        Action.RETURN_ASSIGNMENT,
        reason=texts.BUREAU_NOTE(bureau=assignment.bureau.name, note=reason),
        audience=Audience.BUREAU,
        bureau_id=assignment.bureau_id,
    )
    _back_to_registered_if_nobody_replies(proposal, actor)
    tell(office_users(), proposal, "assignment.returned", _("A bureau returned a proposal"))
    return assignment


def _back_to_registered_if_nobody_replies(proposal: Proposal, actor: User) -> None:
    """After a return or withdrawal: with no replying bureau left the office must assign again;
    with replying bureaus left but no reply under review any more, they are back to handling."""
    replying = proposal.assignments.filter(
        status__in=OPEN_ASSIGNMENT, role__in=REPLYING_ROLES, round=proposal.rehandling_round
    )
    in_review = proposal.replies.filter(
        round=proposal.rehandling_round, status__in=[ReplyStatus.SIGNOFF, ReplyStatus.REVIEW]
    )
    if not replying.exists():
        move(proposal, Status.REGISTERED, actor, Outcome.AWAITING_REASSIGNMENT)
    elif proposal.status == Status.REPLY_REVIEW and not in_review.exists():
        back = Status.HANDLING if proposal.rehandling_round == 1 else Status.REHANDLING
        move(proposal, back, actor, Outcome.AWAITING_REPLY)
    refresh_reply_due(proposal)
