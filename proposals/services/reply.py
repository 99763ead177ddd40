"""答复: the lead (or each separate) bureau drafts its reply with the outcome class, co-handlers sign it
(会签), the office reviews it (督办; it may change the class) and sends it to every proposer and
co-signer. Publication review (公开) strips personal contact details.

draft -> submit -> [signoff by every co-handler] -> review by the office -> sent  (or back to draft)
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from consult.kernel.exceptions import InvalidInput, InvalidTransition, NotAllowed
from consult.models import User
from proposals import texts, workdays
from proposals.access import recipients_of, require_handler_of, require_office
from proposals.actions import Action, Outcome
from proposals.masking import strip_contact_details
from proposals.models import (
    Assignment,
    AssignmentRole,
    AssignmentStatus,
    Audience,
    OutcomeClass,
    Proposal,
    Reply,
    ReplyKind,
    ReplySignoff,
    ReplyStatus,
    Status,
)
from proposals.models.choices import OPEN_ASSIGNMENT, REPLYING_ROLES
from proposals.rules import current_rules
from proposals.services._common import (
    bureau_handlers,
    lock,
    missing_or_wrong_state,
    move,
    office_users,
    open_assignment,
    record,
    require_state,
    require_text,
    tell,
)


def _open_co_assignments(proposal: Proposal) -> QuerySet[Assignment]:
    return proposal.assignments.filter(
        role=AssignmentRole.CO, status__in=OPEN_ASSIGNMENT, round__lte=proposal.rehandling_round
    )


def _reply_kind(proposal: Proposal) -> ReplyKind:
    return ReplyKind.ANSWER if proposal.rehandling_round == 1 else ReplyKind.REHANDLING


@transaction.atomic
def draft_reply(
    *,
    actor: User,
    proposal_id: int,
    assignment_id: int,
    outcome_class: str,
    body: str,
    contact_person: str,
    contact_phone: str,
) -> Reply:
    proposal = lock(proposal_id)
    require_state(proposal, Action.DRAFT_REPLY)
    assignment = open_assignment(proposal, assignment_id)
    require_handler_of(actor, assignment)
    if assignment.role not in REPLYING_ROLES:
        raise NotAllowed(_("co-handling bureaus give opinions; the lead bureau replies"))
    if outcome_class not in OutcomeClass.values:
        raise InvalidInput(_("choose class A, B, C or D"), field="outcome_class")
    reply = Reply.objects.select_for_update().filter(
        assignment=assignment, round=proposal.rehandling_round, kind=_reply_kind(proposal)
    ).first() or Reply(
        proposal=proposal, assignment=assignment, round=proposal.rehandling_round, kind=_reply_kind(proposal)
    )
    if reply.status not in (ReplyStatus.DRAFT,):
        raise InvalidTransition(_("the reply is already submitted"), code="invalid_transition:draft_reply")
    reply.outcome_class = reply.drafted_class = outcome_class
    reply.body = require_text(body, "body", 20000)
    reply.contact_person = require_text(contact_person, "contact_person", 32)
    reply.contact_phone = require_text(contact_phone, "contact_phone", 32)
    reply.drafted_by = actor
    reply.save()
    return reply


def _check_ready_to_submit(proposal: Proposal, assignment: Assignment) -> None:
    if (
        current_rules().communication_required
        and not proposal.communications.filter(assignment__bureau_id=assignment.bureau_id).exists()
    ):
        raise InvalidInput(
            _("record at least one communication with the deputy before replying"),
            code="communication_required",
            field="communications",
        )
    if assignment.role == AssignmentRole.LEAD:
        today = timezone.localdate()
        missing = _open_co_assignments(proposal).filter(opinion__isnull=True, opinion_due__gte=today)
        if missing.exists():
            names = "、".join(missing.values_list("bureau__name", flat=True))
            raise InvalidInput(
                _("co-handlers have not given their opinions yet: %(names)s") % {"names": names},
                code="opinions_missing",
                field="opinions",
            )


@transaction.atomic
def submit_reply(*, actor: User, proposal_id: int, assignment_id: int) -> Reply:
    proposal = lock(proposal_id)
    require_state(proposal, Action.SUBMIT_REPLY)
    assignment = open_assignment(proposal, assignment_id)
    require_handler_of(actor, assignment)
    reply = (
        Reply.objects.select_for_update()
        .filter(assignment=assignment, round=proposal.rehandling_round, status=ReplyStatus.DRAFT)
        .first()
    )
    if reply is None:
        raise InvalidTransition(_("draft the reply first"), code="invalid_transition")
    _check_ready_to_submit(proposal, assignment)
    needs_signoff = assignment.role == AssignmentRole.LEAD and _open_co_assignments(proposal).exists()
    reply.status = ReplyStatus.SIGNOFF if needs_signoff else ReplyStatus.REVIEW
    reply.submitted_at = timezone.now()
    reply.save()
    if proposal.status != Status.REPLY_REVIEW:
        move(proposal, Status.REPLY_REVIEW, actor, Action.SUBMIT_REPLY, reason=assignment.bureau.name)
    else:
        record(proposal, actor, Action.SUBMIT_REPLY, reason=assignment.bureau.name)
    if needs_signoff:
        co_bureaus = _open_co_assignments(proposal).values_list("bureau_id", flat=True)
        tell(bureau_handlers(co_bureaus), proposal, "reply.signoff", _("A reply awaits your sign-off"))
    else:
        tell(office_users(), proposal, "reply.review", _("A reply awaits review"))
    return reply


@transaction.atomic
def sign_off_reply(
    *, actor: User, proposal_id: int, reply_id: int, assignment_id: int, comment: str = ""
) -> ReplySignoff:
    """会签: a co-handling bureau signs the lead's reply; the last signature sends it to the office."""
    proposal = lock(proposal_id)
    require_state(proposal, Action.SIGN_OFF_REPLY)
    assignment = open_assignment(proposal, assignment_id)
    require_handler_of(actor, assignment)
    if assignment.role != AssignmentRole.CO:
        raise NotAllowed(_("only co-handling bureaus sign off the lead's reply"))
    reply = Reply.objects.select_for_update().filter(pk=reply_id, proposal=proposal, status=ReplyStatus.SIGNOFF).first()
    if reply is None:
        raise missing_or_wrong_state(
            Reply.objects.filter(pk=reply_id, proposal=proposal).exists(),
            missing=_("no such reply"),
            wrong_state=_("this reply does not await sign-off"),
        )
    if ReplySignoff.objects.filter(reply=reply, assignment=assignment).exists():
        raise InvalidInput(_("already signed"), field="reply_id", code="already_done")
    signoff = ReplySignoff.objects.create(reply=reply, assignment=assignment, signed_by=actor, comment=comment[:500])
    record(proposal, actor, Action.SIGN_OFF_REPLY, reason=assignment.bureau.name, audience=Audience.OFFICE)
    unsigned = _open_co_assignments(proposal).exclude(signoffs__reply=reply)
    if not unsigned.exists():
        reply.status = ReplyStatus.REVIEW
        reply.save(update_fields=["status"])
        tell(office_users(), proposal, "reply.review", _("A reply awaits review"))
    return signoff


@transaction.atomic
def review_reply(
    *, actor: User, proposal_id: int, reply_id: int, approve: bool, outcome_class: str = "", note: str = ""
) -> Reply:
    """督办审核: the office sends the reply (possibly changing its class) or returns it for revision."""
    proposal = lock(proposal_id)
    require_office(actor, proposal)
    require_state(proposal, Action.REVIEW_REPLY)
    reply = Reply.objects.select_for_update().filter(pk=reply_id, proposal=proposal, status=ReplyStatus.REVIEW).first()
    if reply is None:
        raise missing_or_wrong_state(
            Reply.objects.filter(pk=reply_id, proposal=proposal).exists(),
            missing=_("no such reply"),
            wrong_state=_("this reply is not under review"),
        )
    if outcome_class and outcome_class not in OutcomeClass.values:
        raise InvalidInput(_("choose class A, B, C or D"), field="outcome_class")
    reply.reviewed_by, reply.review_note = actor, note.strip()[:500]
    if not approve:
        reply.status = ReplyStatus.DRAFT
        reply.save()
        ReplySignoff.objects.filter(reply=reply).delete()
        others_in_review = proposal.replies.filter(
            round=proposal.rehandling_round, status__in=[ReplyStatus.SIGNOFF, ReplyStatus.REVIEW]
        )
        # The timeline names the bureau; the note itself is the office's and that bureau's (reply.review_note).
        bureau = reply.assignment.bureau.name
        if others_in_review.exists():  # 分办: another bureau's reply is still under review
            record(proposal, actor, Outcome.RETURN_REPLY, reason=bureau)
        else:
            back = Status.HANDLING if proposal.rehandling_round == 1 else Status.REHANDLING
            move(proposal, back, actor, Outcome.RETURN_REPLY, reason=bureau)
        tell(bureau_handlers([reply.assignment.bureau_id]), proposal, "reply.returned", _("Your reply was returned"))
        return reply
    _send(proposal, reply, actor, outcome_class or reply.outcome_class)
    return reply


def schedule_publication(proposal: Proposal, reply: Reply) -> None:
    """A sent reply of a proposal whose proposer agreed is due for publication within
    ``publication_working_days`` working days of the day it was sent (each 分办 reply from its own day)."""
    if not proposal.publication_consent or reply.sent_at is None or reply.published_at is not None:
        return
    basis = workdays.DeadlineBasis(
        start=timezone.localtime(reply.sent_at).date(), working_days=current_rules().publication_working_days
    )
    reply.publication_due = basis.due()
    reply.due_basis = {**reply.due_basis, "publication_due": basis.as_json()}


def _send(proposal: Proposal, reply: Reply, actor: User, outcome_class: str) -> None:
    now = timezone.now()
    reply.outcome_class, reply.status, reply.sent_at = outcome_class, ReplyStatus.SENT, now
    schedule_publication(proposal, reply)
    reply.save()
    assignment = reply.assignment
    on_time = assignment.reply_due is None or timezone.localdate() <= assignment.reply_due
    assignment.status, assignment.completed_at = AssignmentStatus.DONE, now
    assignment.save(update_fields=["status", "completed_at"])
    proposal.outcome_class = outcome_class
    if proposal.rehandling_round == 1:  # 按时办复率 counts the first replies only
        earlier = proposal.replied_on_time
        proposal.replied_on_time = on_time if earlier is None else (earlier and on_time)
    still_replying = proposal.assignments.filter(
        role__in=REPLYING_ROLES, status__in=OPEN_ASSIGNMENT, round=proposal.rehandling_round
    )
    if still_replying.exists():
        # 分办: other bureaus still owe their replies; back to handling unless one is already under review.
        in_review = proposal.replies.filter(
            round=proposal.rehandling_round, status__in=[ReplyStatus.SIGNOFF, ReplyStatus.REVIEW]
        )
        reason = f"{assignment.bureau.name}：{outcome_class}"
        if in_review.exists():
            proposal.save()
            record(proposal, actor, Outcome.SEND_REPLY, reason=reason)
        else:
            back = Status.HANDLING if proposal.rehandling_round == 1 else Status.REHANDLING
            move(proposal, back, actor, Outcome.SEND_REPLY, reason=reason)
    else:
        _close_round(proposal)
        if proposal.first_replied_at is None:
            proposal.first_replied_at = now
        proposal.reply_due = None
        move(
            proposal,
            Status.REPLIED,
            actor,
            Outcome.SEND_REPLY,
            reason=texts.class_of(assignment.bureau.name, outcome_class),
        )
    tell(recipients_of(proposal), proposal, "reply.sent", _("You received a reply; please rate it"))


def _close_round(proposal: Proposal) -> None:
    """Co-handlers of the round are done once the lead's reply is sent."""
    _open_co_assignments(proposal).update(status=AssignmentStatus.DONE, completed_at=timezone.now())


@transaction.atomic
def publish(*, actor: User, proposal_id: int, reply_id: int, public_body: str = "") -> Reply:
    """公开: only if the proposer agreed; the published text never carries contact details.

    Publishing is done once per reply: publishing it again answers with the publication already made
    (same text, same moment, no second timeline entry); a different text for it is refused.
    """
    proposal = lock(proposal_id)
    require_office(actor, proposal)
    require_state(proposal, Action.PUBLISH)
    if not proposal.publication_consent:
        raise InvalidInput(_("the proposer did not agree to publication"), code="no_consent", field="publication")
    reply = Reply.objects.select_for_update().filter(pk=reply_id, proposal=proposal, status=ReplyStatus.SENT).first()
    if reply is None:
        raise missing_or_wrong_state(
            Reply.objects.filter(pk=reply_id, proposal=proposal).exists(),
            missing=_("no such reply"),
            wrong_state=_("this reply has not been sent"),
        )
    wording = strip_contact_details((public_body or reply.body).strip())
    if reply.published_at is not None:
        if public_body.strip() and wording != reply.public_body:
            raise InvalidTransition(
                _("this reply was already published on %(day)s; its published text is not changed")
                % {"day": timezone.localtime(reply.published_at).date().isoformat()},
                code="already_published",
            )
        return reply
    reply.public_body, reply.published_at = wording, timezone.now()
    reply.save(update_fields=["public_body", "published_at"])
    if proposal.published_at is None:
        proposal.published_at = reply.published_at
        proposal.save(update_fields=["published_at", "updated_at"])
    record(proposal, actor, Action.PUBLISH, reason=reply.assignment.bureau.name)
    return reply
