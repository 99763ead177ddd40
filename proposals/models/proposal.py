"""Proposals (建议/提案), their sessions, co-signers and attachments."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from consult.models import Bureau
from consult.people.roles import Chamber
from proposals.models.choices import CoSignerStatus, OutcomeClass, ProposalKind, Status
from proposals.querysets import ProposalQuerySet


class ProposalSession(models.Model):
    """A session of the congress or CPPCC (e.g. 海滨市第十六届人大第三次会议): proposals are numbered in it."""

    chamber = models.CharField(_("chamber"), max_length=8, choices=Chamber.choices)
    year = models.PositiveSmallIntegerField(_("year"))
    name = models.CharField(_("name"), max_length=100)
    number_prefix = models.CharField(_("number prefix"), max_length=8)  # e.g. 建 / 提
    is_open = models.BooleanField(_("accepting proposals"), default=False)
    next_number = models.PositiveIntegerField(_("next number"), default=1)

    class Meta:
        app_label = "proposals"
        verbose_name = _("session")
        verbose_name_plural = _("sessions")
        ordering = ["-year", "chamber"]
        constraints = [models.UniqueConstraint(fields=["chamber", "year"], name="one_session_per_chamber_year")]

    def __str__(self) -> str:
        return self.name


class Proposal(models.Model):
    session = models.ForeignKey(ProposalSession, on_delete=models.PROTECT, related_name="proposals")
    kind = models.CharField(_("kind"), max_length=12, choices=ProposalKind.choices)
    number = models.PositiveIntegerField(_("number"), null=True, blank=True)  # 编号, given at registration
    title = models.CharField(_("title"), max_length=120)  # 案由
    body = models.TextField(_("body"))
    category = models.CharField(_("category"), max_length=32)
    proposer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="proposals", verbose_name=_("proposer")
    )
    wished_lead_bureau = models.ForeignKey(
        Bureau, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("wished lead bureau")
    )
    wished_co_bureaus = models.ManyToManyField(
        Bureau, blank=True, related_name="+", verbose_name=_("wished co-handling bureaus")
    )
    publication_consent = models.BooleanField(_("agrees to publication"), default=True)  # 是否同意公开
    publication_refusal_reason = models.CharField(_("reason for not publishing"), max_length=200, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.DRAFT)
    merged_into = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="merged", verbose_name=_("merged into")
    )
    outcome_class = models.CharField(_("outcome class"), max_length=1, choices=OutcomeClass.choices, blank=True)
    # Denormalised for filtering: the earliest reply deadline among open assignments of the current round.
    reply_due = models.DateField(_("reply due"), null=True, blank=True)
    rehandling_round = models.PositiveSmallIntegerField(_("handling round"), default=1)
    dissatisfaction_pending = models.BooleanField(_("unsatisfied rating awaiting office review"), default=False)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    registered_at = models.DateTimeField(_("registered at"), null=True, blank=True)
    assigned_at = models.DateTimeField(_("assigned at"), null=True, blank=True)
    first_replied_at = models.DateTimeField(_("first replied at"), null=True, blank=True)
    replied_on_time = models.BooleanField(_("replied on time"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ProposalQuerySet.as_manager()

    class Meta:
        app_label = "proposals"
        verbose_name = _("proposal")
        verbose_name_plural = _("proposals")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "number"], condition=Q(number__isnull=False), name="proposal_number_unique"
            ),
            models.CheckConstraint(
                condition=Q(publication_consent=True) | ~Q(publication_refusal_reason=""),
                name="publication_refusal_has_reason",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "reply_due"], name="proposal_status_due_idx"),
            models.Index(fields=["session", "status"], name="proposal_session_status_idx"),
            models.Index(fields=["proposer", "status"], name="proposal_proposer_idx"),
            models.Index(fields=["category"], name="proposal_category_idx"),
            models.Index(fields=["-created_at", "-id"], name="proposal_newest_idx"),  # the default order
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title}" if self.number else self.title

    @property
    def category_label(self) -> str:
        """The category in the reader's language (the stored value is its code)."""
        from proposals.categories import category_label

        return category_label(self.category)

    @property
    def code(self) -> str:
        """The number as printed: 2027-建-0012."""
        if self.number is None:
            return ""
        return f"{self.session.year}-{self.session.number_prefix}-{self.number:04d}"


class CoSigner(models.Model):
    """A deputy invited to co-sign (联名/附议) a proposal."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="cosigners")
    deputy = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="cosignatures")
    status = models.CharField(
        _("status"), max_length=10, choices=CoSignerStatus.choices, default=CoSignerStatus.INVITED
    )
    sign_by = models.DateTimeField(_("sign before"))
    invited_at = models.DateTimeField(_("invited at"), auto_now_add=True)
    responded_at = models.DateTimeField(_("responded at"), null=True, blank=True)

    class Meta:
        app_label = "proposals"
        verbose_name = _("co-signer")
        verbose_name_plural = _("co-signers")
        constraints = [models.UniqueConstraint(fields=["proposal", "deputy"], name="cosigner_once")]

    def __str__(self) -> str:
        return f"{self.deputy_id} on {self.proposal_id} ({self.status})"


class Attachment(models.Model):
    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(_("file"), upload_to="proposals/%Y/%m/")
    name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveIntegerField(_("size in bytes"))
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        app_label = "proposals"
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name
