"""The words of the proposal cycle: kinds, states, roles, classes and ratings."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ProposalKind(models.TextChoices):
    SUGGESTION = "suggestion", _("Suggestion")  # 建议 (people's congress deputies)
    PROPOSAL = "proposal", _("Proposal")  # 提案 (CPPCC members)


class Status(models.TextChoices):
    DRAFT = "draft", _("Draft")  # 暂存
    SUBMITTED = "submitted", _("Submitted")  # 已提交
    REGISTERED = "registered", _("Registered")  # 已立案，待交办
    NOT_REGISTERED = "not_registered", _("Not registered")  # 不予立案
    MERGED = "merged", _("Merged")  # 已并案
    LETTER = "letter", _("Turned into a letter")  # 转为来信
    ASSIGNED = "assigned", _("Assigned")  # 已交办，待签收
    HANDLING = "handling", _("Handling")  # 办理中
    REPLY_REVIEW = "reply_review", _("Reply under review")  # 答复审核中
    REPLIED = "replied", _("Replied")  # 已答复，待反馈
    REHANDLING = "rehandling", _("Re-handling")  # 重新办理
    FOLLOW_UP = "follow_up", _("Follow-up")  # 跟踪办理
    CLOSED = "closed", _("Closed")  # 办结


# States in which bureaus are working on the proposal.
IN_HANDS_OF_BUREAUS = frozenset({Status.ASSIGNED, Status.HANDLING, Status.REPLY_REVIEW, Status.REHANDLING})
FINAL_STATES = frozenset({Status.NOT_REGISTERED, Status.MERGED, Status.LETTER, Status.CLOSED})


class AssignmentRole(models.TextChoices):
    LEAD = "lead", _("Lead bureau")  # 主办
    CO = "co", _("Co-handling bureau")  # 会办 / 协办
    SEPARATE = "separate", _("Separate handling")  # 分办: each replies on its own


REPLYING_ROLES = frozenset({AssignmentRole.LEAD, AssignmentRole.SEPARATE})


class AssignmentStatus(models.TextChoices):
    PENDING = "pending", _("Awaiting acceptance")  # 待签收
    ACCEPTED = "accepted", _("Accepted")  # 已签收
    RETURNED = "returned", _("Returned")  # 已退回
    WITHDRAWN = "withdrawn", _("Withdrawn by the office")  # 撤回（改交办）
    DONE = "done", _("Done")  # 已完成


OPEN_ASSIGNMENT = frozenset({AssignmentStatus.PENDING, AssignmentStatus.ACCEPTED})


class CoSignerStatus(models.TextChoices):
    INVITED = "invited", _("Invited")
    SIGNED = "signed", _("Signed")
    DECLINED = "declined", _("Declined")
    DROPPED = "dropped", _("Dropped")


class OutcomeClass(models.TextChoices):
    A = "A", _("A: solved or mostly solved")  # 已解决或基本解决
    B = "B", _("B: being solved or planned")  # 正在解决或列入计划
    C = "C", _("C: to be solved later")  # 因条件限制以后解决
    D = "D", _("D: kept for reference")  # 留作参考


FOLLOW_UP_CLASSES = frozenset({OutcomeClass.B, OutcomeClass.C})


class ReplyKind(models.TextChoices):
    ANSWER = "answer", _("Reply")  # 答复
    REHANDLING = "rehandling", _("Reply after re-handling")  # 重新办理答复
    FOLLOW_UP = "follow_up", _("Follow-up reply")  # 跟踪办理答复


class ReplyStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SIGNOFF = "signoff", _("Awaiting co-handler sign-off")  # 会签中
    REVIEW = "review", _("Under office review")  # 督办审核
    SENT = "sent", _("Sent")


class Rating(models.TextChoices):
    SATISFIED = "satisfied", _("Satisfied")  # 满意
    BASICALLY = "basically", _("Basically satisfied")  # 基本满意
    UNSATISFIED = "unsatisfied", _("Unsatisfied")  # 不满意


class Channel(models.TextChoices):
    PHONE = "phone", _("Phone")  # 电话
    VISIT = "visit", _("Visit")  # 走访
    MEETING = "meeting", _("Meeting")  # 座谈
    ONLINE = "online", _("Online consultation")  # 在线咨询
    LETTER = "letter", _("Letter")  # 书面


class ExtensionStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class Audience(models.TextChoices):
    """Who sees a timeline event."""

    PUBLIC = "public", _("Everyone who can see the proposal")
    BUREAU = "bureau", _("That bureau and the office")  # a bureau's internal note
    OFFICE = "office", _("The office only")
