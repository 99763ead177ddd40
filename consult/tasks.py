"""Celery tasks of the consult app."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail

from consult.models import Notification


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def email_notifications(notification_ids: list[int]) -> int:
    """Email notifications to users who have an address. Retried with backoff when the mail server is down."""
    sent = 0
    for notification in Notification.objects.filter(pk__in=notification_ids).select_related("user"):
        if notification.user.email:
            body = f"{notification.title}\n{notification.url}"
            send_mail(notification.title, body, settings.DEFAULT_FROM_EMAIL, [notification.user.email])
            sent += 1
    return sent


@shared_task
def route_waiting_consultations() -> int:
    """The desk's safety net: route any consultation still waiting while an expert is free."""
    from consult.desk.services import route_waiting

    return route_waiting()
