"""The one table of the proposal cycle: which actions (``proposals.actions.Action``) may start from which states.

Services check it before every change (``proposals.services._common.require_state``); pages and the
API read it (``proposals.selectors.action_allowed``) to offer only what the services would accept.
Where an action moves the proposal, its service says where to.
"""

from __future__ import annotations

from django.utils.translation import pgettext_lazy

from proposals.actions import Action
from proposals.models.choices import Status

S = Status
# action -> the states it may start from.
ALLOWED_FROM: dict[Action, frozenset[Status]] = {
    Action.UPDATE_DRAFT: frozenset({S.DRAFT}),
    Action.INVITE_COSIGNER: frozenset({S.DRAFT}),
    Action.COSIGN: frozenset({S.DRAFT}),
    Action.DROP_COSIGNER: frozenset({S.DRAFT}),
    Action.ATTACH: frozenset({S.DRAFT}),
    Action.REMOVE_ATTACHMENT: frozenset({S.DRAFT}),
    Action.SUBMIT: frozenset({S.DRAFT}),
    Action.REGISTER: frozenset({S.SUBMITTED}),
    Action.DECLINE_REGISTRATION: frozenset({S.SUBMITTED}),
    Action.MERGE: frozenset({S.SUBMITTED, S.REGISTERED}),
    Action.CONVERT_TO_LETTER: frozenset({S.SUBMITTED, S.REGISTERED}),
    Action.ASSIGN: frozenset({S.REGISTERED, S.ASSIGNED, S.HANDLING, S.REHANDLING}),
    # REPLY_REVIEW too: under 分办 one bureau's reply may be in review while another still works.
    Action.ACCEPT_ASSIGNMENT: frozenset({S.ASSIGNED, S.HANDLING, S.REPLY_REVIEW, S.REHANDLING}),
    Action.RETURN_ASSIGNMENT: frozenset({S.ASSIGNED, S.HANDLING, S.REPLY_REVIEW}),
    Action.RECORD_COMMUNICATION: frozenset({S.ASSIGNED, S.HANDLING, S.REPLY_REVIEW, S.REHANDLING, S.FOLLOW_UP}),
    Action.SUBMIT_OPINION: frozenset({S.ASSIGNED, S.HANDLING, S.REPLY_REVIEW, S.REHANDLING}),
    Action.REQUEST_EXTENSION: frozenset({S.ASSIGNED, S.HANDLING, S.REPLY_REVIEW, S.REHANDLING}),
    Action.DECIDE_EXTENSION: frozenset({S.ASSIGNED, S.HANDLING, S.REPLY_REVIEW, S.REHANDLING}),
    Action.WITHDRAW_ASSIGNMENT: frozenset({S.ASSIGNED, S.HANDLING, S.REPLY_REVIEW, S.REHANDLING}),
    Action.URGE: frozenset({S.ASSIGNED, S.HANDLING, S.REPLY_REVIEW, S.REHANDLING}),
    Action.DRAFT_REPLY: frozenset({S.HANDLING, S.REHANDLING, S.REPLY_REVIEW}),
    Action.SUBMIT_REPLY: frozenset({S.HANDLING, S.REHANDLING, S.REPLY_REVIEW}),
    Action.SIGN_OFF_REPLY: frozenset({S.REPLY_REVIEW}),
    Action.REVIEW_REPLY: frozenset({S.REPLY_REVIEW}),
    Action.PUBLISH: frozenset({S.REPLIED, S.FOLLOW_UP, S.CLOSED}),
    Action.RATE_REPLY: frozenset({S.REPLIED, S.FOLLOW_UP, S.CLOSED}),
    Action.RECORD_PAPER_FEEDBACK: frozenset({S.REPLIED, S.FOLLOW_UP, S.CLOSED}),
    Action.REVIEW_DISSATISFACTION: frozenset({S.REPLIED, S.FOLLOW_UP, S.CLOSED}),
    Action.SEND_FOLLOW_UP_REPLY: frozenset({S.FOLLOW_UP}),
    Action.CLOSE: frozenset({S.REPLIED, S.FOLLOW_UP}),
}

# What each action is called when it is refused ("…is not possible while…").
ACTION_VERBS = {
    Action.UPDATE_DRAFT: pgettext_lazy("refused action", "edit the draft"),
    Action.INVITE_COSIGNER: pgettext_lazy("refused action", "invite a co-signer"),
    Action.COSIGN: pgettext_lazy("refused action", "answer the co-signing invitation"),
    Action.DROP_COSIGNER: pgettext_lazy("refused action", "drop a co-signer"),
    Action.ATTACH: pgettext_lazy("refused action", "change attachments"),
    Action.REMOVE_ATTACHMENT: pgettext_lazy("refused action", "change attachments"),
    Action.SUBMIT: pgettext_lazy("refused action", "submit"),
    Action.REGISTER: pgettext_lazy("refused action", "register"),
    Action.DECLINE_REGISTRATION: pgettext_lazy("refused action", "decline registration"),
    Action.MERGE: pgettext_lazy("refused action", "merge"),
    Action.CONVERT_TO_LETTER: pgettext_lazy("refused action", "turn into a letter"),
    Action.ASSIGN: pgettext_lazy("refused action", "assign"),
    Action.WITHDRAW_ASSIGNMENT: pgettext_lazy("refused action", "withdraw the assignment"),
    Action.ACCEPT_ASSIGNMENT: pgettext_lazy("refused action", "accept the assignment"),
    Action.RETURN_ASSIGNMENT: pgettext_lazy("refused action", "return the assignment"),
    Action.RECORD_COMMUNICATION: pgettext_lazy("refused action", "record a communication"),
    Action.SUBMIT_OPINION: pgettext_lazy("refused action", "give the co-handler opinion"),
    Action.REQUEST_EXTENSION: pgettext_lazy("refused action", "request an extension"),
    Action.DECIDE_EXTENSION: pgettext_lazy("refused action", "decide on the extension"),
    Action.URGE: pgettext_lazy("refused action", "urge the bureau"),
    Action.DRAFT_REPLY: pgettext_lazy("refused action", "draft the reply"),
    Action.SUBMIT_REPLY: pgettext_lazy("refused action", "submit the reply"),
    Action.SIGN_OFF_REPLY: pgettext_lazy("refused action", "sign off the reply"),
    Action.REVIEW_REPLY: pgettext_lazy("refused action", "review the reply"),
    Action.PUBLISH: pgettext_lazy("refused action", "publish"),
    Action.RATE_REPLY: pgettext_lazy("refused action", "rate the reply"),
    Action.RECORD_PAPER_FEEDBACK: pgettext_lazy("refused action", "rate the reply"),
    Action.REVIEW_DISSATISFACTION: pgettext_lazy("refused action", "review the unsatisfied rating"),
    Action.SEND_FOLLOW_UP_REPLY: pgettext_lazy("refused action", "send the follow-up reply"),
    Action.CLOSE: pgettext_lazy("refused action", "close"),
}


def action_verb(action: Action) -> str:
    return str(ACTION_VERBS[action])
