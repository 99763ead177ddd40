"""The indexing outbox: one row per object whose search document must be refreshed.

Written in the same transaction as the change itself, so a change is never forgotten, even when the
engine, the broker or the worker is down at that moment; drained by a Celery task queued on commit
and by a periodic sweep (``search.tasks``).
"""

from __future__ import annotations

from typing import Any

from django.db import models, transaction
from django.utils.translation import gettext_lazy as _

from search.synonyms import bump_stamp


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


class Synonym(models.Model):
    """A group of terms that mean the same thing (同义词), kept by office staff; joins the built-in ones.

    Live on the next query of every process (``search.synonyms``): saving or deleting a row bumps a stamp.
    """

    terms = models.CharField(
        _("terms"),
        max_length=500,
        help_text=_("Two or more terms that mean the same thing, separated by commas, 、 or spaces."),
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("synonym group")
        verbose_name_plural = _("synonyms (同义词库)")
        ordering = ["terms"]

    def __str__(self) -> str:
        return self.terms

    def save(self, *args: Any, **kwargs: Any) -> None:
        super().save(*args, **kwargs)
        transaction.on_commit(bump_stamp)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        deleted = super().delete(*args, **kwargs)
        transaction.on_commit(bump_stamp)
        return deleted
