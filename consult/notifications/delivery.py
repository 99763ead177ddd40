"""Where a notification goes besides its row: one small interface, a registry of channels chosen by settings.

- ``inapp``: the row is the record; the live event ``notification.new`` tells open pages at once.
- ``email``: Django's email backend (console in development, locmem in tests), one mail per notification,
  sent by a Celery task after commit (``EMAIL_NOTIFICATIONS``); people who chose the daily digest get one
  mail a day instead (``send_digest``).
- ``webhook``: for SMS gateways and government messaging apps (政务微信, 钉钉...): a JSON payload POSTed to
  ``NOTIFICATION_WEBHOOK_URL``, signed with HMAC-SHA256 over ``"<timestamp>.<body>"`` with
  ``NOTIFICATION_WEBHOOK_SECRET`` (headers ``X-Consult-Timestamp``, ``X-Consult-Signature: sha256=<hex>``),
  retried by Celery with exponential backoff while the receiver is down or answers 5xx/408/429.

A channel decides from a person's preferences whether it wants a notification, and schedules its work for
after the commit. A new channel is a class with ``name``, ``wanted`` and ``deliver``, passed to ``register``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from consult.models import Notification, User
from consult.notifications.live_events import NOTIFICATION_NEW
from consult.realtime.catalogue import publish


@dataclass(frozen=True)
class Preferences:
    """A person's choices (``NotificationPreference``, or the defaults when they never chose)."""

    muted: frozenset[str] = frozenset()
    email: bool = True
    webhook: bool = True
    digest: bool = False


class Channel(Protocol):
    name: str

    def wanted(self, preferences: Preferences) -> bool: ...

    def deliver(self, notifications: Sequence[Notification], unread: dict[int, int]) -> None:
        """Called inside the writing transaction: schedule the sending for after the commit."""


_CHANNELS: dict[str, Channel] = {}


def register(channel: Channel) -> Channel:
    _CHANNELS[channel.name] = channel
    return channel


def channels() -> list[Channel]:
    return list(_CHANNELS.values())


# --- in-app ---------------------------------------------------------------------------------------


class InAppChannel:
    name = "inapp"

    def wanted(self, preferences: Preferences) -> bool:
        return True

    def deliver(self, notifications: Sequence[Notification], unread: dict[int, int]) -> None:
        for notification in notifications:
            payload = {
                "id": notification.pk,
                "kind": notification.kind,
                "title": notification.text,
                "params": notification.params,  # each socket words the title in its reader's language
                "url": notification.url,
                "unread": unread[notification.user_id],
            }
            publish(NOTIFICATION_NEW, notification.user_id, payload)


# --- email ------------------------------------------------------------------------------------------


def absolute(url: str) -> str:
    return f"{settings.NOTIFICATION_SITE_URL.rstrip('/')}{url}" if url.startswith("/") else url


class EmailChannel:
    name = "email"

    def wanted(self, preferences: Preferences) -> bool:
        return bool(settings.EMAIL_NOTIFICATIONS) and preferences.email and not preferences.digest

    def deliver(self, notifications: Sequence[Notification], unread: dict[int, int]) -> None:
        if not notifications:
            return
        from consult.tasks import email_notifications

        ids = [notification.pk for notification in notifications]
        transaction.on_commit(lambda: email_notifications.delay(ids))


def email_one(notification: Notification) -> bool:
    """Mail one notification to its user, in the site's language. False when they have no address."""
    if not notification.user.email:
        return False
    with translation.override(settings.LANGUAGE_CODE):
        title = notification.text
        send_mail(
            title, f"{title}\n{absolute(notification.url)}", settings.DEFAULT_FROM_EMAIL, [notification.user.email]
        )
    return True


def send_digest(user: User, notifications: Sequence[Notification]) -> bool:
    """One mail listing ``notifications`` (the day's unread ones). False when there is nothing or no address."""
    if not notifications or not user.email:
        return False
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("Consult: %(n)d unread notifications") % {"n": len(notifications)}
        lines = [f"- {n.text}\n  {absolute(n.url)}" if n.url else f"- {n.text}" for n in notifications]
        send_mail(subject, "\n".join(lines), settings.DEFAULT_FROM_EMAIL, [user.email])
    return True


# --- webhook ----------------------------------------------------------------------------------------


class WebhookFailed(Exception):
    """The receiver is down or answered 5xx/408/429: worth retrying."""


class WebhookRefused(Exception):
    """The receiver answered another 4xx: retrying would not help."""


class WebhookChannel:
    name = "webhook"

    def wanted(self, preferences: Preferences) -> bool:
        return bool(settings.NOTIFICATION_WEBHOOK_URL) and preferences.webhook

    def deliver(self, notifications: Sequence[Notification], unread: dict[int, int]) -> None:
        from consult.tasks import deliver_webhook

        for notification_id in [notification.pk for notification in notifications]:
            transaction.on_commit(lambda pk=notification_id: deliver_webhook.delay(pk))  # type: ignore[misc]


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=`` and the hex HMAC-SHA256 of ``"<timestamp>.<body>"`` under the shared secret."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def webhook_body(notification: Notification) -> bytes:
    user = notification.user
    with translation.override(settings.LANGUAGE_CODE):
        payload = {
            "id": notification.pk,
            "kind": notification.kind,
            "title": notification.text,
            "url": absolute(notification.url),
            "created_at": notification.created_at.isoformat(),
            "user": {"id": user.pk, "username": user.username, "name": user.get_full_name(), "email": user.email},
        }
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def post_webhook(notification_id: int) -> int:
    """POST one notification to the webhook, signed. Returns the HTTP status; raises to retry or give up."""
    notification = Notification.objects.select_related("user").filter(pk=notification_id).first()
    url = settings.NOTIFICATION_WEBHOOK_URL
    if notification is None or not url:
        return 0
    if not url.startswith(("https://", "http://")):
        raise WebhookRefused("NOTIFICATION_WEBHOOK_URL must be an http(s) address")
    body = webhook_body(notification)
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "X-Consult-Timestamp": timestamp,
        "X-Consult-Signature": sign(settings.NOTIFICATION_WEBHOOK_SECRET, timestamp, body),
        "X-Consult-Delivery": str(notification.pk),  # the receiver drops a retry it already has
    }
    # The scheme is checked above (S310: never file: or a custom scheme).
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=settings.NOTIFICATION_WEBHOOK_TIMEOUT) as response:  # noqa: S310
            return int(response.status)
    except urllib.error.HTTPError as answered:
        if answered.code >= 500 or answered.code in (408, 429):
            raise WebhookFailed(f"webhook answered {answered.code}") from None
        raise WebhookRefused(f"webhook answered {answered.code}") from None
    except OSError as down:  # refused, reset, timed out, name not found
        raise WebhookFailed(f"webhook unreachable: {down}") from None


def backoff(retries: int) -> int:
    """Seconds before retry number ``retries + 1``: 30 s, 1 min, 2 min ... at most an hour."""
    return int(min(3600, settings.NOTIFICATION_WEBHOOK_BACKOFF * 2**retries))


register(InAppChannel())
register(EmailChannel())
register(WebhookChannel())
