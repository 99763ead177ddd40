"""办理: communication with the deputy (沟通), co-handler opinions to the lead (会办意见), extensions (延期)."""

from __future__ import annotations

from datetime import date

from dateutil.relativedelta import relativedelta
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from consult.kernel.exceptions import InvalidInput
from consult.kernel.texts import label
from consult.models import User
from proposals import texts, workdays
from proposals.access import recipients_of, require_handler_of, require_office
from proposals.actions import Action, Outcome
from proposals.models import (
    AssignmentRole,
    AssignmentStatus,
    Audience,
    Channel,
    CoHandlerOpinion,
    Communication,
    ExtensionRequest,
    ExtensionStatus,
)
from proposals.models.choices import REPLYING_ROLES
from proposals.rules import current_rules
from proposals.services._common import (
    bureau_handlers,
    lock,
    missing_or_wrong_state,
    office_users,
    open_assignment,
    record,
    require_state,
    require_text,
    tell,
)
from proposals.services.assignment import refresh_reply_due


@transaction.atomic
def record_communication(
    *,
    actor: User,
    proposal_id: int,
    assignment_id: int,
    channel: str,
    occurred_on: date,
    summary: str,
    consultation_id: int | None = None,
) -> Communication:
    proposal = lock(proposal_id)
    require_state(proposal, Action.RECORD_COMMUNICATION)
    assignment = open_assignment(proposal, assignment_id)
    require_handler_of(actor, assignment)
    if channel not in Channel.values:
        raise InvalidInput(_("unknown channel"), field="channel")
    if occurred_on > timezone.localdate():
        raise InvalidInput(_("a communication cannot be in the future"), field="occurred_on")
    communication = Communication.objects.create(
        proposal=proposal,
        assignment=assignment,
        channel=channel,
        occurred_on=occurred_on,
        summary=require_text(summary, "summary", 5000),
        consultation_id=consultation_id,
        recorded_by=actor,
    )
    record(
        proposal,
        actor,
        Action.RECORD_COMMUNICATION,  # the summary (phones) stays in the records
        reason=texts.COMMUNICATED(bureau=assignment.bureau.name, channel=label("proposals.channel", channel)),
    )
    return communication


@transaction.atomic
def submit_opinion(*, actor: User, proposal_id: int, assignment_id: int, body: str) -> CoHandlerOpinion:
    """A co-handling bureau gives its opinion to the lead bureau, seen by the lead and the office only."""
    proposal = lock(proposal_id)
    require_state(proposal, Action.SUBMIT_OPINION)
    assignment = open_assignment(proposal, assignment_id)
    require_handler_of(actor, assignment)
    if assignment.role != AssignmentRole.CO:
        raise InvalidInput(_("only co-handling bureaus give opinions to the lead"), field="assignment_id")
    if hasattr(assignment, "opinion"):
        raise InvalidInput(_("the opinion was already given"), field="body", code="already_done")
    opinion = CoHandlerOpinion.objects.create(
        assignment=assignment, body=require_text(body, "body", 10000), submitted_by=actor
    )
    lead = proposal.assignments.filter(
        role=AssignmentRole.LEAD, status__in=[AssignmentStatus.PENDING, AssignmentStatus.ACCEPTED]
    ).first()
    if lead is not None:
        record(
            proposal,
            actor,
            Action.SUBMIT_OPINION,
            reason=assignment.bureau.name,
            audience=Audience.BUREAU,
            bureau_id=lead.bureau_id,
        )
        tell(bureau_handlers([lead.bureau_id]), proposal, "opinion.new", _("A co-handler gave its opinion"))
    return opinion


@transaction.atomic
def request_extension(
    *, actor: User, proposal_id: int, assignment_id: int, requested_due: date, reason: str
) -> ExtensionRequest:
    proposal = lock(proposal_id)
    require_state(proposal, Action.REQUEST_EXTENSION)
    assignment = open_assignment(proposal, assignment_id)
    require_handler_of(actor, assignment)
    if assignment.role not in REPLYING_ROLES or assignment.reply_due is None:
        raise InvalidInput(_("only a replying bureau asks for more time"), field="assignment_id")
    latest = timezone.localtime(assignment.assigned_at).date() + relativedelta(
        months=current_rules().max_extension_months
    )
    if requested_due <= assignment.reply_due:
        raise InvalidInput(_("the new date must be after the current deadline"), field="requested_due")
    if requested_due > latest:
        raise InvalidInput(
            _("extensions end by %(day)s at the latest") % {"day": latest.isoformat()}, field="requested_due"
        )
    if assignment.extension_requests.filter(status=ExtensionStatus.PENDING).exists():
        raise InvalidInput(_("a request is already waiting for a decision"), field="requested_due")
    request = ExtensionRequest.objects.create(
        assignment=assignment,
        requested_due=requested_due,
        reason=require_text(reason, "reason", 500),
        requested_by=actor,
    )
    record(
        proposal,
        actor,
        Action.REQUEST_EXTENSION,
        reason=texts.UNTIL(day=requested_due.isoformat(), reason=request.reason),
        audience=Audience.BUREAU,
        bureau_id=assignment.bureau_id,
    )
    tell(office_users(), proposal, "extension.requested", _("A bureau asks for more time"))
    return request


@transaction.atomic
def decide_extension(
    *, actor: User, proposal_id: int, request_id: int, approve: bool, note: str = ""
) -> ExtensionRequest:
    """The office approves or refuses; on approval the deputy is told of the new date."""
    proposal = lock(proposal_id)
    require_office(actor, proposal)
    require_state(proposal, Action.DECIDE_EXTENSION)
    request = (
        ExtensionRequest.objects.select_for_update()
        .filter(pk=request_id, assignment__proposal=proposal, status=ExtensionStatus.PENDING)
        .select_related("assignment__bureau")
        .first()
    )
    if request is None:
        raise missing_or_wrong_state(
            ExtensionRequest.objects.filter(pk=request_id, assignment__proposal=proposal).exists(),
            missing=_("no such extension request"),
            wrong_state=_("this extension request has already been decided"),
        )
    request.status = ExtensionStatus.APPROVED if approve else ExtensionStatus.REJECTED
    request.decided_by, request.decided_at, request.decision_note = actor, timezone.now(), note.strip()[:500]
    request.save()
    assignment = request.assignment
    if approve:
        assignment.reply_due = request.requested_due
        basis = workdays.DeadlineBasis(request.requested_due)  # a fixed date; moved only if it becomes a day off
        assignment.due_basis = {**assignment.due_basis, "reply_due": basis.as_json()}
        assignment.save(update_fields=["reply_due", "due_basis"])
        refresh_reply_due(proposal)
        record(
            proposal,
            actor,
            Outcome.EXTENSION_APPROVED,
            reason=texts.BUREAU_NOTE(bureau=assignment.bureau.name, note=request.requested_due.isoformat()),
        )
        tell(recipients_of(proposal), proposal, "extension.approved", _("The reply deadline was extended"))
    else:
        record(
            proposal,
            actor,
            Outcome.EXTENSION_REJECTED,
            reason=request.decision_note,
            audience=Audience.BUREAU,
            bureau_id=assignment.bureau_id,
        )
    tell(
        bureau_handlers([assignment.bureau_id]), proposal, "extension.decided", _("Your extension request was decided")
    )
    return request
