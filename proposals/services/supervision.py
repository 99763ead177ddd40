"""督办: the office urges a bureau about an open assignment (催办).

urge: an open assignment's bureau is reminded by the office; its handlers are notified and the bureau's timeline
gets the entry (``Action.URGE``, audience: the office and that bureau). Once per assignment per day
(``URGE_EVERY``): a second reminder the same day is refused with 429 and the time the next one may go.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from consult.kernel.exceptions import DomainError, InvalidInput
from consult.models import User
from proposals import texts
from proposals.access import require_office
from proposals.actions import Action
from proposals.models import Audience, ProposalEvent
from proposals.services._common import bureau_handlers, lock, open_assignment, record, require_state, tell

URGE_EVERY = timedelta(days=1)
NOTE_MAX_CHARS = 500


class UrgedRecently(DomainError):
    """催办 again before ``URGE_EVERY`` has passed: the bureau was just reminded."""

    status = 429
    code = "rate_limited"

    def __init__(self, message: str, *, next_at: datetime) -> None:
        super().__init__(message, field="assignment_id")
        self.next_at = next_at


def last_urged(proposal_id: int, bureau_id: int) -> datetime | None:
    """When the office last urged this bureau about this proposal (any round), or None."""
    last = (
        ProposalEvent.objects.filter(proposal_id=proposal_id, bureau_id=bureau_id, action=Action.URGE)
        .order_by("-at")
        .values_list("at", flat=True)
        .first()
    )
    return last


@transaction.atomic
def urge(*, actor: User, proposal_id: int, assignment_id: int, note: str = "") -> ProposalEvent:
    """催办: remind the bureau of an open assignment; its handlers are told, the timeline says so."""
    proposal = lock(proposal_id)  # concurrent reminders queue here: only one passes the check below
    require_office(actor, proposal)
    require_state(proposal, Action.URGE)
    assignment = open_assignment(proposal, assignment_id)
    note = note.strip()
    if len(note) > NOTE_MAX_CHARS:
        raise InvalidInput(_("at most %(n)d characters") % {"n": NOTE_MAX_CHARS}, field="note")
    previous = last_urged(proposal.pk, assignment.bureau_id)
    now = timezone.now()
    if previous is not None and now - previous < URGE_EVERY:
        next_at = previous + URGE_EVERY
        raise UrgedRecently(
            _("%(bureau)s was already urged about this proposal; the next reminder may go after %(at)s")
            % {"bureau": assignment.bureau.name, "at": formats.date_format(timezone.localtime(next_at), "Y-m-d H:i")},
            next_at=next_at,
        )
    due = assignment.reply_due or assignment.opinion_due
    bureau = assignment.bureau.name
    reason = texts.BUREAU_NOTE(bureau=bureau, note=note) if note else bureau  # the note stays as written
    event = record(
        proposal, actor, Action.URGE, reason=reason, audience=Audience.BUREAU, bureau_id=assignment.bureau_id
    )
    title = _("The office urges your bureau to reply") + (f" {due.isoformat()}" if due else "")
    due_param = {"due": due.isoformat()} if due else {}
    tell(bureau_handlers([assignment.bureau_id]), proposal, "supervision.urged", title, **due_param)
    return event
