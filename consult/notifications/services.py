"""In-app notifications (站内通知): written with the change that causes them, pushed live on commit.

Email is optional (``EMAIL_NOTIFICATIONS``) and sent by a Celery task after commit.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from consult.models import Notification, User
from consult.notifications.live_events import NOTIFICATION_NEW, NOTIFICATION_READ
from consult.realtime.catalogue import publish


def notify(user_ids: Iterable[int], *, kind: str, title: str, url: str = "") -> list[Notification]:
    """Tell each user (once, even if listed twice) that something needs them."""
    unique_ids = sorted(set(user_ids))
    created = Notification.objects.bulk_create(
        [Notification(user_id=user_id, kind=kind, title=title[:200], url=url) for user_id in unique_ids]
    )
    for user_id in unique_ids:
        publish(NOTIFICATION_NEW, user_id, {"kind": kind, "title": title, "url": url, "unread": unread_count(user_id)})
    if settings.EMAIL_NOTIFICATIONS and unique_ids:
        from consult.tasks import email_notifications

        ids = [notification.pk for notification in created]
        transaction.on_commit(lambda: email_notifications.delay(ids))
    return created


def unread_count(user_id: int) -> int:
    return Notification.objects.filter(user_id=user_id, read_at__isnull=True).count()


@transaction.atomic
def mark_read(*, actor: User, notification_ids: Iterable[int] | None = None) -> int:
    """Mark the actor's own notifications read (all of them when no ids are given)."""
    mine = Notification.objects.visible_to(actor).filter(read_at__isnull=True)
    if notification_ids is not None:
        mine = mine.filter(pk__in=list(notification_ids))
    changed = mine.update(read_at=timezone.now())
    publish(NOTIFICATION_READ, actor.pk, {"unread": unread_count(actor.pk)})
    return changed
