"""The one table of the proposal cycle: which actions may start from which states.

Services check it before every change (``proposals.services._common.require_state``); pages and the
API read it (``proposals.selectors.action_allowed``) to offer only what the services would accept.
Where an action moves the proposal, its service says where to.
"""

from __future__ import annotations

from django.utils.translation import pgettext_lazy

from proposals.models.choices import Status

S = Status
# action -> the states it may start from.
ALLOWED_FROM: dict[str, frozenset[Status]] = {
    "edit_draft": frozenset({S.DRAFT}),
    "invite_cosigner": frozenset({S.DRAFT}),
    "respond_cosign": frozenset({S.DRAFT}),
    "drop_cosigner": frozenset({S.DRAFT}),
    "attach": frozenset({S.DRAFT}),
    "submit": frozenset({S.DRAFT}),
    "register": frozenset({S.SUBMITTED}),
    "decline_registration": frozenset({S.SUBMITTED}),
    "merge": frozenset({S.SUBMITTED, S.REGISTERED}),
    "convert_to_letter": frozenset({S.SUBMITTED, S.REGISTERED}),
    "assign": frozenset({S.REGISTERED, S.ASSIGNED, S.HANDLING, S.REHANDLING}),
    # REPLY_REVIEW too: under 分办 one bureau's reply may be in review while another still works.
    "accept_assignment": frozenset({S.ASSIGNED, S.HANDLING, S.REPLY_REVIEW, S.REHANDLING}),
    "return_assignment": frozenset({S.ASSIGNED, S.HANDLING, S.REPLY_REVIEW}),
    "record_communication": frozenset({S.ASSIGNED, S.HANDLING, S.REPLY_REVIEW, S.REHANDLING, S.FOLLOW_UP}),
    "submit_opinion": frozenset({S.ASSIGNED, S.HANDLING, S.REPLY_REVIEW, S.REHANDLING}),
    "request_extension": frozenset({S.ASSIGNED, S.HANDLING, S.REPLY_REVIEW, S.REHANDLING}),
    "decide_extension": frozenset({S.ASSIGNED, S.HANDLING, S.REPLY_REVIEW, S.REHANDLING}),
    "withdraw_assignment": frozenset({S.ASSIGNED, S.HANDLING, S.REPLY_REVIEW, S.REHANDLING}),
    "draft_reply": frozenset({S.HANDLING, S.REHANDLING, S.REPLY_REVIEW}),
    "submit_reply": frozenset({S.HANDLING, S.REHANDLING, S.REPLY_REVIEW}),
    "sign_off_reply": frozenset({S.REPLY_REVIEW}),
    "review_reply": frozenset({S.REPLY_REVIEW}),
    "publish": frozenset({S.REPLIED, S.FOLLOW_UP, S.CLOSED}),
    "rate_reply": frozenset({S.REPLIED, S.FOLLOW_UP, S.CLOSED}),
    "review_dissatisfaction": frozenset({S.REPLIED, S.FOLLOW_UP, S.CLOSED}),
    "send_follow_up_reply": frozenset({S.FOLLOW_UP}),
    "close": frozenset({S.REPLIED, S.FOLLOW_UP}),
}

# What each action is called when it is refused ("…is not possible while…").
ACTION_VERBS = {
    "edit_draft": pgettext_lazy("refused action", "edit the draft"),
    "invite_cosigner": pgettext_lazy("refused action", "invite a co-signer"),
    "respond_cosign": pgettext_lazy("refused action", "answer the co-signing invitation"),
    "drop_cosigner": pgettext_lazy("refused action", "drop a co-signer"),
    "attach": pgettext_lazy("refused action", "change attachments"),
    "submit": pgettext_lazy("refused action", "submit"),
    "register": pgettext_lazy("refused action", "register"),
    "decline_registration": pgettext_lazy("refused action", "decline registration"),
    "merge": pgettext_lazy("refused action", "merge"),
    "convert_to_letter": pgettext_lazy("refused action", "turn into a letter"),
    "assign": pgettext_lazy("refused action", "assign"),
    "withdraw_assignment": pgettext_lazy("refused action", "withdraw the assignment"),
    "accept_assignment": pgettext_lazy("refused action", "accept the assignment"),
    "return_assignment": pgettext_lazy("refused action", "return the assignment"),
    "record_communication": pgettext_lazy("refused action", "record a communication"),
    "submit_opinion": pgettext_lazy("refused action", "give the co-handler opinion"),
    "request_extension": pgettext_lazy("refused action", "request an extension"),
    "decide_extension": pgettext_lazy("refused action", "decide on the extension"),
    "draft_reply": pgettext_lazy("refused action", "draft the reply"),
    "submit_reply": pgettext_lazy("refused action", "submit the reply"),
    "sign_off_reply": pgettext_lazy("refused action", "sign off the reply"),
    "review_reply": pgettext_lazy("refused action", "review the reply"),
    "publish": pgettext_lazy("refused action", "publish"),
    "rate_reply": pgettext_lazy("refused action", "rate the reply"),
    "review_dissatisfaction": pgettext_lazy("refused action", "review the unsatisfied rating"),
    "send_follow_up_reply": pgettext_lazy("refused action", "send the follow-up reply"),
    "close": pgettext_lazy("refused action", "close"),
}


def action_verb(action: str) -> str:
    return str(ACTION_VERBS.get(action, action))
