"""Every write of the proposal cycle, one function per domain verb (docs/style.md).

提出  create_draft, update_draft, invite_cosigner, cosign, drop_cosigner, attach,
      remove_attachment, submit
立案  register, decline_registration, merge, convert_to_letter
交办  assign, withdraw_assignment, accept_assignment, return_assignment
办理  record_communication, submit_opinion, request_extension, decide_extension
答复  draft_reply, submit_reply, sign_off_reply, review_reply, publish
反馈  rate_reply, record_paper_feedback, review_dissatisfaction, send_follow_up_reply, close
督办  urge, sweep_deadlines
"""

from proposals.services.assignment import accept_assignment, assign, return_assignment, withdraw_assignment
from proposals.services.deadlines import sweep_deadlines
from proposals.services.feedback import (
    close,
    rate_reply,
    record_paper_feedback,
    review_dissatisfaction,
    send_follow_up_reply,
)
from proposals.services.handling import decide_extension, record_communication, request_extension, submit_opinion
from proposals.services.registration import (
    convert_to_letter,
    decline_registration,
    merge,
    register,
)
from proposals.services.reply import draft_reply, publish, review_reply, sign_off_reply, submit_reply
from proposals.services.submission import (
    DraftContent,
    attach,
    cosign,
    create_draft,
    drop_cosigner,
    invite_cosigner,
    remove_attachment,
    submit,
    update_draft,
)
from proposals.services.supervision import UrgedRecently, urge

__all__ = [
    "DraftContent",
    "UrgedRecently",
    "accept_assignment",
    "assign",
    "attach",
    "close",
    "convert_to_letter",
    "cosign",
    "create_draft",
    "decide_extension",
    "decline_registration",
    "draft_reply",
    "drop_cosigner",
    "invite_cosigner",
    "merge",
    "publish",
    "rate_reply",
    "record_communication",
    "record_paper_feedback",
    "register",
    "remove_attachment",
    "request_extension",
    "return_assignment",
    "review_dissatisfaction",
    "review_reply",
    "send_follow_up_reply",
    "sign_off_reply",
    "submit",
    "submit_opinion",
    "submit_reply",
    "sweep_deadlines",
    "update_draft",
    "urge",
    "withdraw_assignment",
]
