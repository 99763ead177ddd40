"""Consultation periods, expert presence, consultations and transfers."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

USER = settings.AUTH_USER_MODEL


class ConsultationPeriod(models.Model):
    """A period when bureaus and experts are on duty (e.g. 2027年两会在线咨询, 9:00–17:00)."""

    name = models.CharField(_("name"), max_length=100)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    bureaus = models.ManyToManyField("consult.Bureau", related_name="duty_periods", verbose_name=_("bureaus on duty"))
    experts = models.ManyToManyField(
        "consult.ExpertProfile", related_name="duty_periods", blank=True, verbose_name=_("experts on duty")
    )
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")

    class Meta:
        app_label = "consult"
        verbose_name = _("consultation period")
        verbose_name_plural = _("consultation periods")
        ordering = ["-starts_at"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")), name="period_ends_after_start")
        ]

    def __str__(self) -> str:
        return self.name


class PresenceStatus(models.TextChoices):
    ONLINE = "online", _("Online")  # 在线
    AWAY = "away", _("Away")  # 暂离
    OFFLINE = "offline", _("Offline")  # 离线


class ExpertPresence(models.Model):
    """Whether an expert can take consultations now: their chosen status and their live connections.

    "Busy" is not stored: an online expert with no free capacity is busy.
    """

    expert = models.OneToOneField(
        "consult.ExpertProfile", on_delete=models.CASCADE, primary_key=True, related_name="presence"
    )
    status = models.CharField(_("status"), max_length=8, choices=PresenceStatus.choices, default=PresenceStatus.OFFLINE)
    connections = models.PositiveIntegerField(_("live connections"), default=0)
    last_seen = models.DateTimeField(_("last seen"), null=True, blank=True)
    last_assigned_at = models.DateTimeField(_("last assigned at"), null=True, blank=True)

    class Meta:
        app_label = "consult"
        verbose_name = _("expert presence")
        verbose_name_plural = _("expert presence")

    def __str__(self) -> str:
        return f"{self.expert} {self.status}"


class ConsultationStatus(models.TextChoices):
    QUEUED = "queued", _("Waiting")  # 排队中
    ACTIVE = "active", _("In progress")  # 咨询中
    ENDED = "ended", _("Ended")  # 已结束


class Outcome(models.TextChoices):
    ANSWERED = "answered", _("Answered on the spot")  # 当场答复
    FOLLOW_UP = "follow_up", _("Needs follow-up")  # 需跟进
    PROPOSAL = "proposal", _("Becomes a proposal")  # 转为建议


class Consultation(models.Model):
    """One deputy consulting one bureau; an expert takes it (or the deputy named one, 点将)."""

    deputy = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="consultations")
    bureau = models.ForeignKey("consult.Bureau", on_delete=models.PROTECT, related_name="consultations")
    expert = models.ForeignKey(
        "consult.ExpertProfile", on_delete=models.PROTECT, null=True, blank=True, related_name="consultations"
    )
    requested_expert = models.ForeignKey(
        "consult.ExpertProfile", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    topic = models.CharField(_("topic"), max_length=200)
    proposal = models.ForeignKey(
        "proposals.Proposal", on_delete=models.SET_NULL, null=True, blank=True, related_name="consultations"
    )
    period = models.ForeignKey(ConsultationPeriod, on_delete=models.SET_NULL, null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=8, choices=ConsultationStatus.choices, default=ConsultationStatus.QUEUED
    )
    created_at = models.DateTimeField(_("created at"))
    assigned_at = models.DateTimeField(_("assigned at"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    ended_by = models.ForeignKey(USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices, blank=True)
    outcome_note = models.TextField(_("outcome note"), blank=True)
    rating = models.PositiveSmallIntegerField(_("rating"), null=True, blank=True)  # 1–5
    rating_comment = models.CharField(_("rating comment"), max_length=500, blank=True)
    last_seq = models.PositiveIntegerField(_("last message number"), default=0)

    class Meta:
        app_label = "consult"
        verbose_name = _("consultation")
        verbose_name_plural = _("consultations")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["bureau", "status", "created_at"], name="consultation_queue_idx"),
            models.Index(fields=["expert", "status"], name="consultation_expert_idx"),
            models.Index(fields=["deputy", "created_at"], name="consultation_deputy_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5), name="rating_1_to_5"
            ),
            models.CheckConstraint(
                condition=~Q(status=ConsultationStatus.ACTIVE) | Q(expert__isnull=False),
                name="active_consultation_has_expert",
            ),
        ]

    def __str__(self) -> str:
        return self.topic


class ConsultationTransfer(models.Model):
    """An expert hands a consultation to a colleague or another bureau, with a note seen in the thread."""

    consultation = models.ForeignKey(Consultation, on_delete=models.CASCADE, related_name="transfers")
    from_expert = models.ForeignKey("consult.ExpertProfile", on_delete=models.PROTECT, related_name="+")
    to_bureau = models.ForeignKey("consult.Bureau", on_delete=models.PROTECT, related_name="+")
    to_expert = models.ForeignKey(
        "consult.ExpertProfile", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    note = models.CharField(_("note"), max_length=500)
    at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        app_label = "consult"
        verbose_name = _("transfer")
        verbose_name_plural = _("transfers")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.consultation_id} → {self.to_bureau}"
