"""反馈 and what follows: ratings by each proposer and co-signer, re-handling after a confirmed
不满意 (重新办理), follow-up for B/C outcomes (跟踪办理), closing (办结).

replied --all rated, none unsatisfied--> closed (A/D) | follow_up (B/C) --follow-up reply--> closed
replied --不满意 on the result, confirmed by the office--> rehandling (new deadline) --reply--> replied
A 不满意 needs a reason (``comment``): the office reviews it and the bureau answers it.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from consult.kernel.exceptions import InvalidInput, NotAllowed
from consult.kernel.texts import label
from consult.models import User
from proposals import texts
from proposals.access import recipients_of, require_handler_of, require_office
from proposals.actions import Action, Outcome
from proposals.models import (
    AssignmentRole,
    AssignmentStatus,
    Feedback,
    OutcomeClass,
    Proposal,
    Rating,
    Reply,
    ReplyKind,
    ReplyStatus,
    Status,
)
from proposals.models.choices import FOLLOW_UP_CLASSES, REPLYING_ROLES
from proposals.rules import current_rules
from proposals.services._common import (
    bureau_handlers,
    lock,
    missing_or_wrong_state,
    move,
    office_users,
    record,
    require_state,
    require_text,
    tell,
)
from proposals.services.assignment import create_assignments, refresh_reply_due
from proposals.services.reply import schedule_publication


def _latest_sent_reply(proposal: Proposal, reply_id: int) -> Reply:
    reply = Reply.objects.filter(
        pk=reply_id, proposal=proposal, status=ReplyStatus.SENT, round=proposal.rehandling_round
    ).first()
    if reply is None:
        raise missing_or_wrong_state(
            Reply.objects.filter(pk=reply_id, proposal=proposal).exists(),
            missing=_("no such reply"),
            wrong_state=_("this reply is not a sent reply of the current round"),
        )
    return reply


def _check_ratings(**ratings: str) -> None:
    for field, value in ratings.items():
        if value not in Rating.values:
            raise InvalidInput(_("choose satisfied, basically satisfied or unsatisfied"), field=field)


def _save_feedback(
    proposal: Proposal,
    reply: Reply,
    rater_id: int,
    entered_by: User,
    on_paper: bool,
    contact: str,
    attitude: str,
    result: str,
    comment: str,
) -> Feedback:
    _check_ratings(contact=contact, attitude=attitude, result=result)
    if result == Rating.UNSATISFIED and not comment.strip():  # 不满意 always says why: the office reviews it
        raise InvalidInput(_("say why you are not satisfied"), field="comment", code="reason_required")
    if rater_id not in recipients_of(proposal):
        raise NotAllowed(_("only the proposer and co-signers rate the reply"))
    if Feedback.objects.filter(reply=reply, rater_id=rater_id).exists():
        raise InvalidInput(_("this reply was already rated by this person"), field="result", code="already_done")
    feedback = Feedback.objects.create(
        reply=reply,
        proposal=proposal,
        rater_id=rater_id,
        contact=contact,
        attitude=attitude,
        result=result,
        comment=comment.strip()[:5000],
        on_paper=on_paper,
        entered_by=entered_by,
    )
    said = (texts.RATED_ON_PAPER if on_paper else texts.RATED)(rating=label("proposals.rating", result))
    record(proposal, entered_by, Action.RATE_REPLY, reason=said)
    if result == Rating.UNSATISFIED:
        proposal.dissatisfaction_pending = True
        proposal.save(update_fields=["dissatisfaction_pending", "updated_at"])
        tell(office_users(), proposal, "feedback.unsatisfied", _("A deputy is not satisfied with a reply"))
    else:
        _complete_if_everyone_rated(proposal)
    return feedback


@transaction.atomic
def rate_reply(
    *, actor: User, proposal_id: int, reply_id: int, contact: str, attitude: str, result: str, comment: str = ""
) -> Feedback:
    """A proposer or co-signer rates, from their own account only (bureaus never rate for them)."""
    proposal = lock(proposal_id)
    require_state(proposal, Action.RATE_REPLY)
    reply = _latest_sent_reply(proposal, reply_id)
    return _save_feedback(proposal, reply, actor.pk, actor, False, contact, attitude, result, comment)


@transaction.atomic
def record_paper_feedback(
    *,
    actor: User,
    proposal_id: int,
    reply_id: int,
    rater_id: int,
    contact: str,
    attitude: str,
    result: str,
    comment: str = "",
) -> Feedback:
    """The office enters a rating the deputy gave on a paper form; it is marked as such."""
    proposal = lock(proposal_id)
    require_office(actor, proposal)
    require_state(proposal, Action.RECORD_PAPER_FEEDBACK)
    reply = _latest_sent_reply(proposal, reply_id)
    return _save_feedback(proposal, reply, rater_id, actor, True, contact, attitude, result, comment)


def _complete_if_everyone_rated(proposal: Proposal) -> None:
    if proposal.status != Status.REPLIED or proposal.dissatisfaction_pending:
        return
    round_replies = proposal.replies.filter(round=proposal.rehandling_round, status=ReplyStatus.SENT)
    raters = recipients_of(proposal)
    for reply in round_replies:  # 分办: every reply of the round is rated by everyone
        if raters - set(reply.feedback.values_list("rater_id", flat=True)):
            return
    # The platform moves it on once everyone has rated: the timeline must not credit the last rater.
    if proposal.outcome_class in FOLLOW_UP_CLASSES:
        move(proposal, Status.FOLLOW_UP, None, Outcome.START_FOLLOW_UP)
    else:
        proposal.closed_at = timezone.now()
        move(proposal, Status.CLOSED, None, Action.CLOSE)


@transaction.atomic
def review_dissatisfaction(*, actor: User, proposal_id: int, confirm: bool, reason: str) -> Proposal:
    """The office confirms an unsatisfied rating (re-handling starts, with its own deadline) or sets it aside."""
    proposal = lock(proposal_id)
    require_office(actor, proposal)
    require_state(proposal, Action.REVIEW_DISSATISFACTION)
    if not proposal.dissatisfaction_pending:
        raise InvalidInput(_("no unsatisfied rating awaits review"), field="confirm", code="nothing_pending")
    reason = require_text(reason, "reason", 1000)
    proposal.dissatisfaction_pending = False
    if not confirm:
        proposal.save()
        record(proposal, actor, Outcome.DISMISS_DISSATISFACTION, reason=reason)
        _complete_if_everyone_rated(proposal)
        return proposal
    replying = list(
        proposal.assignments.filter(round=proposal.rehandling_round, role__in=REPLYING_ROLES)
        .exclude(status__in=[AssignmentStatus.RETURNED, AssignmentStatus.WITHDRAWN])
        .values_list("bureau_id", "role")
    )
    proposal.rehandling_round += 1
    proposal.closed_at = None
    create_assignments(
        proposal, actor, [(b, AssignmentRole(r)) for b, r in replying], months=current_rules().rehandling_months
    )
    move(proposal, Status.REHANDLING, actor, Outcome.START_REHANDLING, reason=reason)
    refresh_reply_due(proposal)
    tell(
        bureau_handlers(b for b, _r in replying), proposal, "proposal.rehandling", _("A proposal must be handled again")
    )
    tell(recipients_of(proposal), proposal, "proposal.rehandling", _("Your proposal is being handled again"))
    return proposal


@transaction.atomic
def send_follow_up_reply(
    *, actor: User, proposal_id: int, assignment_id: int, body: str, outcome_class: str = OutcomeClass.A
) -> Reply:
    """跟踪办理: when a B/C matter is solved, the bureau sends a second reply and the proposal closes."""
    proposal = lock(proposal_id)
    require_state(proposal, Action.SEND_FOLLOW_UP_REPLY)
    assignment = proposal.assignments.filter(
        pk=assignment_id,
        role__in=REPLYING_ROLES,
        status=AssignmentStatus.DONE,
        replies__status=ReplyStatus.SENT,
        replies__round=proposal.rehandling_round,
    ).first()
    if assignment is None:  # only the bureau that actually replied follows up (not one that returned it)
        raise missing_or_wrong_state(
            proposal.assignments.filter(pk=assignment_id).exists(),
            missing=_("no such assignment"),
            wrong_state=_("this assignment did not send a reply of the current round"),
        )
    require_handler_of(actor, assignment)
    if outcome_class not in OutcomeClass.values:
        raise InvalidInput(_("choose class A, B, C or D"), field="outcome_class")
    previous = proposal.replies.filter(assignment=assignment, status=ReplyStatus.SENT).order_by("-round", "-id").first()
    reply = Reply.objects.create(
        proposal=proposal,
        assignment=assignment,
        kind=ReplyKind.FOLLOW_UP,
        round=proposal.rehandling_round,
        outcome_class=outcome_class,
        drafted_class=outcome_class,
        body=require_text(body, "body", 20000),
        contact_person=previous.contact_person if previous else "",
        contact_phone=previous.contact_phone if previous else "",
        status=ReplyStatus.SENT,
        drafted_by=actor,
        submitted_at=timezone.now(),
        sent_at=timezone.now(),
    )
    schedule_publication(proposal, reply)
    reply.save(update_fields=["publication_due", "due_basis"])
    proposal.outcome_class, proposal.closed_at = outcome_class, timezone.now()
    move(
        proposal,
        Status.CLOSED,
        actor,
        Action.SEND_FOLLOW_UP_REPLY,
        reason=texts.class_of(assignment.bureau.name, outcome_class),
    )
    tell(recipients_of(proposal), proposal, "reply.follow_up", _("You received a follow-up reply"))
    return reply


@transaction.atomic
def close(*, actor: User, proposal_id: int, reason: str) -> Proposal:
    """办结 by the office, e.g. when the feedback period ends without every rating."""
    proposal = lock(proposal_id)
    require_office(actor, proposal)
    require_state(proposal, Action.CLOSE)
    if proposal.dissatisfaction_pending:
        raise InvalidInput(_("review the unsatisfied rating first"), field="reason", code="dissatisfaction_pending")
    proposal.closed_at = timezone.now()
    move(proposal, Status.CLOSED, actor, Action.CLOSE, reason=require_text(reason, "reason", 1000))
    return proposal
