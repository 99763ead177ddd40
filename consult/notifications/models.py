"""In-app notifications (站内通知) and each person's choice of which ones reach them, and how."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from consult.notifications.kinds import render_title
from consult.people.models import User
from consult.people.selectors import NotificationQuerySet


class Notification(models.Model):
    """An in-app notification: something the user must act on or should know (站内通知).

    Stored as ``kind`` + ``params`` and worded when read (``text``), in the reader's language; ``title`` keeps
    the wording of the moment it was written, for kinds this version does not know.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(_("kind"), max_length=40)
    title = models.CharField(_("title"), max_length=200)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    url = models.CharField(_("link"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at"], name="notification_unread_idx")]

    def __str__(self) -> str:
        return self.text

    @property
    def text(self) -> str:
        """The title in the active language."""
        params: dict[str, Any] = self.params if isinstance(self.params, dict) else {}
        return render_title(self.kind, params, self.title)


class NotificationPreference(models.Model):
    """Which families of notification a person wants, and which channels besides the app (通知设置).

    No row means the defaults: every family, email when the deployment sends email, the webhook when one is
    configured, no digest.
    """

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="notification_preference")
    muted = models.JSONField(_("families turned off"), default=list, blank=True)
    email = models.BooleanField(_("email each notification"), default=True)
    webhook = models.BooleanField(_("SMS / messaging app"), default=True)
    digest = models.BooleanField(_("daily digest by email"), default=False)
    digest_sent_at = models.DateTimeField(_("last digest"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")

    def __str__(self) -> str:
        return str(self.user)
