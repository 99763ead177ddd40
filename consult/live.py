"""Live events: who may listen to what, and publishing after commit.

A client on ``/ws/live/`` is always subscribed to its own ``user.<id>`` group and may
subscribe to more topics (``bureau.<id>`` now; proposals and consultations register
theirs). Each topic has one check, registered here, deciding who may subscribe. Group
names are never secrets: knowing one grants nothing without passing its check.

Services call :func:`publish`, which sends only once the surrounding transaction has
committed, so nobody hears of a change that was rolled back.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from consult.selectors import bureau_id_of, is_office

if TYPE_CHECKING:
    from consult.models import User

logger = logging.getLogger(__name__)

PROTOCOL_VERSION = 1
KEY_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

TopicCheck = Callable[["User", str], bool]
_topic_checks: dict[str, TopicCheck] = {}


def register_topic(topic: str, check: TopicCheck) -> None:
    """Declare a topic and the one function that decides who may subscribe to it."""
    _topic_checks[topic] = check


def known_topics() -> frozenset[str]:
    return frozenset(_topic_checks)


def group_name(topic: str, key: str) -> str:
    return f"live.{topic}.{key}"


def can_subscribe(user: User, topic: str, key: str) -> bool:
    check = _topic_checks.get(topic)
    if check is None or not KEY_PATTERN.match(key) or not user.is_authenticated:
        return False
    return check(user, key)


def publish(topic: str, key: str | int, event_type: str, payload: dict[str, Any]) -> None:
    """Send ``event_type`` to everyone subscribed to ``topic.key`` once the transaction commits."""
    message = {
        "type": "live.event",
        "event": {"v": PROTOCOL_VERSION, "type": event_type, "topic": topic, "key": str(key), "data": payload},
    }
    transaction.on_commit(lambda: _send(group_name(topic, str(key)), message))


def _send(group: str, message: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group, message)
    except Exception:
        # The channel layer is a notification bus, never the record: a lost event is
        # recovered by clients re-reading state, so a Redis hiccup must not fail a request.
        logger.exception("live event to %s could not be sent", group)


def _own_user(user: User, key: str) -> bool:
    return str(user.pk) == key


def _bureau_member_or_office(user: User, key: str) -> bool:
    if is_office(user):
        return True
    bureau_id = bureau_id_of(user)
    return bureau_id is not None and str(bureau_id) == key


def _consultation_reader(user: User, key: str) -> bool:
    from consult.desk.access import can_read
    from consult.models import Consultation

    consultation = Consultation.objects.select_related("expert").filter(pk=int(key)).first() if key.isdigit() else None
    return consultation is not None and can_read(user, consultation)


def register_builtin_topics() -> None:
    register_topic("user", _own_user)
    register_topic("bureau", _bureau_member_or_office)
    register_topic("consultation", _consultation_reader)
