"""Live events of people and notifications (``/ws/live/``, topic ``user.<id>``)."""

from __future__ import annotations

from typing import Any, TypedDict

from consult.realtime.catalogue import declare


class NotificationNew(TypedDict):
    id: int
    kind: str
    title: str
    params: dict[str, Any]
    url: str
    unread: int


class NotificationRead(TypedDict):
    unread: int


NOTIFICATION_NEW = declare(
    "notification.new", socket="live", topic="user", payload=NotificationNew, doc="a new in-app notification"
)
NOTIFICATION_READ = declare(
    "notification.read", socket="live", topic="user", payload=NotificationRead, doc="notifications were marked read"
)
