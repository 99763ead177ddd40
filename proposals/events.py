"""Names of the proposal cycle's actions, as timeline events and live events (``proposal.changed``).

Every ``ProposalEvent.action`` is one of these keys; the label is what the timeline shows.
Live: each event is pushed to the ``proposal.<id>`` topic as
``{"type": "proposal.changed", "data": {"action": ..., "status": ..., "event": <event id>}}``.
"""

from django.utils.translation import gettext_lazy as _

ACTION_LABELS = {
    "create_draft": _("Draft created"),
    "invite_cosigner": _("Co-signer invited"),
    "cosign": _("Co-signed"),
    "decline_cosign": _("Declined to co-sign"),
    "drop_cosigner": _("Co-signer dropped"),
    "submit": _("Submitted"),
    "register": _("Registered"),
    "decline_registration": _("Not registered"),
    "merge": _("Merged with another proposal"),
    "convert_to_letter": _("Turned into a letter"),
    "assign": _("Assigned"),
    "withdraw_assignment": _("Assignment withdrawn"),
    "accept_assignment": _("Accepted by the bureau"),
    "return_assignment": _("Returned by the bureau"),
    "awaiting_reassignment": _("Awaiting re-assignment"),
    "awaiting_reply": _("Back to handling"),
    "record_communication": _("Communication with the deputy"),
    "submit_opinion": _("Co-handler opinion given"),
    "request_extension": _("Extension requested"),
    "extension_approved": _("Deadline extended"),
    "extension_rejected": _("Extension refused"),
    "submit_reply": _("Reply submitted for review"),
    "sign_off_reply": _("Reply signed by a co-handler"),
    "return_reply": _("Reply returned for revision"),
    "send_reply": _("Reply sent"),
    "publish": _("Published"),
    "rate_reply": _("Reply rated"),
    "dismiss_dissatisfaction": _("Unsatisfied rating reviewed: no re-handling"),
    "start_rehandling": _("Re-handling started"),
    "start_follow_up": _("Follow-up started"),
    "send_follow_up_reply": _("Follow-up reply sent"),
    "close": _("Closed"),
    "recompute_deadlines": _("Deadlines moved with the calendar"),
}


def action_label(action: str) -> str:
    return str(ACTION_LABELS.get(action, action))
