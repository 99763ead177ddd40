"""Every write of the proposal cycle, one function per domain verb (docs/style.md).

提出  create_draft, update_draft, invite_cosigner, respond_to_cosign, drop_cosigner, attach_file,
      remove_attachment, submit_proposal
立案  register_proposal, decline_registration, merge_proposal, convert_to_letter
交办  assign_proposal, withdraw_assignment, accept_assignment, return_assignment
办理  record_communication, submit_opinion, request_extension, decide_extension
答复  draft_reply, submit_reply, sign_off_reply, review_reply, publish_reply
反馈  rate_reply, record_paper_feedback, review_dissatisfaction, send_follow_up_reply, close_proposal
督办  sweep_deadlines
"""

from proposals.services.assignment import accept_assignment, assign_proposal, return_assignment, withdraw_assignment
from proposals.services.deadlines import sweep_deadlines
from proposals.services.feedback import (
    close_proposal,
    rate_reply,
    record_paper_feedback,
    review_dissatisfaction,
    send_follow_up_reply,
)
from proposals.services.handling import decide_extension, record_communication, request_extension, submit_opinion
from proposals.services.registration import (
    convert_to_letter,
    decline_registration,
    merge_proposal,
    register_proposal,
)
from proposals.services.reply import draft_reply, publish_reply, review_reply, sign_off_reply, submit_reply
from proposals.services.submission import (
    DraftContent,
    attach_file,
    create_draft,
    drop_cosigner,
    invite_cosigner,
    remove_attachment,
    respond_to_cosign,
    submit_proposal,
    update_draft,
)

__all__ = [
    "DraftContent",
    "accept_assignment",
    "assign_proposal",
    "attach_file",
    "close_proposal",
    "convert_to_letter",
    "create_draft",
    "decide_extension",
    "decline_registration",
    "draft_reply",
    "drop_cosigner",
    "invite_cosigner",
    "merge_proposal",
    "publish_reply",
    "rate_reply",
    "record_communication",
    "record_paper_feedback",
    "register_proposal",
    "remove_attachment",
    "request_extension",
    "respond_to_cosign",
    "return_assignment",
    "review_dissatisfaction",
    "review_reply",
    "send_follow_up_reply",
    "sign_off_reply",
    "submit_opinion",
    "submit_proposal",
    "submit_reply",
    "sweep_deadlines",
    "update_draft",
    "withdraw_assignment",
]
