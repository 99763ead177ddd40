"""Celery tasks of the consult app."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.conf import settings

from consult.models import Notification
from consult.notifications.delivery import WebhookFailed, backoff, email_one, post_webhook
from consult.notifications.services import send_digests


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def email_notifications(notification_ids: list[int]) -> int:
    """Email notifications to users who have an address. Retried with backoff when the mail server is down."""
    notifications = Notification.objects.filter(pk__in=notification_ids).select_related("user")
    return sum(email_one(notification) for notification in notifications)


@shared_task(bind=True, max_retries=None)
def deliver_webhook(self: Any, notification_id: int) -> int:
    """POST one notification to the webhook (SMS / messaging app); retried with exponential backoff."""
    try:
        return post_webhook(notification_id)
    except WebhookFailed as failed:
        if self.request.retries >= settings.NOTIFICATION_WEBHOOK_RETRIES:
            raise
        raise self.retry(exc=failed, countdown=backoff(self.request.retries)) from None


@shared_task
def send_notification_digests() -> int:
    """The daily digest mail, for those who chose it."""
    return send_digests()


@shared_task
def route_waiting_consultations() -> int:
    """The desk's safety net: route any consultation still waiting while an expert is free."""
    from consult.desk.services import route_waiting

    return route_waiting()
