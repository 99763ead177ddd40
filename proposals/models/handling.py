"""Handling a proposal: assignments to bureaus, communication, opinions, extensions, replies, feedback."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from consult.kernel.texts import render
from consult.models import Bureau
from proposals.models.choices import (
    AssignmentRole,
    AssignmentStatus,
    Channel,
    ExtensionStatus,
    OutcomeClass,
    Rating,
    ReplyKind,
    ReplyStatus,
)
from proposals.models.proposal import Proposal

USER = settings.AUTH_USER_MODEL


class Assignment(models.Model):
    """A proposal handed to one bureau (交办), with that bureau's own deadlines."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="assignments")
    bureau = models.ForeignKey(Bureau, on_delete=models.PROTECT, related_name="assignments")
    role = models.CharField(_("role"), max_length=10, choices=AssignmentRole.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=AssignmentStatus.choices, default=AssignmentStatus.PENDING
    )
    round = models.PositiveSmallIntegerField(_("handling round"), default=1)
    assigned_at = models.DateTimeField(_("assigned at"))
    assigned_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    return_by = models.DateField(_("may be returned until"))
    reply_due = models.DateField(_("reply due"), null=True, blank=True)  # lead and separate bureaus
    opinion_due = models.DateField(_("opinion due"), null=True, blank=True)  # co-handling bureaus
    returned_at = models.DateTimeField(_("returned at"), null=True, blank=True)
    return_reason = models.CharField(_("return reason"), max_length=500, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    # What each deadline was counted from ({"return_by": {"start": "2027-03-01", "working_days": 7}, ...}),
    # so an edit of the calendar can count it again (``proposals.services.calendar``).
    due_basis = models.JSONField(_("deadlines counted from"), default=dict, blank=True)

    class Meta:
        app_label = "proposals"
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")
        ordering = ["proposal_id", "role", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["proposal", "bureau"],
                condition=Q(status__in=[AssignmentStatus.PENDING, AssignmentStatus.ACCEPTED]),
                name="one_open_assignment_per_bureau",
            ),
            models.UniqueConstraint(
                fields=["proposal"],
                condition=Q(status__in=[AssignmentStatus.PENDING, AssignmentStatus.ACCEPTED], role=AssignmentRole.LEAD),
                name="one_open_lead_assignment",
            ),
        ]
        indexes = [
            models.Index(fields=["bureau", "status", "reply_due"], name="assignment_queue_idx"),
            models.Index(fields=["status", "reply_due"], name="assignment_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.proposal_id} → {self.bureau} ({self.get_role_display()})"


class Communication(models.Model):
    """A contact between the handling bureau and the deputy (沟通)."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="communications")
    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="communications")
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    occurred_on = models.DateField(_("date"))
    summary = models.TextField(_("summary"))
    consultation_id = models.PositiveBigIntegerField(_("online consultation"), null=True, blank=True)
    recorded_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        app_label = "proposals"
        verbose_name = _("communication record")
        verbose_name_plural = _("communication records")
        ordering = ["occurred_on", "id"]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.occurred_on}"


class CoHandlerOpinion(models.Model):
    """A co-handling bureau's opinion to the lead bureau (会办意见)."""

    assignment = models.OneToOneField(Assignment, on_delete=models.CASCADE, related_name="opinion")
    body = models.TextField(_("opinion"))
    submitted_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField(_("submitted at"), auto_now_add=True)

    class Meta:
        app_label = "proposals"
        verbose_name = _("co-handler opinion")
        verbose_name_plural = _("co-handler opinions")

    def __str__(self) -> str:
        return f"opinion of {self.assignment}"


class ExtensionRequest(models.Model):
    """A bureau asks for more time (延期); the office decides and the deputy is told."""

    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="extension_requests")
    requested_due = models.DateField(_("requested new due date"))
    reason = models.CharField(_("reason"), max_length=500)
    status = models.CharField(
        _("status"), max_length=10, choices=ExtensionStatus.choices, default=ExtensionStatus.PENDING
    )
    requested_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    decided_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+", null=True, blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.CharField(_("decision note"), max_length=500, blank=True)

    class Meta:
        app_label = "proposals"
        verbose_name = _("extension request")
        verbose_name_plural = _("extension requests")
        constraints = [
            models.UniqueConstraint(
                fields=["assignment"],
                condition=Q(status=ExtensionStatus.PENDING),
                name="one_pending_extension_per_assignment",
            )
        ]

    def __str__(self) -> str:
        return f"{self.assignment} → {self.requested_due}"


class Reply(models.Model):
    """A bureau's reply (答复) to the proposer(s); one per replying assignment and round."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="replies")
    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="replies")
    kind = models.CharField(_("kind"), max_length=12, choices=ReplyKind.choices, default=ReplyKind.ANSWER)
    round = models.PositiveSmallIntegerField(_("handling round"), default=1)
    outcome_class = models.CharField(_("outcome class"), max_length=1, choices=OutcomeClass.choices)
    drafted_class = models.CharField(_("class proposed by the bureau"), max_length=1, choices=OutcomeClass.choices)
    body = models.TextField(_("reply"))
    contact_person = models.CharField(_("contact person"), max_length=32)
    contact_phone = models.CharField(_("contact phone"), max_length=32)
    status = models.CharField(_("status"), max_length=10, choices=ReplyStatus.choices, default=ReplyStatus.DRAFT)
    drafted_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    reviewed_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+", null=True, blank=True)
    review_note = models.CharField(_("review note"), max_length=500, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    public_body = models.TextField(_("published text"), blank=True)
    # 公开: due within ``publication_working_days`` of sending, when the proposer agreed to publication.
    publication_due = models.DateField(_("publication due"), null=True, blank=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    due_basis = models.JSONField(_("deadlines counted from"), default=dict, blank=True)

    class Meta:
        app_label = "proposals"
        verbose_name = _("reply")
        verbose_name_plural = _("replies")
        ordering = ["round", "id"]
        constraints = [
            models.UniqueConstraint(fields=["assignment", "round", "kind"], name="one_reply_per_assignment_round")
        ]
        indexes = [  # the office's 待公开 / 公开逾期 lists and the publication sweep
            models.Index(
                fields=["publication_due"], condition=Q(published_at__isnull=True), name="reply_publication_due_idx"
            )
        ]

    def __str__(self) -> str:
        return f"reply {self.outcome_class} to {self.proposal_id} (round {self.round})"


class ReplySignoff(models.Model):
    """A co-handling bureau signs the lead's reply (会签)."""

    reply = models.ForeignKey(Reply, on_delete=models.CASCADE, related_name="signoffs")
    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="signoffs")
    signed_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    signed_at = models.DateTimeField(_("signed at"), auto_now_add=True)
    comment = models.CharField(_("comment"), max_length=500, blank=True)

    class Meta:
        app_label = "proposals"
        verbose_name = _("sign-off")
        verbose_name_plural = _("sign-offs")
        constraints = [models.UniqueConstraint(fields=["reply", "assignment"], name="signoff_once")]

    def __str__(self) -> str:
        return f"sign-off of {self.reply_id} by {self.assignment}"


class Feedback(models.Model):
    """A proposer's or co-signer's rating of a reply (反馈/满意度测评)."""

    reply = models.ForeignKey(Reply, on_delete=models.CASCADE, related_name="feedback")
    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="feedback")
    rater = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    contact = models.CharField(_("contact"), max_length=12, choices=Rating.choices)
    attitude = models.CharField(_("attitude"), max_length=12, choices=Rating.choices)
    result = models.CharField(_("result"), max_length=12, choices=Rating.choices)
    comment = models.TextField(_("comment"), blank=True)
    on_paper = models.BooleanField(_("entered from a paper form"), default=False)
    entered_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        app_label = "proposals"
        verbose_name = _("feedback")
        verbose_name_plural = _("feedback")
        ordering = ["reply__round", "created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["reply", "rater"], name="feedback_once_per_reply")]

    def __str__(self) -> str:
        return f"{self.rater_id}: {self.result}"


class ProposalEvent(models.Model):
    """One line of a proposal's timeline and audit trail. Append-only."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    at = models.DateTimeField(_("at"), auto_now_add=True)
    action = models.CharField(_("action"), max_length=40)
    from_status = models.CharField(_("from"), max_length=16, blank=True)
    to_status = models.CharField(_("to"), max_length=16, blank=True)
    reason = models.TextField(_("reason or note"), blank=True)
    # What the platform composed (consult.kernel.texts): shown in the reader's language; ``reason`` keeps the
    # wording in the site's language (search, the audit trail, and events written before codes existed).
    code = models.CharField(_("text code"), max_length=60, blank=True)
    params = models.JSONField(_("text parameters"), default=dict, blank=True)
    audience = models.CharField(_("audience"), max_length=8, default="public")
    bureau = models.ForeignKey(Bureau, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        app_label = "proposals"
        verbose_name = _("proposal event")
        verbose_name_plural = _("proposal events")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["proposal", "at"], name="event_timeline_idx")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action}"

    @property
    def detail(self) -> str:
        """The reason or note as the reader sees it: a composed detail in the active language, else as written."""
        return render(self.code, self.params, fallback=self.reason) if self.code else self.reason

    @property
    def action_label(self) -> str:
        from proposals.events import action_label

        return action_label(self.action)


class DeadlineReminder(models.Model):
    """A deadline reminder already sent, so the sweep never sends the same one twice."""

    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="reminders")
    level = models.CharField(_("level"), max_length=10)  # handler / lead / staff
    due = models.DateField(_("due date reminded of"))
    sent_at = models.DateTimeField(_("sent at"), auto_now_add=True)

    class Meta:
        app_label = "proposals"
        verbose_name = _("deadline reminder")
        verbose_name_plural = _("deadline reminders")
        constraints = [models.UniqueConstraint(fields=["assignment", "level", "due"], name="reminder_once")]

    def __str__(self) -> str:
        return f"{self.assignment} {self.level} {self.due}"


class PublicationReminder(models.Model):
    """A publication reminder (公开提醒) already sent to the office, so the sweep never sends it twice."""

    reply = models.ForeignKey(Reply, on_delete=models.CASCADE, related_name="publication_reminders")
    level = models.CharField(_("level"), max_length=10)  # soon / overdue
    due = models.DateField(_("due date reminded of"))
    sent_at = models.DateTimeField(_("sent at"), auto_now_add=True)

    class Meta:
        app_label = "proposals"
        verbose_name = _("publication reminder")
        verbose_name_plural = _("publication reminders")
        constraints = [models.UniqueConstraint(fields=["reply", "level", "due"], name="publication_reminder_once")]

    def __str__(self) -> str:
        return f"{self.reply_id} {self.level} {self.due}"
