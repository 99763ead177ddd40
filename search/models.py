"""The indexing outbox: one row per object whose search document must be refreshed.

Written in the same transaction as the change itself, so a change is never forgotten, even when the
engine, the broker or the worker is down at that moment; drained by a Celery task queued on commit
and by a periodic sweep (``search.tasks``).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class PendingChange(models.Model):
    label = models.CharField(_("document type"), max_length=32)  # a doc type or an expansion label
    object_id = models.BigIntegerField(_("object id"))
    queued_at = models.DateTimeField(_("queued at"))
    attempts = models.PositiveIntegerField(_("failed attempts"), default=0)

    class Meta:
        verbose_name = _("pending search change")
        verbose_name_plural = _("pending search changes")
        constraints = [models.UniqueConstraint(fields=["label", "object_id"], name="search_pending_unique")]
        indexes = [models.Index(fields=["queued_at"], name="search_pending_queued")]

    def __str__(self) -> str:
        return f"{self.label}:{self.object_id}"
