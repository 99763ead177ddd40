"""One name per action of the proposal cycle.

Each ``Action`` is one thing a person does to a proposal, and its value is the one name it has everywhere: the
service function (``proposals.services.<value>``), the transition table (``proposals.transitions.ALLOWED_FROM``),
the timeline entry it writes (``ProposalEvent.action``), its label, the page's form and URL
(``/proposals/<id>/act/<value>/``, ``frontend/views_proposals/registry.py``) and the API
(``POST /api/proposals/<id>/<value with dashes>/``). An ``Outcome`` is a timeline entry that is not an action's own
name: which way an answer went, or a step the platform took by itself; each says which action (if any) caused it.
"""

from __future__ import annotations

from enum import StrEnum


class Action(StrEnum):
    # 提出
    CREATE_DRAFT = "create_draft"
    UPDATE_DRAFT = "update_draft"
    INVITE_COSIGNER = "invite_cosigner"
    COSIGN = "cosign"  # the invited deputy answers: signs (or declines, Outcome.DECLINE_COSIGN)
    DROP_COSIGNER = "drop_cosigner"
    ATTACH = "attach"
    REMOVE_ATTACHMENT = "remove_attachment"
    SUBMIT = "submit"
    # 立案
    REGISTER = "register"
    DECLINE_REGISTRATION = "decline_registration"
    MERGE = "merge"
    CONVERT_TO_LETTER = "convert_to_letter"
    # 交办
    ASSIGN = "assign"
    WITHDRAW_ASSIGNMENT = "withdraw_assignment"
    ACCEPT_ASSIGNMENT = "accept_assignment"
    RETURN_ASSIGNMENT = "return_assignment"
    # 办理
    RECORD_COMMUNICATION = "record_communication"
    SUBMIT_OPINION = "submit_opinion"
    REQUEST_EXTENSION = "request_extension"
    DECIDE_EXTENSION = "decide_extension"
    URGE = "urge"  # 催办: the office reminds a bureau of an open assignment
    # 答复
    DRAFT_REPLY = "draft_reply"
    SUBMIT_REPLY = "submit_reply"
    SIGN_OFF_REPLY = "sign_off_reply"
    REVIEW_REPLY = "review_reply"
    PUBLISH = "publish"
    # 反馈
    RATE_REPLY = "rate_reply"
    RECORD_PAPER_FEEDBACK = "record_paper_feedback"
    REVIEW_DISSATISFACTION = "review_dissatisfaction"
    SEND_FOLLOW_UP_REPLY = "send_follow_up_reply"
    CLOSE = "close"

    @property
    def api_path(self) -> str:
        """The API's URL segment: ``POST /api/proposals/<id>/<api_path>/``."""
        return self.value.replace("_", "-")


class Outcome(StrEnum):
    DECLINE_COSIGN = "decline_cosign"
    EXTENSION_APPROVED = "extension_approved"
    EXTENSION_REJECTED = "extension_rejected"
    RETURN_REPLY = "return_reply"
    SEND_REPLY = "send_reply"
    DISMISS_DISSATISFACTION = "dismiss_dissatisfaction"
    START_REHANDLING = "start_rehandling"
    AWAITING_REASSIGNMENT = "awaiting_reassignment"
    AWAITING_REPLY = "awaiting_reply"
    START_FOLLOW_UP = "start_follow_up"
    RECOMPUTE_DEADLINES = "recompute_deadlines"


CAUSED_BY: dict[Outcome, Action | None] = {
    Outcome.DECLINE_COSIGN: Action.COSIGN,
    Outcome.EXTENSION_APPROVED: Action.DECIDE_EXTENSION,
    Outcome.EXTENSION_REJECTED: Action.DECIDE_EXTENSION,
    Outcome.RETURN_REPLY: Action.REVIEW_REPLY,
    Outcome.SEND_REPLY: Action.REVIEW_REPLY,
    Outcome.DISMISS_DISSATISFACTION: Action.REVIEW_DISSATISFACTION,
    Outcome.START_REHANDLING: Action.REVIEW_DISSATISFACTION,
    Outcome.AWAITING_REASSIGNMENT: None,  # every bureau returned or was withdrawn
    Outcome.AWAITING_REPLY: None,  # the last open assignment left: back to handling
    Outcome.START_FOLLOW_UP: None,  # everyone rated a B/C reply
    Outcome.RECOMPUTE_DEADLINES: None,  # an admin changed the calendar
}

TimelineAction = Action | Outcome
