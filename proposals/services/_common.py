"""What every proposal service shares: the transition table, locking, actor checks and the event log.

Each service function: locks the proposal row (``select_for_update``), checks the action is allowed in
the current state (one table, below), checks the actor, changes, appends a ``ProposalEvent``, and
schedules the live event, notifications and re-indexing (``search.indexing.queue_change``) for after commit.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.urls import reverse
from django.utils.translation import gettext as _

from consult.kernel.exceptions import DomainError, InvalidInput, InvalidTransition, NotFound
from consult.kernel.texts import Said
from consult.models import User
from consult.notifications.services import notify
from consult.people.roles import Role
from consult.realtime.catalogue import publish
from proposals.access import who_may_see
from proposals.actions import Action, TimelineAction
from proposals.live_events import PROPOSAL_CHANGED, ProposalChanged
from proposals.models import (
    Assignment,
    AssignmentStatus,
    Audience,
    Proposal,
    ProposalEvent,
    Status,
)
from proposals.transitions import ALLOWED_FROM, action_verb
from search.indexing import queue_change


def lock(proposal_id: int) -> Proposal:
    """The proposal row, locked until the transaction ends: concurrent actions queue up here."""
    # of=("self",): lock the proposal only; joining the session must not lock the whole session's row.
    proposal = Proposal.objects.select_for_update(of=("self",)).select_related("session").filter(pk=proposal_id).first()
    if proposal is None:
        raise NotFound(_("no such proposal"))
    return proposal


def require_state(proposal: Proposal, action: Action) -> None:
    if proposal.status not in ALLOWED_FROM[action]:
        raise InvalidTransition(
            _("cannot %(action)s while the proposal is “%(status)s”")
            % {"action": action_verb(action), "status": proposal.get_status_display()},
            code=f"invalid_transition:{action}",
        )


def open_assignment(proposal: Proposal, assignment_id: int) -> Assignment:
    assignment = (
        Assignment.objects.select_for_update()
        .filter(pk=assignment_id, proposal=proposal, status__in=[AssignmentStatus.PENDING, AssignmentStatus.ACCEPTED])
        .first()
    )
    if assignment is None:
        exists = Assignment.objects.filter(pk=assignment_id, proposal=proposal).exists()
        raise missing_or_wrong_state(
            exists, missing=_("no assignment with this id on this proposal"), wrong_state=_("this assignment is closed")
        )
    return assignment


def missing_or_wrong_state(exists: bool, *, missing: str, wrong_state: str) -> DomainError:
    """The refusal for an object not found in the state an action needs: 409 if it exists in another state.

    Repeating an action (deciding an extension twice, returning an assignment twice) or acting too early
    (reviewing a reply that still awaits sign-off) conflicts with the object's state; it is not missing.
    """
    if exists:
        return InvalidTransition(wrong_state, code="invalid_transition")
    return NotFound(missing)


def require_text(value: str, field: str, max_length: int) -> str:
    text = value.strip()
    if not text:
        raise InvalidInput(_("this field is required"), field=field)
    if len(text) > max_length:
        raise InvalidInput(_("at most %(n)d characters") % {"n": max_length}, field=field)
    return text


def record(
    proposal: Proposal,
    actor: User | None,
    action: TimelineAction,
    *,
    reason: str | Said = "",
    audience: Audience = Audience.PUBLIC,
    bureau_id: int | None = None,
    from_status: str = "",
    to_status: str = "",
) -> ProposalEvent:
    """Append an event to the proposal's timeline and tell everyone watching it, after commit.

    ``reason``: what someone wrote, or a detail the platform composed (a ``Said`` of ``proposals.texts``)."""
    wording, code, params = (
        (reason.in_default_language(), reason.code, reason.params) if isinstance(reason, Said) else (reason, "", {})
    )
    event = ProposalEvent.objects.create(
        proposal=proposal,
        actor=actor,
        action=action,
        reason=wording,
        code=code,
        params=params,
        audience=audience,
        bureau_id=bureau_id,
        from_status=from_status,
        to_status=to_status,
    )
    payload: ProposalChanged = {"action": action, "status": proposal.status, "event": event.pk}
    publish(PROPOSAL_CHANGED, proposal.pk, payload)
    # A merged proposal's people now find the one it was merged into: both documents change.
    queue_change("proposal", *filter(None, (proposal.pk, proposal.merged_into_id)))
    return event


def move(
    proposal: Proposal, to: Status, actor: User | None, action: TimelineAction, *, reason: str | Said = ""
) -> ProposalEvent:
    """Change the proposal's state and write the event that says so."""
    before = proposal.status
    proposal.status = to
    proposal.save()
    return record(proposal, actor, action, reason=reason, from_status=before, to_status=to)


def proposal_url(proposal: Proposal) -> str:
    return reverse("proposal-detail", args=[proposal.pk])


def bureau_handlers(bureau_ids: Iterable[int], *, leads_only: bool = False) -> set[int]:
    handlers = User.objects.filter(role=Role.HANDLER, is_active=True, handler_profile__bureau_id__in=list(bureau_ids))
    if leads_only:
        handlers = handlers.filter(handler_profile__is_bureau_lead=True)
    return set(handlers.values_list("pk", flat=True))


def office_users() -> set[int]:
    return set(User.objects.filter(role__in=[Role.STAFF], is_active=True).values_list("pk", flat=True))


def tell(user_ids: Iterable[int], proposal: Proposal, kind: str, title: str, **params: str) -> None:
    """Notify those of ``user_ids`` who may see the proposal; the title names it, never a reply's or note's text.

    Stored as ``kind`` + parameters (the proposal's title, and ``params`` such as ``due``) and worded when read,
    in the reader's language (``consult.notifications.kinds``); ``title`` is the wording kept beside them.
    """
    notify(
        who_may_see(user_ids, proposal),
        kind=kind,
        title=f"{title}：{proposal.title}",
        url=proposal_url(proposal),
        params={"subject": proposal.title, **params},
    )
