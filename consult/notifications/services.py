"""In-app notifications (站内通知): written with the change that causes them, delivered on commit.

- ``notify(user_ids, kind=..., params=..., url=...)``: the one way to tell people something needs them. The
  caller has already filtered ``user_ids`` through its domain's access policy (proposals: ``tell`` asks
  ``proposals.access.who_may_see``; the desk: ``consult.desk.access.can_read``). People who turned the kind's
  family off get nothing; the others get a row, and each channel (``delivery``) they want gets it after commit.
- ``open_notification``: reading one (a click on the page, or the API) marks it read and gives its link.
- ``mark_read``: some or all of one's own.
- ``set_preferences``: which families, which channels, the daily digest.
- ``send_digests``: the daily mail of what is still unread, for those who chose it (a Celery beat task).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from consult.kernel.exceptions import InvalidInput, NotFound
from consult.models import Notification, NotificationPreference, User
from consult.notifications import delivery
from consult.notifications.delivery import Preferences
from consult.notifications.kinds import FAMILY_KEYS, family_of, render_title
from consult.notifications.live_events import NOTIFICATION_READ
from consult.realtime.catalogue import publish


def notify(
    user_ids: Iterable[int], *, kind: str, title: str = "", url: str = "", params: Mapping[str, Any] | None = None
) -> list[Notification]:
    """Tell each user (once, even if listed twice) that something needs them; returns the rows written.

    ``params`` word the title when it is read (``kinds.render_title``); ``title`` is the stored fallback, and
    is worded from ``params`` in the site's language when left out.
    """
    stored = dict(params or {})
    if not title:
        with translation.override(settings.LANGUAGE_CODE):
            title = render_title(kind, stored, kind)
    family = family_of(kind)
    choices = preferences_of(set(user_ids))
    wanting = sorted(user_id for user_id, chosen in choices.items() if family not in chosen.muted)
    created = Notification.objects.bulk_create(
        [Notification(user_id=user_id, kind=kind, title=title[:200], url=url, params=stored) for user_id in wanting]
    )
    if not created:
        return created
    unread = dict(
        Notification.objects.filter(user_id__in=wanting, read_at__isnull=True)
        .values_list("user_id")
        .annotate(n=Count("pk"))
    )
    for channel in delivery.channels():
        channel.deliver([n for n in created if channel.wanted(choices[n.user_id])], unread)
    return created


def preferences_of(user_ids: Iterable[int]) -> dict[int, Preferences]:
    """Each user's choices, the defaults for those who never chose."""
    ids = set(user_ids)
    chosen = {
        row.user_id: Preferences(
            muted=frozenset(row.muted if isinstance(row.muted, list) else []),
            email=row.email,
            webhook=row.webhook,
            digest=row.digest,
        )
        for row in NotificationPreference.objects.filter(user_id__in=ids)
    }
    return {user_id: chosen.get(user_id, Preferences()) for user_id in ids}


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


@transaction.atomic
def open_notification(*, actor: User, notification_id: int) -> Notification:
    """The actor opens one of their notifications: it is read from now on. Someone else's is not found."""
    notification: Notification | None = (
        Notification.objects.visible_to(actor).select_for_update().filter(pk=notification_id).first()
    )
    if notification is None:
        raise NotFound(_("no such notification"))
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
        publish(NOTIFICATION_READ, actor.pk, {"unread": unread_count(actor.pk)})
    return notification


@dataclass(frozen=True)
class PreferenceChange:
    muted: list[str] | None = None
    email: bool | None = None
    webhook: bool | None = None
    digest: bool | None = None


@transaction.atomic
def set_preferences(*, actor: User, change: PreferenceChange) -> NotificationPreference:
    """Change the actor's own choices; what ``change`` leaves out (None) stays as it was."""
    if change.muted is not None:
        unknown = sorted(set(change.muted) - FAMILY_KEYS)
        if unknown:
            raise InvalidInput(
                _("unknown kind of notification: %(kinds)s") % {"kinds": ", ".join(unknown)}, field="muted"
            )
    preference, _created = NotificationPreference.objects.select_for_update().get_or_create(user=actor)
    if change.muted is not None:
        preference.muted = sorted(set(change.muted))
    for name in ("email", "webhook", "digest"):
        value = getattr(change, name)
        if value is not None:
            setattr(preference, name, value)
    preference.save()
    return preference


def preference_row(user: User) -> NotificationPreference:
    """The actor's choices as a row (unsaved defaults when they never chose)."""
    row: NotificationPreference | None = NotificationPreference.objects.filter(user=user).first()
    return row or NotificationPreference(user=user)


def send_digests(now: datetime | None = None) -> int:
    """Mail each person who chose the digest what is unread since their last one (a day at most). Returns mails sent."""
    moment = now or timezone.now()
    sent = 0
    chosen = NotificationPreference.objects.filter(digest=True, user__is_active=True).exclude(user__email="")
    for preference in chosen.select_related("user").iterator(chunk_size=200):
        since = max(preference.digest_sent_at or moment - timedelta(days=1), moment - timedelta(days=1))
        unread = list(
            Notification.objects.filter(Q(created_at__gt=since) & Q(created_at__lte=moment))
            .filter(user_id=preference.user_id, read_at__isnull=True)
            .order_by("created_at", "id")[: settings.NOTIFICATION_DIGEST_MAX]
        )
        if delivery.send_digest(preference.user, unread):
            sent += 1
        NotificationPreference.objects.filter(pk=preference.pk).update(digest_sent_at=moment)
    return sent
