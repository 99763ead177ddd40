"""Names of the proposal cycle's actions, as timeline events and live events (``proposal.changed``).

Every ``ProposalEvent.action`` is an ``Action`` or an ``Outcome`` (``proposals.actions``); the label is what the
timeline shows, and every one of them has a label (``tests/proposals/test_actions.py``).
Live: each event is pushed to the ``proposal.<id>`` topic as
``{"type": "proposal.changed", "data": {"action": ..., "status": ..., "event": <event id>}}``.
"""

from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrPromise

from proposals.actions import Action, Outcome, TimelineAction

ACTION_LABELS: dict[TimelineAction, StrPromise] = {
    Action.CREATE_DRAFT: _("Draft created"),
    Action.UPDATE_DRAFT: _("Draft changed"),
    Action.INVITE_COSIGNER: _("Co-signer invited"),
    Action.COSIGN: _("Co-signed"),
    Outcome.DECLINE_COSIGN: _("Declined to co-sign"),
    Action.DROP_COSIGNER: _("Co-signer dropped"),
    Action.ATTACH: _("File attached"),
    Action.REMOVE_ATTACHMENT: _("File removed"),
    Action.SUBMIT: _("Submitted"),
    Action.REGISTER: _("Registered"),
    Action.DECLINE_REGISTRATION: _("Not registered"),
    Action.MERGE: _("Merged with another proposal"),
    Action.CONVERT_TO_LETTER: _("Turned into a letter"),
    Action.ASSIGN: _("Assigned"),
    Action.WITHDRAW_ASSIGNMENT: _("Assignment withdrawn"),
    Action.ACCEPT_ASSIGNMENT: _("Accepted by the bureau"),
    Action.RETURN_ASSIGNMENT: _("Returned by the bureau"),
    Outcome.AWAITING_REASSIGNMENT: _("Awaiting re-assignment"),
    Outcome.AWAITING_REPLY: _("Back to handling"),
    Action.RECORD_COMMUNICATION: _("Communication with the deputy"),
    Action.SUBMIT_OPINION: _("Co-handler opinion given"),
    Action.REQUEST_EXTENSION: _("Extension requested"),
    Action.DECIDE_EXTENSION: _("Extension decided"),
    Outcome.EXTENSION_APPROVED: _("Deadline extended"),
    Outcome.EXTENSION_REJECTED: _("Extension refused"),
    Action.URGE: _("Urged by the office"),
    Action.DRAFT_REPLY: _("Reply drafted"),
    Action.SUBMIT_REPLY: _("Reply submitted for review"),
    Action.SIGN_OFF_REPLY: _("Reply signed by a co-handler"),
    Action.REVIEW_REPLY: _("Reply reviewed"),
    Outcome.RETURN_REPLY: _("Reply returned for revision"),
    Outcome.SEND_REPLY: _("Reply sent"),
    Action.PUBLISH: _("Published"),
    Action.RATE_REPLY: _("Reply rated"),
    Action.RECORD_PAPER_FEEDBACK: _("Rating entered from a paper form"),
    Action.REVIEW_DISSATISFACTION: _("Unsatisfied rating reviewed"),
    Outcome.DISMISS_DISSATISFACTION: _("Unsatisfied rating reviewed: no re-handling"),
    Outcome.START_REHANDLING: _("Re-handling started"),
    Outcome.START_FOLLOW_UP: _("Follow-up started"),
    Action.SEND_FOLLOW_UP_REPLY: _("Follow-up reply sent"),
    Action.CLOSE: _("Closed"),
    Outcome.RECOMPUTE_DEADLINES: _("Deadlines moved with the calendar"),
}


def action_label(action: str) -> str:
    """The label of a stored timeline entry (``ProposalEvent.action``); an unknown name is shown as it is."""
    return str(ACTION_LABELS.get(action, action))  # type: ignore[call-overload]
